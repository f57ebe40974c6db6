"""Moving averages: simple, exponential (SMA-seeded) and linearly weighted."""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ._base import LiveIndicator, as_float_array, check_period, ewm, windows


def sma(values: Any, period: int) -> np.ndarray:
    """Simple moving average over `period` values (float64 running sums); the first period-1 are NaN."""
    check_period(period)
    x = as_float_array(values)
    out = np.full(len(x), np.nan)
    if len(x) >= period:
        ref = x[0]
        sums = np.concatenate(([0.0], np.cumsum(x - ref)))
        out[period - 1:] = (sums[period:] - sums[:-period]) / period + ref
    return out


def ema(values: Any, period: int, alpha: float | None = None) -> np.ndarray:
    """Exponential moving average, alpha = 2/(period+1) unless given (1/period is Wilder's smoothing).

    Seeded with the SMA of the first `period` values at index period-1; earlier values are NaN.
    """
    check_period(period)
    return ewm(as_float_array(values), period, 2.0 / (period + 1) if alpha is None else alpha)


def wma(values: Any, period: int) -> np.ndarray:
    """Linearly weighted moving average (weights 1..period, newest heaviest); the first period-1 are NaN."""
    check_period(period)
    x = as_float_array(values)
    out = np.full(len(x), np.nan)
    out[period - 1:] = windows(x, period) @ np.arange(1.0, period + 1) / (period * (period + 1) / 2)
    return out


class SmaState(LiveIndicator[float]):
    """Live SMA: the sum of the last period-1 committed values plus the live value."""

    def __init__(self, period: int) -> None:
        check_period(period)
        super().__init__()
        self.period = period
        self._window: deque[float] = deque(maxlen=period - 1)
        self._sum = 0.0
        self._count = 0

    def update(self, value: float) -> float:
        return self._push(value)

    def replace_last(self, value: float) -> float:
        return self._replace(value)

    def _evaluate(self, value: float) -> float:
        return math.nan if self._count + 1 < self.period else (self._sum + value) / self.period

    def _commit(self, value: float) -> None:
        self._count += 1
        if self.period > 1:
            self._window.append(value)
            self._sum = math.fsum(self._window)


class EmaState(LiveIndicator[float]):
    """Live EMA (or Wilder smoothing with alpha=1/period), seeded like ema()."""

    def __init__(self, period: int, alpha: float | None = None) -> None:
        check_period(period)
        super().__init__()
        self.period = period
        self.alpha = 2.0 / (period + 1) if alpha is None else alpha
        self._beta = 1.0 - self.alpha
        self._warmup: list[float] = []
        self._count = 0
        self._value = math.nan

    def update(self, value: float) -> float:
        return self._push(value)

    def replace_last(self, value: float) -> float:
        return self._replace(value)

    def _evaluate(self, value: float) -> float:
        seen = self._count + 1
        if seen < self.period:
            return math.nan
        if seen == self.period:
            return math.fsum([*self._warmup, value]) / self.period
        return self.alpha * value + self._beta * self._value

    def _commit(self, value: float) -> None:
        self._value = self._evaluate(value)
        self._count += 1
        if self._count < self.period:
            self._warmup.append(value)
        else:
            self._warmup.clear()


class WmaState(LiveIndicator[float]):
    """Live WMA: the weighted sum of the last period-1 committed values plus period x the live value."""

    def __init__(self, period: int) -> None:
        check_period(period)
        super().__init__()
        self.period = period
        self._denominator = period * (period + 1) / 2
        self._window: deque[float] = deque(maxlen=period - 1)
        self._weighted = 0.0
        self._count = 0

    def update(self, value: float) -> float:
        return self._push(value)

    def replace_last(self, value: float) -> float:
        return self._replace(value)

    def _evaluate(self, value: float) -> float:
        if self._count + 1 < self.period:
            return math.nan
        return (self._weighted + self.period * value) / self._denominator

    def _commit(self, value: float) -> None:
        self._count += 1
        if self.period > 1:
            self._window.append(value)
            self._weighted = math.fsum(w * v for w, v in enumerate(self._window, start=1))
