from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqbt_helpers import BTC, EMA_PATH, spot

from core.backtest import Backtester, RateFees, grid_points, random_walk_bars, run_backtest, sweep
from core.strategy import load_strategy_class

DATA = random_walk_bars(BTC, "1m", 2000, seed=21)
OPTIONS = {"latency_ns": 10**8, "fee_model": RateFees(taker=D("0.001"))}


def test_grid_points_vary_the_first_parameter_slowest() -> None:
    assert grid_points({"a": [1, 2], "b": ["x", "y"]}) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"},
                                                          {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_sweep_over_a_2x2_grid_in_two_processes_matches_single_runs() -> None:
    progress: list[float] = []
    rows = sweep(EMA_PATH, {"fast": [5, 9], "slow": [21, 34]}, DATA, [spot(BTC)], metric="sharpe", processes=2,
                 progress=progress.append, **OPTIONS)
    assert len(rows) == 4 and progress == [0.25, 0.5, 0.75, 1.0]
    assert sorted((r.params["fast"], r.params["slow"]) for r in rows) == [(5, 21), (5, 34), (9, 21), (9, 34)]
    sharpes = [r.value("sharpe") for r in rows]
    assert sharpes == sorted(sharpes, reverse=True) and all(r.status == "COMPLETED" for r in rows)
    best = rows[0]
    alone = run_backtest(EMA_PATH, best.params, [spot(BTC)], DATA, **OPTIONS)  # type: ignore[arg-type]
    assert alone.final_equity == best.final_equity and alone.metrics == best.metrics


def test_inline_sweep_sorts_ascending_and_reports_failed_points() -> None:
    rows = sweep(EMA_PATH, {"fast": [5, 40], "slow": [21]}, DATA, [spot(BTC)], metric="max_drawdown",
                 descending=False, processes=1, **OPTIONS)
    failed = [r for r in rows if r.status == "FAILED"]
    assert len(failed) == 1 and failed[0].params == {"fast": 40, "slow": 21}  # on_start refuses fast >= slow
    assert "fast_ema" in failed[0].error  # the runner keeps the last of the errors that stopped it
    ok = next(r for r in rows if r.status == "COMPLETED")
    cls = load_strategy_class(EMA_PATH)
    alone = Backtester(cls, {"fast": 5, "slow": 21}, [spot(BTC)], DATA, **OPTIONS).run()  # type: ignore[arg-type]
    assert ok.final_equity == alone.final_equity


def test_sweep_refuses_an_unknown_metric_and_per_run_callbacks() -> None:
    with pytest.raises(ValueError, match="cannot sort by"):
        sweep(EMA_PATH, {"fast": [5]}, DATA, [spot(BTC)], metric="luck")
    with pytest.raises(TypeError, match="latency"):
        sweep(EMA_PATH, {"fast": [5]}, DATA, [spot(BTC)], latency=5)
