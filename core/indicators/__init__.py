"""Technical indicators on float arrays, in batch (vectorised NumPy/SciPy) and live (incremental) form.

Conventions, shared by every indicator:
- Inputs are 1-D sequences of finite floats, oldest first; outputs are float64 arrays of the same length.
- Leading values whose window is not yet complete are NaN (each function states where values start).
- EMA-type smoothing is seeded with the simple mean of its first `period` inputs; Wilder's smoothing
  (RSI, ATR) is the EMA with alpha = 1/period. Bollinger uses the population standard deviation.
- Each XxxState mirrors xxx(): update(...) appends a point and returns the outputs at it; replace_last(...)
  re-evaluates the live last point from the state of the points before it, in O(1) of the series length.
"""
from .bands import BollingerState, bollinger
from .momentum import STOCHASTIC_FLAT, MacdState, RsiState, StochasticState, macd, rsi, stochastic
from .moving import EmaState, SmaState, WmaState, ema, sma, wma
from .volatility import AtrState, SupertrendState, atr, supertrend, true_range
from .volume import VwapState, session_starts, vwap

__all__ = [
    "AtrState", "BollingerState", "EmaState", "MacdState", "RsiState", "STOCHASTIC_FLAT", "SmaState",
    "StochasticState", "SupertrendState", "VwapState", "WmaState", "atr", "bollinger", "ema", "macd", "rsi",
    "session_starts", "sma", "stochastic", "supertrend", "true_range", "vwap", "wma",
]
