from __future__ import annotations

import logging
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from core.domain import InstrumentId, Tick, Venue
from core.strategy import Param, Strategy, StrategyState, load_strategy_class
from core.strategy.loader import StrategyLoadError
from core.strategy.runner import OrderPolicy, StrategyRunner

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


class Ctx:
    strategy_id = "s1"

    def __init__(self) -> None:
        self.log = logging.getLogger("test.strategy")
        self.calls: list[tuple[str, Any]] = []

    def cancel_all(self, instrument_id: Any = None) -> None:
        self.calls.append(("cancel_all", instrument_id))

    def buy(self, instrument_id: InstrumentId, quantity: D, price: D | None = None, **_: Any) -> None:
        self.calls.append(("buy", (instrument_id, quantity, price)))


class Counter(Strategy):
    threshold = Param(D("100"), "buy below this", minimum=D("0"))
    size = Param(1, "lots", minimum=1, maximum=10)
    verbose = Param(False)

    def on_start(self) -> None:
        self.seen = 0

    def on_tick(self, tick: Tick) -> None:
        self.seen += 1
        if tick.last_price is not None and tick.last_price < self.threshold:
            self.ctx.buy(tick.instrument_id, D(self.size))


class Broken(Strategy):
    def on_tick(self, tick: Tick) -> None:
        raise ZeroDivisionError("every tick")


def tick(price: str) -> Tick:
    return Tick(BTC, 0, last_price=D(price))


def test_params_are_typed_defaulted_and_checked() -> None:
    assert list(Counter.params()) == ["threshold", "size", "verbose"]
    s = Counter(Ctx(), size="3", verbose="yes")  # type: ignore[arg-type]
    assert s.size == 3 and s.verbose is True and s.threshold == D("100")
    with pytest.raises(ValueError, match="above the maximum 10"):
        Counter(Ctx(), size=11)
    with pytest.raises(ValueError, match="is not a int"):
        Counter(Ctx(), size="many")
    with pytest.raises(ValueError, match="unknown parameters: colour"):
        Counter(Ctx(), colour="red")


def test_runner_dispatches_only_while_running() -> None:
    ctx = Ctx()
    runner = StrategyRunner(Counter, ctx, {"threshold": "50"})
    runner.on_tick(tick("10"))
    assert ctx.calls == []  # not started
    runner.start()
    runner.on_tick(tick("10"))
    runner.on_tick(tick("60"))
    assert ctx.calls == [("buy", (BTC, D(1), None))]
    runner.pause()
    runner.on_tick(tick("10"))
    runner.resume()
    runner.on_tick(tick("10"))
    assert len([c for c in ctx.calls if c[0] == "buy"]) == 2
    runner.stop()
    assert runner.state is StrategyState.STOPPED and ctx.calls[-1] == ("cancel_all", None)
    runner.on_tick(tick("10"))
    assert len([c for c in ctx.calls if c[0] == "buy"]) == 2


def test_a_strategy_that_keeps_raising_is_stopped_and_its_orders_handled(caplog: pytest.LogCaptureFixture) -> None:
    ctx = Ctx()
    states: list[StrategyState] = []
    runner = StrategyRunner(Broken, ctx, max_errors=3, on_state=lambda r: states.append(r.state))
    runner.start()
    with caplog.at_level(logging.ERROR):
        for _ in range(10):
            runner.on_tick(tick("1"))
    assert runner.state is StrategyState.FAILED and runner.metrics.errors == 3
    assert "ZeroDivisionError: every tick" in runner.last_error and "every tick" in caplog.text
    assert ctx.calls == [("cancel_all", None)]
    assert states == [StrategyState.RUNNING, StrategyState.FAILED]


def test_keep_policy_leaves_orders() -> None:
    ctx = Ctx()
    runner = StrategyRunner(Counter, ctx, order_policy=OrderPolicy.KEEP)
    runner.start()
    runner.stop()
    assert ctx.calls == []


def test_bad_params_fail_the_start_without_raising() -> None:
    runner = StrategyRunner(Counter, Ctx(), {"size": 0})
    runner.start()
    assert runner.state is StrategyState.FAILED and "below the minimum" in runner.last_error


def test_loader_finds_the_strategy_and_reports_bad_scripts(tmp_path: Path) -> None:
    script = tmp_path / "mine.py"
    script.write_text("from core.strategy import Strategy, Param\nclass Mine(Strategy):\n    n = Param(3)\n")
    cls = load_strategy_class(script)
    assert cls.__name__ == "Mine" and cls.params()["n"].default == 3
    script.write_text("from core.strategy import Strategy\nclass Mine(Strategy):\n    n = 4\n")
    assert load_strategy_class(script).n == 4  # type: ignore[attr-defined]  # reload sees the edit
    (tmp_path / "bad.py").write_text("def broken(:\n")
    with pytest.raises(StrategyLoadError, match="SyntaxError"):
        load_strategy_class(tmp_path / "bad.py")
    (tmp_path / "two.py").write_text("from core.strategy import Strategy\nclass A(Strategy): pass\nclass B(Strategy): pass\n")
    with pytest.raises(StrategyLoadError, match="found A, B"):
        load_strategy_class(tmp_path / "two.py")
    assert load_strategy_class(tmp_path / "two.py", "B").__name__ == "B"
