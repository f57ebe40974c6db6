"""Parameter sweeps: one backtest per point of a grid, spread over worker processes.

Spawn-safe: workers start with the "spawn" method (no fork of a Qt process), receive the strategy as
a script path and class name (never a class object) and the data once each, in the pool's
initializer; every point is a plain dict of parameters. Rows come back in grid order and are then
sorted by the chosen metric (best first; rows without a value last, in grid order).
"""
from __future__ import annotations

import inspect
import itertools
import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.domain import Instrument
from core.strategy import Param, Strategy, load_strategy_class

from .engine import Backtester, CancelFlag
from .results import Metrics

SORTABLE = frozenset(f.name for f in fields(Metrics)) | {"final_equity"}
RUN_OPTIONS = frozenset(p.name for p in inspect.signature(Backtester).parameters.values()
                        if p.kind is p.KEYWORD_ONLY) - {"progress", "cancel"}


@dataclass(frozen=True)
class SweepRow:
    """The outcome of one grid point. status is a RunStatus value, or "ERROR" if the run raised."""

    params: dict[str, Any]
    status: str
    metrics: Metrics | None
    final_equity: Decimal | None
    error: str = ""

    def value(self, metric: str) -> float:
        """The row's value of a metric (NaN when it has none)."""
        if metric == "final_equity":
            return float(self.final_equity) if self.final_equity is not None else math.nan
        return float(getattr(self.metrics, metric)) if self.metrics is not None else math.nan


@dataclass(frozen=True)
class _Job:
    strategy_path: str
    class_name: str | None
    instruments: list[Instrument]
    data: object
    options: dict[str, Any]


_job: _Job | None = None
_strategy: type[Strategy] | None = None


def grid_points(grid: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first parameter varying slowest."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def parse_grid(text: str, params: dict[str, Param[Any]]) -> dict[str, list[Any]]:
    """Parse "fast=5,10,20 slow=50,100" into typed value lists (each value through its Param's coerce).

    Raise ValueError naming the item at fault: not name=values, an undeclared parameter, a value the
    parameter refuses, or a parameter given twice.
    """
    grid: dict[str, list[Any]] = {}
    for item in text.split():
        name, sep, values = item.partition("=")
        if not sep or not name.isidentifier() or not values.strip(","):
            raise ValueError(f"{item!r} is not name=value,value,...")
        if name not in params:
            raise ValueError(f"{name!r} is not a parameter of this strategy ({', '.join(params) or 'it has none'})")
        if name in grid:
            raise ValueError(f"{name!r} is given twice")
        try:
            grid[name] = [params[name].coerce(v) for v in values.split(",") if v]
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    return grid


def sweep(strategy_path: str | Path, grid: dict[str, Sequence[Any]], data: object, instruments: Sequence[Instrument], *,
          class_name: str | None = None, metric: str = "sharpe", descending: bool = True, processes: int = 2,
          progress: Callable[[float], None] | None = None, cancel: CancelFlag | None = None,
          **options: Any) -> list[SweepRow]:
    """Backtest every point of grid and return the rows sorted by metric (see the module docstring).

    options are Backtester keyword arguments shared by every run (they must pickle); progress gets
    the fraction of points done, and cancel (checked after each point) stops the sweep, returning
    the rows finished so far.
    """
    if metric not in SORTABLE:
        raise ValueError(f"cannot sort by {metric!r}; choose one of {', '.join(sorted(SORTABLE))}")
    unknown = set(options) - RUN_OPTIONS
    if unknown:
        raise TypeError(f"not Backtester options for every run: {', '.join(sorted(unknown))}")
    job = _Job(str(strategy_path), class_name, list(instruments), data, options)
    load_strategy_class(Path(job.strategy_path), class_name)  # fail here, not in every worker
    points = grid_points(grid)
    rows: list[SweepRow] = []
    if processes <= 1 or len(points) <= 1:
        _init(job)
        for params in points:
            rows.append(_run_point(params))
            if _step(rows, len(points), progress, cancel):
                break
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(processes, len(points)), initializer=_init, initargs=(job,)) as pool:
            for row in pool.imap(_run_point, points):
                rows.append(row)
                if _step(rows, len(points), progress, cancel):
                    pool.terminate()
                    break
    return sorted(rows, key=lambda r: _rank(r.value(metric), descending))


def _step(rows: list[SweepRow], total: int, progress: Callable[[float], None] | None, cancel: CancelFlag | None) -> bool:
    if progress is not None:
        progress(len(rows) / total)
    return cancel is not None and cancel.is_set()


def _rank(value: float, descending: bool) -> tuple[bool, float]:
    if math.isnan(value):
        return True, 0.0
    return False, -value if descending else value


def _init(job: _Job) -> None:
    global _job, _strategy
    _job = job
    _strategy = load_strategy_class(Path(job.strategy_path), job.class_name)


def _run_point(params: dict[str, Any]) -> SweepRow:
    assert _job is not None and _strategy is not None
    try:
        result = Backtester(_strategy, params, _job.instruments, _job.data, **_job.options).run()
    except Exception as exc:  # one bad point (a parameter out of range) must not end the sweep
        return SweepRow(params, "ERROR", None, None, f"{type(exc).__name__}: {exc}")
    return SweepRow(params, result.status.value, result.metrics, result.final_equity, result.error)
