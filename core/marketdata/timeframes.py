"""Timeframes, trading sessions and the bucket a timestamp falls into.

Bars are bucketed in the session's time zone: Binance in UTC (days from 00:00 UTC, weeks from Monday,
calendar months); NSE in IST (Asia/Kolkata) with intraday buckets anchored to the 09:15 open, so 15m
bars run 09:15-09:30 and 1h bars start 09:15, 10:15, ... Daily, weekly and monthly buckets start at
local midnight of the trading date (the calendar date in the session's zone). Every timestamp in this
API is int nanoseconds since the epoch, UTC (ts_ns).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

import numpy as np

NS = 1_000_000_000
DAY_NS = 86_400 * NS
_OFFSET_GRAIN_NS = 900 * NS  # zone offsets change on quarter-hour boundaries only


class Timeframe(str, Enum):
    """A bar length. Values are the venues' own interval names ("1m" a minute, "1M" a month)."""

    S1 = "1s"
    S5 = "5s"
    S15 = "15s"
    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"
    MN1 = "1M"

    @property
    def step_ns(self) -> int | None:
        """Fixed bucket length of an intraday timeframe; None for days, weeks and months."""
        return _STEP_S.get(self.value, 0) * NS or None

    @property
    def is_intraday(self) -> bool:
        return self.value in _STEP_S


_STEP_S = {"1s": 1, "5s": 5, "15s": 15, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800,
           "1h": 3600, "4h": 14_400}


@dataclass(frozen=True, slots=True)
class Session:
    """Where and when a market trades: its zone, daily open (the intraday anchor), close and weekdays.

    close_time None means the market trades until the next open (24/7 crypto). Weekdays count from
    Monday=0. Exchange holidays are not known here; they only matter when filling empty intervals.
    """

    tz: ZoneInfo
    open_time: time = time(0)
    close_time: time | None = None
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(7)))

    def __post_init__(self) -> None:
        if self.close_time is not None and self.close_time <= self.open_time:
            raise ValueError("close_time must be after open_time (overnight sessions are not supported)")

    def open_ns(self, day: date) -> int:
        """The session open of a local date, as ts_ns."""
        return _to_ns(datetime.combine(day, self.open_time, tzinfo=self.tz))

    def last_open_ns(self, ts_ns: int) -> int:
        """The most recent daily open at or before ts_ns (any weekday): the intraday bucket anchor."""
        day = _local(ts_ns, self.tz).date()
        anchor = self.open_ns(day)
        return anchor if anchor <= ts_ns else self.open_ns(day - timedelta(days=1))

    def next_open_ns(self, ts_ns: int) -> int:
        """The first open at or after ts_ns on a trading weekday."""
        day = _local(ts_ns, self.tz).date()
        for offset in range(9):
            candidate = day + timedelta(days=offset)
            if candidate.weekday() in self.weekdays and self.open_ns(candidate) >= ts_ns:
                return self.open_ns(candidate)
        raise ValueError("session has no trading weekdays")

    def is_open(self, ts_ns: int) -> bool:
        """True on a trading weekday between the open and the close."""
        local = _local(ts_ns, self.tz)
        if local.weekday() not in self.weekdays:
            return False
        return self.close_time is None or self.open_time <= local.time() < self.close_time


UTC_SESSION = Session(ZoneInfo("UTC"))
NSE_SESSION = Session(ZoneInfo("Asia/Kolkata"), time(9, 15), time(15, 30), frozenset(range(5)))


def bucket_start(ts_ns: int, timeframe: Timeframe, session: Session) -> int:
    """Start of the bucket that contains ts_ns."""
    step = timeframe.step_ns
    if step is not None:
        anchor = session.last_open_ns(ts_ns)
        return anchor + (ts_ns - anchor) // step * step
    day = _local(ts_ns, session.tz).date()
    if timeframe is Timeframe.W1:
        day -= timedelta(days=day.weekday())
    elif timeframe is Timeframe.MN1:
        day = day.replace(day=1)
    return _midnight_ns(day, session.tz)


def bucket_end(start_ns: int, timeframe: Timeframe, session: Session) -> int:
    """End (exclusive) of the bucket that starts at start_ns."""
    step = timeframe.step_ns
    if step is not None:
        return start_ns + step
    day = _local(start_ns, session.tz).date()
    if timeframe is Timeframe.D1:
        day += timedelta(days=1)
    elif timeframe is Timeframe.W1:
        day += timedelta(days=7)
    else:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return _midnight_ns(day, session.tz)


def is_trading_bucket(start_ns: int, timeframe: Timeframe, session: Session) -> bool:
    """True if the market trades in this bucket (intraday: it starts in session hours; days: a weekday)."""
    if timeframe.is_intraday:
        return session.is_open(start_ns)
    if timeframe is Timeframe.D1:
        return _local(start_ns, session.tz).weekday() in session.weekdays
    return True


def next_trading_bucket(start_ns: int, timeframe: Timeframe, session: Session) -> int:
    """The first trading bucket starting at or after the bucket boundary start_ns."""
    while not is_trading_bucket(start_ns, timeframe, session):
        if timeframe.is_intraday:
            start_ns = session.next_open_ns(start_ns + 1)
        else:
            start_ns = bucket_end(start_ns, timeframe, session)
    return start_ns


def trading_day_ids(ts_ns: np.ndarray, session: Session) -> np.ndarray:
    """Return the local trading date of each timestamp as days since 1970-01-01 (a session id for VWAP)."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    grains, inverse = np.unique(ts // _OFFSET_GRAIN_NS, return_inverse=True)
    offsets = np.array([_utc_offset_ns(int(g) * _OFFSET_GRAIN_NS, session.tz) for g in grains], dtype=np.int64)
    return (ts + offsets[inverse.reshape(ts.shape)]) // DAY_NS


def _local(ts_ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts_ns // NS, tz)


def _to_ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS


def _midnight_ns(day: date, tz: ZoneInfo) -> int:
    return _to_ns(datetime.combine(day, time(0), tzinfo=tz))


def _utc_offset_ns(ts_ns: int, tz: ZoneInfo) -> int:
    offset = _local(ts_ns, tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) * NS
