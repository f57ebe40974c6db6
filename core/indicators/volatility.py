"""Volatility: true range, Wilder's ATR and the ATR-band SuperTrend."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import LiveIndicator, as_float_array, check_period, ewm
from .moving import EmaState

_Bands = tuple[float, float, float]  # final upper band, final lower band, direction


def true_range(high: Any, low: Any, close: Any) -> np.ndarray:
    """max(high-low, |high-prev close|, |low-prev close|); the first bar, with no previous close, is high-low."""
    h, lo, c = as_float_array(high), as_float_array(low), as_float_array(close)
    tr = h - lo
    tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(h[1:] - c[:-1]), np.abs(lo[1:] - c[:-1])))
    return tr


def atr(high: Any, low: Any, close: Any, period: int = 14) -> np.ndarray:
    """Wilder's ATR: the first value (index period-1) is the mean of the first `period` true ranges
    (the first being high-low), then atr = atr_prev + (tr - atr_prev)/period. Earlier values are NaN.
    """
    check_period(period)
    return ewm(true_range(high, low, close), period, 1.0 / period)


def supertrend(high: Any, low: Any, close: Any, period: int = 10,
               multiplier: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (line, direction): direction +1 in an up-trend (line = final lower band), -1 in a down-trend
    (line = final upper band). Bands are (high+low)/2 -/+ multiplier*ATR(period), ratcheted the usual way.
    The first value is at index period-1 with direction +1 if close >= (high+low)/2 there; earlier NaN.
    """
    check_period(period)
    h, lo, c = as_float_array(high), as_float_array(low), as_float_array(close)
    line, direction = np.full(len(c), np.nan), np.full(len(c), np.nan)
    ranges = atr(h, lo, c, period).tolist()
    closes, mids = c.tolist(), ((h + lo) / 2).tolist()
    state: _Bands | None = None
    for i in range(period - 1, len(closes)):
        state = _step(mids[i], multiplier * ranges[i], closes[i], closes[i - 1] if i else math.nan, state)
        line[i], direction[i] = _line(state), state[2]
    return line, direction


def _step(mid: float, offset: float, close: float, prev_close: float, prev: _Bands | None) -> _Bands:
    upper, lower = mid + offset, mid - offset
    if prev is None:
        return upper, lower, 1.0 if close >= mid else -1.0
    prev_upper, prev_lower, prev_direction = prev
    if not (upper < prev_upper or prev_close > prev_upper):
        upper = prev_upper
    if not (lower > prev_lower or prev_close < prev_lower):
        lower = prev_lower
    if prev_direction > 0:
        return upper, lower, -1.0 if close < lower else 1.0
    return upper, lower, 1.0 if close > upper else -1.0


def _line(state: _Bands) -> float:
    return state[1] if state[2] > 0 else state[0]


class AtrState(LiveIndicator[float]):
    """Live ATR: Wilder smoothing of true ranges against the previous committed close."""

    def __init__(self, period: int = 14) -> None:
        check_period(period)
        super().__init__()
        self._smooth = EmaState(period, 1.0 / period)
        self._prev_close: float | None = None

    def update(self, high: float, low: float, close: float) -> float:
        return self._push(high, low, close)

    def replace_last(self, high: float, low: float, close: float) -> float:
        return self._replace(high, low, close)

    def _true_range(self, high: float, low: float) -> float:
        if self._prev_close is None:
            return high - low
        return max(high - low, max(abs(high - self._prev_close), abs(low - self._prev_close)))

    def _evaluate(self, high: float, low: float, close: float) -> float:
        return self._smooth._evaluate(self._true_range(high, low))

    def _commit(self, high: float, low: float, close: float) -> None:
        self._smooth._commit(self._true_range(high, low))
        self._prev_close = close


class SupertrendState(LiveIndicator[tuple[float, float]]):
    """Live SuperTrend: the ATR state plus the previous bar's final bands, direction and close."""

    def __init__(self, period: int = 10, multiplier: float = 3.0) -> None:
        super().__init__()
        self.multiplier = multiplier
        self._atr = AtrState(period)
        self._bands: _Bands | None = None
        self._prev_close = math.nan

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        """Append a bar; return (line, direction)."""
        return self._push(high, low, close)

    def replace_last(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self._replace(high, low, close)

    def _bands_for(self, high: float, low: float, close: float) -> _Bands | None:
        current = self._atr._evaluate(high, low, close)
        if math.isnan(current):
            return None
        return _step((high + low) / 2, self.multiplier * current, close, self._prev_close, self._bands)

    def _evaluate(self, high: float, low: float, close: float) -> tuple[float, float]:
        bands = self._bands_for(high, low, close)
        return (math.nan, math.nan) if bands is None else (_line(bands), bands[2])

    def _commit(self, high: float, low: float, close: float) -> None:
        self._bands = self._bands_for(high, low, close)
        self._atr._commit(high, low, close)
        self._prev_close = close
