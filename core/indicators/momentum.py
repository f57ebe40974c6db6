"""Momentum oscillators: RSI (Wilder), MACD and the stochastic oscillator."""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ._base import LiveIndicator, as_float_array, check_period, ewm, on_valid_tail
from .moving import EmaState, SmaState, ema, sma

STOCHASTIC_FLAT = 50.0  # %K when the window's high equals its low (the range is zero)


def rsi(values: Any, period: int = 14) -> np.ndarray:
    """Wilder's RSI: 100*avg_gain/(avg_gain+avg_loss), both Wilder-smoothed and seeded with plain means.

    The first value is at index `period` (indices 0..period-1 are NaN); 50 when nothing moved.
    """
    check_period(period)
    x = as_float_array(values)
    out = np.full(len(x), np.nan)
    change = np.diff(x)
    gain = ewm(np.maximum(change, 0.0), period, 1.0 / period)
    loss = ewm(np.maximum(-change, 0.0), period, 1.0 / period)
    total = gain + loss
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.where(total > 0.0, 100.0 * gain / total, 50.0)
    out[1:][np.isnan(gain)] = np.nan
    return out


def macd(values: Any, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (line, signal, histogram): line = EMA(fast) - EMA(slow), signal = EMA(signal) of the line.

    The line starts at index max(fast, slow)-1 and the signal and histogram signal-1 bars later.
    """
    for name, period in (("fast", fast), ("slow", slow), ("signal", signal)):
        check_period(period, name)
    x = as_float_array(values)
    line = ema(x, fast) - ema(x, slow)
    sig = on_valid_tail(lambda tail: ema(tail, signal), line)
    return line, sig, line - sig


def stochastic(high: Any, low: Any, close: Any, k_period: int = 14, d_period: int = 3,
               smooth: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return (%K, %D): raw %K = 100*(close-LL)/(HH-LL) over k_period bars (50 when HH == LL),
    %K = SMA(smooth) of raw %K, %D = SMA(d_period) of %K. Leading values without full windows are NaN.
    """
    for name, period in (("k_period", k_period), ("d_period", d_period), ("smooth", smooth)):
        check_period(period, name)
    h, lo, c = as_float_array(high), as_float_array(low), as_float_array(close)
    raw = np.full(len(c), np.nan)
    origin = (k_period - 1) // 2  # shifts scipy's centred window to the trailing k_period bars
    from scipy.ndimage import maximum_filter1d, minimum_filter1d  # on first use: keeps start-up short

    highest = maximum_filter1d(h, k_period, origin=origin)[k_period - 1:]
    lowest = minimum_filter1d(lo, k_period, origin=origin)[k_period - 1:]
    span = highest - lowest
    with np.errstate(divide="ignore", invalid="ignore"):
        raw[k_period - 1:] = np.where(span > 0.0, 100.0 * (c[k_period - 1:] - lowest) / span, STOCHASTIC_FLAT)
    k = on_valid_tail(lambda tail: sma(tail, smooth), raw)
    return k, on_valid_tail(lambda tail: sma(tail, d_period), k)


class RsiState(LiveIndicator[float]):
    """Live RSI: Wilder averages of gains and losses up to the previous close."""

    def __init__(self, period: int = 14) -> None:
        check_period(period)
        super().__init__()
        self._gain = EmaState(period, 1.0 / period)
        self._loss = EmaState(period, 1.0 / period)
        self._prev_close: float | None = None

    def update(self, close: float) -> float:
        return self._push(close)

    def replace_last(self, close: float) -> float:
        return self._replace(close)

    def _evaluate(self, close: float) -> float:
        if self._prev_close is None:
            return math.nan
        change = close - self._prev_close
        gain, loss = self._gain._evaluate(max(change, 0.0)), self._loss._evaluate(max(-change, 0.0))
        if math.isnan(gain):
            return math.nan
        total = gain + loss
        return 100.0 * gain / total if total > 0.0 else 50.0

    def _commit(self, close: float) -> None:
        if self._prev_close is not None:
            change = close - self._prev_close
            self._gain._commit(max(change, 0.0))
            self._loss._commit(max(-change, 0.0))
        self._prev_close = close


class MacdState(LiveIndicator[tuple[float, float, float]]):
    """Live MACD: fast and slow EMAs of the close, and the signal EMA of the line once it exists."""

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        super().__init__()
        self._fast, self._slow, self._signal = EmaState(fast), EmaState(slow), EmaState(signal)

    def update(self, close: float) -> tuple[float, float, float]:
        """Append a point; return (line, signal, histogram)."""
        return self._push(close)

    def replace_last(self, close: float) -> tuple[float, float, float]:
        return self._replace(close)

    def _line(self, close: float) -> float:
        return self._fast._evaluate(close) - self._slow._evaluate(close)

    def _evaluate(self, close: float) -> tuple[float, float, float]:
        line = self._line(close)
        sig = math.nan if math.isnan(line) else self._signal._evaluate(line)
        return line, sig, line - sig

    def _commit(self, close: float) -> None:
        line = self._line(close)
        if not math.isnan(line):
            self._signal._commit(line)
        self._fast._commit(close)
        self._slow._commit(close)


class StochasticState(LiveIndicator[tuple[float, float]]):
    """Live stochastic: extremes of the last k_period-1 committed bars plus the live bar, then the SMAs."""

    def __init__(self, k_period: int = 14, d_period: int = 3, smooth: int = 1) -> None:
        check_period(k_period, "k_period")
        super().__init__()
        self.k_period = k_period
        self._highs: deque[float] = deque(maxlen=k_period - 1)
        self._lows: deque[float] = deque(maxlen=k_period - 1)
        self._highest, self._lowest = -math.inf, math.inf
        self._count = 0
        self._smooth, self._d = SmaState(smooth), SmaState(d_period)

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        """Append a bar; return (%K, %D)."""
        return self._push(high, low, close)

    def replace_last(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self._replace(high, low, close)

    def _raw(self, high: float, low: float, close: float) -> float:
        if self._count + 1 < self.k_period:
            return math.nan
        highest, lowest = max(self._highest, high), min(self._lowest, low)
        span = highest - lowest
        return 100.0 * (close - lowest) / span if span > 0.0 else STOCHASTIC_FLAT

    def _evaluate(self, high: float, low: float, close: float) -> tuple[float, float]:
        raw = self._raw(high, low, close)
        k = math.nan if math.isnan(raw) else self._smooth._evaluate(raw)
        return k, (math.nan if math.isnan(k) else self._d._evaluate(k))

    def _commit(self, high: float, low: float, close: float) -> None:
        raw = self._raw(high, low, close)
        if not math.isnan(raw):
            k = self._smooth._evaluate(raw)
            self._smooth._commit(raw)
            if not math.isnan(k):
                self._d._commit(k)
        self._count += 1
        if self.k_period > 1:
            self._highs.append(high)
            self._lows.append(low)
            self._highest, self._lowest = max(self._highs), min(self._lows)
