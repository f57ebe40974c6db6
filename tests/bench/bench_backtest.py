"""Backtest replay speed: the EMA crossover sample over a synthetic year of bars (50 ms latency, fees,
1-tick slippage), an idle strategy (the replay alone: building each bar, delivering it, marking
equity), and a reference that feeds prebuilt bars straight to the strategy (no venue, no book, no
accounting). Goals: the replay alone handles a year of 1-minute bars (525,600) in a few seconds;
each order then costs one round through the matching engine (order, quote, fill, reports), so a
strategy's run time grows with its order count (the EMA sample trades ~24,000 times a year on 1m)."""
from __future__ import annotations

import logging
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

from core.backtest import Backtester, RateFees, TickSlippage, random_walk_bars  # noqa: E402
from core.backtest.data import bar_feeds  # noqa: E402
from core.domain import Instrument, InstrumentId, InstrumentKind, Venue  # noqa: E402
from core.strategy import Strategy, load_strategy_class  # noqa: E402
from core.strategy.runner import StrategyRunner  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
INSTRUMENT = Instrument(BTC, InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.00001"), quote_currency="USDT",
                        base_currency="BTC")


class Idle(Strategy):
    """Receives every bar and never trades: the cost of the replay itself."""

    instruments = ("BTCUSDT.BINANCE",)


class NullContext:
    """Swallows orders: the reference runs the strategy with no venue behind it."""

    strategy_id = "reference"
    log = logging.getLogger("bench.reference")

    def buy(self, *args: object, **kwargs: object) -> None: ...
    def sell(self, *args: object, **kwargs: object) -> None: ...
    def record(self, name: str, value: float) -> None: ...
    def cancel_all(self, *args: object) -> None: ...


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    ema = load_strategy_class(ROOT / "resources" / "strategies" / "ema_crossover.py")
    rows: list[list[object]] = []
    for timeframe, count in (("15m", 365 * 96), ("1m", 365 * 1440)):
        data = random_walk_bars(BTC, timeframe, count, seed=1)
        options = {"latency_ns": 50_000_000, "fee_model": RateFees(Decimal("0.0002"), Decimal("0.001")),
                   "slippage_model": TickSlippage(1)}
        seconds, result = timed(lambda: Backtester(ema, {}, [INSTRUMENT], data, **options).run())  # type: ignore[arg-type]
        rows.append([f"EMA crossover, {timeframe} year", f"{count:,}", f"{seconds:.2f}", f"{count / seconds:,.0f}",
                     len(result.fills)])
        idle_s, _ = timed(lambda: Backtester(Idle, {}, [INSTRUMENT], data).run())
        rows.append([f"replay only (idle strategy), {timeframe}", f"{count:,}", f"{idle_s:.2f}",
                     f"{count / idle_s:,.0f}", 0])
        feed = bar_feeds(data, {BTC: INSTRUMENT})[0]
        bars = [feed.bar(i) for i in range(len(feed))]
        runner = StrategyRunner(ema, NullContext())  # type: ignore[arg-type]
        runner.start()
        ref_s, _ = timed(lambda: [runner.on_bar(b) for b in bars])
        rows.append([f"reference: strategy alone, {timeframe}", f"{count:,}", f"{ref_s:.2f}", f"{count / ref_s:,.0f}",
                     "-"])
        rows.append([f"backtester / reference, {timeframe}", "", f"{seconds / ref_s:.1f}x", "", ""])
    print_table(["run", "bars", "seconds", "bars/s", "fills"], rows)


if __name__ == "__main__":
    main()
