"""Indicators on the chart ("studies"): which ones exist, where they are drawn, and how they stay live.

Loading bars computes each study with core.indicators' vectorised functions. The live last bar then
goes through the matching incremental state (replace_last / update), so a tick costs O(1) whatever the
number of loaded bars. The state is warmed by replaying the last `warmup` bars (from the session
start for VWAP): windowed studies (SMA, Bollinger, Stochastic) and VWAP come out exact; exponential
ones (EMA, RSI, MACD, ATR in SuperTrend) differ from the full recomputation by about
(1 - alpha) ** warmup, far below what a chart can show.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

import numpy as np
from PySide6.QtGui import QColor

from core import indicators as ind
from core.marketdata.series import BarSeries
from core.marketdata.timeframes import Session, trading_day_ids


@dataclass(frozen=True, slots=True)
class LineStyle:
    name: str
    color: str
    kind: str = "line"  # line | hist

    @property
    def qcolor(self) -> QColor:
        return QColor(self.color)


@dataclass(frozen=True, slots=True)
class StudySpec:
    """A study: its id, menu label, pane (None = on the price plot), lines, batch and live forms."""

    key: str
    label: str
    pane: str | None
    lines: tuple[LineStyle, ...]
    batch: Callable[[BarSeries, tzinfo], tuple[np.ndarray, ...]]
    state: Callable[[], Any]
    inputs: Callable[[BarSeries, int], tuple[float, ...]]
    post: Callable[[Any], tuple[float, ...]] = lambda out: out if isinstance(out, tuple) else (out,)
    warmup: int = 0
    y_range: tuple[float, float] | None = None  # fixed pane range (RSI, Stochastic)
    levels: tuple[float, ...] = ()  # guide lines in the pane (70/30, 80/20, 0)
    session_anchored: bool = False


def _close(s: BarSeries, i: int) -> tuple[float, ...]:
    return (float(s.close[i]),)


def _hlc(s: BarSeries, i: int) -> tuple[float, ...]:
    return float(s.high[i]), float(s.low[i]), float(s.close[i])


def _typical_volume(s: BarSeries, i: int) -> tuple[float, ...]:
    return (float(s.high[i]) + float(s.low[i]) + float(s.close[i])) / 3.0, float(s.volume[i])


def _split_trend(out: tuple[float, float]) -> tuple[float, float]:
    line, direction = out
    return (line if direction > 0 else math.nan), (line if direction < 0 else math.nan)


def _supertrend_batch(s: BarSeries, _: tzinfo) -> tuple[np.ndarray, ...]:
    line, direction = ind.supertrend(s.high, s.low, s.close, 10, 3.0)
    return np.where(direction > 0, line, np.nan), np.where(direction < 0, line, np.nan)


def _vwap_batch(s: BarSeries, tz: tzinfo) -> tuple[np.ndarray, ...]:
    typical = (s.high + s.low + s.close) / 3.0
    return (ind.vwap(typical, s.volume, trading_day_ids(s.start_ns, Session(tz))),)  # type: ignore[arg-type]


def _sma(period: int, color: str) -> StudySpec:
    return StudySpec(f"sma{period}", f"SMA {period}", None, (LineStyle(f"SMA {period}", color),),
                     lambda s, _: (ind.sma(s.close, period),), lambda: ind.SmaState(period), _close, warmup=period)


def _ema(period: int, color: str) -> StudySpec:
    return StudySpec(f"ema{period}", f"EMA {period}", None, (LineStyle(f"EMA {period}", color),),
                     lambda s, _: (ind.ema(s.close, period),), lambda: ind.EmaState(period), _close,
                     warmup=40 * period)


STUDIES: tuple[StudySpec, ...] = (
    _sma(20, "#f0b429"), _sma(50, "#2f81f7"), _ema(20, "#e879f9"), _ema(200, "#94a3b8"),
    StudySpec("bb20", "Bollinger 20, 2", None,
              (LineStyle("BB mid", "#a78bfa"), LineStyle("BB upper", "#6d5fb5"), LineStyle("BB lower", "#6d5fb5")),
              lambda s, _: ind.bollinger(s.close, 20, 2.0), lambda: ind.BollingerState(20, 2.0), _close, warmup=20),
    StudySpec("vwap", "VWAP (session)", None, (LineStyle("VWAP", "#38bdf8"),), _vwap_batch, ind.VwapState,
              _typical_volume, session_anchored=True),
    StudySpec("supertrend", "SuperTrend 10, 3", None,
              (LineStyle("ST up", "#26a69a"), LineStyle("ST down", "#ef5350")), _supertrend_batch,
              lambda: ind.SupertrendState(10, 3.0), _hlc, post=_split_trend, warmup=600),
    StudySpec("rsi14", "RSI 14", "RSI", (LineStyle("RSI 14", "#f0b429"),),
              lambda s, _: (ind.rsi(s.close, 14),), lambda: ind.RsiState(14), _close, warmup=600,
              y_range=(0.0, 100.0), levels=(30.0, 70.0)),
    StudySpec("macd", "MACD 12 26 9", "MACD",
              (LineStyle("MACD", "#2f81f7"), LineStyle("Signal", "#f0b429"), LineStyle("Hist", "#7d8794", "hist")),
              lambda s, _: ind.macd(s.close, 12, 26, 9), lambda: ind.MacdState(12, 26, 9), _close, warmup=1100,
              levels=(0.0,)),
    StudySpec("stoch", "Stochastic 14 3 3", "Stochastic", (LineStyle("%K", "#2f81f7"), LineStyle("%D", "#f0b429")),
              lambda s, _: ind.stochastic(s.high, s.low, s.close, 14, 3, 3), lambda: ind.StochasticState(14, 3, 3),
              _hlc, warmup=40, y_range=(0.0, 100.0), levels=(20.0, 80.0)),
)
STUDY_BY_KEY = {spec.key: spec for spec in STUDIES}


class Column:
    """A growable float64 array (amortised O(1) append); `values` is a view of the filled part."""

    def __init__(self, values: np.ndarray) -> None:
        self._data = np.array(values, dtype=np.float64)
        self._len = len(values)
        self._data.resize(max(64, 2 * self._len), refcheck=False)

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._len]

    def append(self, value: float) -> bool:
        """Append a value; return True when the storage moved (views taken before are stale)."""
        moved = self._len == len(self._data)
        if moved:
            grown = np.empty(2 * len(self._data))
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len] = value
        self._len += 1
        return moved

    def set_last(self, value: float) -> None:
        self._data[self._len - 1] = value


class Study:
    """A StudySpec computed over one series: its output columns, kept live."""

    def __init__(self, spec: StudySpec, series: BarSeries, tz: tzinfo) -> None:
        self.spec = spec
        self.tz = tz
        self.columns = [Column(a) for a in spec.batch(series, tz)]
        # 1.0 on each row that opens a session: a session-anchored line (VWAP) is broken there, as its value
        # jumps back to the new session's first price and a connecting stroke would read as a price spike
        self.session_starts = Column(ind.session_starts(trading_day_ids(series.start_ns, Session(tz)), len(series))
                                     .astype(np.float64)) if spec.session_anchored else None
        self._state = spec.state()
        n = len(series)
        first = self._session_start(series) if spec.session_anchored else max(0, n - spec.warmup)
        for row in range(first, n):
            self._push(series, row, row == first)

    def replace_last(self, series: BarSeries, row: int) -> None:
        """Re-evaluate the live row (the last one this study has) after it changed."""
        if row < 0:
            return
        out = self.spec.post(self._state.replace_last(*self.spec.inputs(series, row)))
        for column, value in zip(self.columns, out):
            column.set_last(value)

    def append(self, series: BarSeries, row: int) -> bool:
        """Add the output for a new row; return True if any column's storage moved."""
        new_session = row == 0 or _local_day(int(series.start_ns[row]), self.tz) != _local_day(
            int(series.start_ns[row - 1]), self.tz)
        out = self._push(series, row, new_session)
        moved = self.session_starts is not None and self.session_starts.append(float(new_session))
        return any([column.append(value) for column, value in zip(self.columns, out)]) or moved

    def _push(self, series: BarSeries, row: int, new_session: bool) -> tuple[float, ...]:
        args = self.spec.inputs(series, row)
        if self.spec.session_anchored:
            args = (*args, new_session)
        return self.spec.post(self._state.update(*args))

    def _session_start(self, series: BarSeries) -> int:
        """The first row of the last bar's local day (a binary search, not a pass over the rows)."""
        if not len(series):
            return 0
        day = _local_day(int(series.start_ns[-1]), self.tz)
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        return int(np.searchsorted(series.start_ns, int(midnight.timestamp()) * 1_000_000_000))


def _local_day(ts_ns: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz).date()
