"""Bollinger bands: the SMA and the SMA plus/minus k population standard deviations (ddof=0)."""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ._base import LiveIndicator, as_float_array, check_period, windows

Bands = tuple[float, float, float]


def bollinger(values: Any, period: int = 20, k: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (mid, upper, lower); the standard deviation is the population one (divides by period).

    The first period-1 values are NaN.
    """
    check_period(period)
    x = as_float_array(values)
    mid, std = np.full(len(x), np.nan), np.full(len(x), np.nan)
    rows = windows(x, period)
    mid[period - 1:] = rows.mean(axis=1)
    std[period - 1:] = rows.std(axis=1)
    return mid, mid + k * std, mid - k * std


class BollingerState(LiveIndicator[Bands]):
    """Live Bollinger bands: mean and squared deviations of the last period-1 committed values, plus the live one."""

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        check_period(period)
        super().__init__()
        self.period = period
        self.k = k
        self._window: deque[float] = deque(maxlen=period - 1)
        self._mean = 0.0
        self._m2 = 0.0
        self._count = 0

    def update(self, value: float) -> Bands:
        """Append a point; return (mid, upper, lower)."""
        return self._push(value)

    def replace_last(self, value: float) -> Bands:
        return self._replace(value)

    def _evaluate(self, value: float) -> Bands:
        if self._count + 1 < self.period:
            return math.nan, math.nan, math.nan
        n, delta = self.period, value - self._mean
        mid = self._mean + delta / n
        std = math.sqrt(max(self._m2 + delta * delta * (n - 1) / n, 0.0) / n)
        return mid, mid + self.k * std, mid - self.k * std

    def _commit(self, value: float) -> None:
        self._count += 1
        if self.period > 1:
            self._window.append(value)
            self._mean = math.fsum(self._window) / len(self._window)
            self._m2 = math.fsum((v - self._mean) ** 2 for v in self._window)
