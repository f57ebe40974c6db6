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


def ewm(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """Exponential filter y = alpha*x + (1-alpha)*y[-1], seeded with the mean of the first `period` values.

    The first period-1 outputs are NaN. scipy's lfilter runs the recursion with the same arithmetic as
    the live state, so the two agree to the last bit.
    """
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    seed = math.fsum(values[:period].tolist()) / period
    out[period - 1] = seed
    if len(values) > period:
        from scipy.signal import lfilter  # imported on first use: scipy.signal costs ~1 s at terminal start-up

        beta = 1.0 - alpha
        out[period:] = lfilter([alpha], [1.0, -beta], values[period:], zi=[beta * seed])[0]
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
