"""Shared pieces: input checks, the seeded exponential filter, window helpers and the live-state base."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Out = TypeVar("Out")


def as_float_array(values: Any) -> np.ndarray:
    """Return a 1-D float64 array of the input."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("indicator inputs must be one-dimensional")
    return array


def check_period(period: int, name: str = "period") -> None:
    if int(period) != period or period < 1:
        raise ValueError(f"{name} must be a positive integer, got {period!r}")


SCIPY_FROM = 50_000  # values: shorter series run the recursion in Python (~6 ms at this length)


def ewm(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """Exponential filter y = alpha*x + (1-alpha)*y[-1], seeded with the mean of the first `period` values.

    The first period-1 outputs are NaN. Both ways of running the recursion use the live state's arithmetic
    (alpha*x + beta*y, in that order), so batch and live agree to the last bit: a Python loop for series
    shorter than SCIPY_FROM, else scipy's lfilter. Importing scipy.signal takes 0.6 s; the loop spares the
    terminal that freeze when it opens its first chart (a few thousand bars).
    """
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    seed = math.fsum(values[:period].tolist()) / period
    out[period - 1] = seed
    tail = values[period:]
    if len(tail) >= SCIPY_FROM:
        from scipy.signal import lfilter

        out[period:] = lfilter([alpha], [1.0, -(1.0 - alpha)], tail, zi=[(1.0 - alpha) * seed])[0]
    elif len(tail):
        out[period:] = _recursion(tail, alpha, seed)
    return out


def _recursion(values: np.ndarray, alpha: float, seed: float) -> list[float]:
    beta, y, out = 1.0 - alpha, seed, []
    append = out.append
    for x in values.tolist():
        y = alpha * x + beta * y
        append(y)
    return out


def windows(values: np.ndarray, period: int) -> np.ndarray:
    """Trailing windows of `period` values, one row per complete window (a view, no copy)."""
    return sliding_window_view(values, period) if len(values) >= period else np.empty((0, period))


def on_valid_tail(fn: Callable[[np.ndarray], np.ndarray], values: np.ndarray) -> np.ndarray:
    """Apply fn to values after their leading NaNs, keeping those NaNs in place."""
    valid = np.flatnonzero(~np.isnan(values))
    out = np.full(len(values), np.nan)
    if len(valid):
        out[valid[0]:] = fn(values[valid[0]:])
    return out


class LiveIndicator(ABC, Generic[Out]):
    """Incremental form of an indicator for a live series whose last point changes until it closes.

    The state holds every point before the last one (committed) and the inputs of the last point.
    update() appends a point (committing the previous last one); replace_last() re-evaluates the last
    point from the committed state. Per call the cost is O(1) in the series length (a windowed
    indicator pays O(window) once per committed point). The outputs equal the batch function's
    values at the same index, NaN included.
    """

    def __init__(self) -> None:
        self._last: tuple[Any, ...] | None = None

    @abstractmethod
    def _evaluate(self, *inputs: Any) -> Out:
        """Return the output for a last point with these inputs, without changing the state."""

    @abstractmethod
    def _commit(self, *inputs: Any) -> None:
        """Fold a point with these inputs into the committed state."""

    def _push(self, *inputs: Any) -> Out:
        if self._last is not None:
            self._commit(*self._last)
        self._last = inputs
        return self._evaluate(*inputs)

    def _replace(self, *inputs: Any) -> Out:
        if self._last is None:
            raise ValueError("replace_last() before the first update()")
        self._last = inputs
        return self._evaluate(*inputs)
