"""Resample candles to a coarser timeframe, exactly, with the bucketing of timeframes.py.

Used when a venue has no candles of the wanted timeframe (Kite has no 4h, week or month candles,
Binance no 5s): the finer candles are grouped by the coarse bucket each starts in and folded into one
bar: first open, highest high, lowest low, last close, summed volume. Prices stay Decimal; the grouping
is NumPy (one Python call per distinct local day, not per bar), the folds run as ufunc reductions.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from core.domain import BarEvent

from .timeframes import Session, Timeframe, bucket_end, bucket_start, trading_day_ids

_EPOCH = date(1970, 1, 1)


def bucket_starts(ts_ns: np.ndarray, timeframe: Timeframe, session: Session) -> np.ndarray:
    """Return bucket_start() of every timestamp, vectorised (same answers as the scalar function)."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    if not len(ts):
        return ts.copy()
    days, first, inverse = np.unique(trading_day_ids(ts, session), return_index=True, return_inverse=True)
    inverse = inverse.reshape(ts.shape)
    step = timeframe.step_ns
    if step is None:  # days, weeks, months: every timestamp of one local day shares the bucket
        per_day = np.array([bucket_start(int(ts[i]), timeframe, session) for i in first], dtype=np.int64)
        return per_day[inverse]
    opens = np.array([session.open_ns(_EPOCH + timedelta(days=int(d))) for d in days], dtype=np.int64)[inverse]
    previous = np.array([session.open_ns(_EPOCH + timedelta(days=int(d) - 1)) for d in days], dtype=np.int64)[inverse]
    anchor = np.where(ts >= opens, opens, previous)  # the most recent daily open, as Session.last_open_ns
    return anchor + (ts - anchor) // step * step


def resample(bars: Sequence[BarEvent], timeframe: Timeframe, session: Session, now_ns: int) -> list[BarEvent]:
    """Fold finer bars (oldest first, one instrument) into bars of timeframe.

    A coarse bar is closed when every bar folded into it is closed and its bucket has ended by now_ns.
    """
    if not bars:
        return []
    starts = bucket_starts(np.fromiter((b.start_ns for b in bars), dtype=np.int64, count=len(bars)), timeframe, session)
    if np.any(np.diff(starts) < 0):
        raise ValueError("bars to resample must be in start order")
    cut = np.concatenate(([0], np.flatnonzero(np.diff(starts)) + 1))
    last = np.concatenate((cut[1:], [len(bars)])) - 1
    column = {name: np.array([getattr(b, name) for b in bars], dtype=object) for name in ("open", "high", "low", "close", "volume")}
    highs = np.maximum.reduceat(column["high"], cut)
    lows = np.minimum.reduceat(column["low"], cut)
    volumes = np.add.reduceat(column["volume"], cut)
    all_closed = np.logical_and.reduceat(np.array([b.closed for b in bars], dtype=bool), cut)
    iid, value = bars[0].instrument_id, timeframe.value
    out: list[BarEvent] = []
    for i, (a, z) in enumerate(zip(cut, last)):
        start = int(starts[a])
        closed = bool(all_closed[i]) and bucket_end(start, timeframe, session) <= now_ns
        out.append(BarEvent(iid, value, start, column["open"][a], highs[i], lows[i], column["close"][z], volumes[i], closed))
    return out
