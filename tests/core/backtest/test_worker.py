"""Backtests and script reads in a spawned process: progress through a multiprocessing queue, cancel
through an Event, a hung or dying script reported instead of hanging the caller; grid parsing."""
from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqbt_helpers import BTC, EMA_PATH, spot

from core.backtest import Backtester, BacktestJob, ProcessTask, RunStatus, StrategyInfo, parse_grid, random_walk_bars
from core.strategy import Param, load_strategy_class


def finish(task: ProcessTask, timeout: float = 60.0) -> list[float]:
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while not task.poll():
        assert time.monotonic() < deadline, "the task did not finish"
        if not seen or task.progress != seen[-1]:
            seen.append(task.progress)
        time.sleep(0.01)
    return seen


def test_progress_arrives_in_order_and_the_result_equals_an_in_process_run() -> None:
    data = random_walk_bars(BTC, "1m", 8_000, seed=3)
    params = {"fast": 5, "slow": 13}
    task = ProcessTask.backtest(BacktestJob(str(EMA_PATH), params, [spot(BTC)], data)).start()
    seen = finish(task)
    assert task.error == "" and task.progress == 1.0
    assert seen == sorted(seen) and len(set(seen)) <= 102
    result = task.result
    local = Backtester(load_strategy_class(EMA_PATH), params, [spot(BTC)], data).run()
    assert result.status is RunStatus.COMPLETED and result.final_equity == local.final_equity
    assert [(f.side, f.price) for f in result.fills] == [(f.side, f.price) for f in local.fills]


def test_cancel_returns_what_was_replayed() -> None:
    data = random_walk_bars(BTC, "1m", 300_000, seed=4)
    task = ProcessTask.backtest(BacktestJob(str(EMA_PATH), {}, [spot(BTC)], data)).start()
    deadline = time.monotonic() + 60
    while task.progress == 0 and not task.poll():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    task.cancel()
    finish(task)
    assert task.result.status is RunStatus.CANCELLED and 0 < task.result.units < 300_000


def test_describe_reads_the_declarations_and_a_broken_script_is_an_error(tmp_path: Path) -> None:
    info_task = ProcessTask.describe(EMA_PATH).start()
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('no such thing')\n")
    error_task = ProcessTask.backtest(BacktestJob(str(broken), {}, [spot(BTC)], random_walk_bars(BTC, "1m", 10, seed=1))).start()
    finish(info_task)
    finish(error_task)
    info = info_task.result
    assert isinstance(info, StrategyInfo) and info.class_name == "EmaCrossover" and info.instruments == ("BTCUSDT.BINANCE",)
    assert list(info.params) == ["fast", "slow", "size", "stop_pct", "tick"] and info.params["fast"].default == 9
    assert error_task.result is None and "no such thing" in error_task.error


def test_a_hung_script_is_terminated_after_cancel_and_a_dying_one_is_reported(tmp_path: Path) -> None:
    hung = tmp_path / "hung.py"
    hung.write_text("while True:\n    pass\n")
    dying = tmp_path / "dying.py"
    dying.write_text("import os\nos._exit(3)\n")
    hung_task = ProcessTask.describe(hung, grace_s=0.3).start()
    dying_task = ProcessTask.describe(dying).start()
    finish(dying_task)
    assert "exit code 3" in dying_task.error
    hung_task.cancel()
    finish(hung_task)
    assert "terminated" in hung_task.error and hung_task.result is None


PARAMS = {"fast": Param(9, minimum=2), "slow": Param(21), "size": Param(D("0.01")), "on": Param(True)}


def test_parse_grid_types_the_values() -> None:
    assert parse_grid("fast=5,10,20 slow=50,100", PARAMS) == {"fast": [5, 10, 20], "slow": [50, 100]}
    assert parse_grid("size=0.01,0.02 on=yes,no", PARAMS) == {"size": [D("0.01"), D("0.02")], "on": [True, False]}
    assert parse_grid("", PARAMS) == {}


@pytest.mark.parametrize(("text", "message"), [("fast", "not name=value"), ("fast=", "not name=value"),
                                                ("speed=1", "not a parameter"), ("fast=1", "below the minimum"),
                                                ("fast=a", "not a int"), ("fast=3 fast=4", "given twice")])
def test_parse_grid_names_the_item_at_fault(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_grid(text, PARAMS)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(2, 10_000), min_size=1, max_size=8), st.lists(st.integers(-50, 50), min_size=1, max_size=8))
def test_parse_grid_round_trips_integer_lists(fast: list[int], slow: list[int]) -> None:
    text = f"fast={','.join(map(str, fast))} slow={','.join(map(str, slow))}"
    assert parse_grid(text, PARAMS) == {"fast": fast, "slow": slow}
