"""Historical candles for BarService: venue intervals, the cache-first fetch with paging and progress.

What each venue serves natively (the keys its connector's history() accepts):
- Binance (spot and USD-M): 1s 1m 3m 5m 15m 30m 1h 4h 1d 1w 1M of our timeframes (it also has 2h 6h 8h 12h 3d).
- Kite: 1m 3m 5m 15m 30m 1h 1d (minute ... 60minute, day; it also has 10minute). No seconds: a 1s/5s/15s
  chart of a Kite instrument has live bars only.
Anything else is resampled from the coarsest native timeframe whose buckets nest in it (5s from 1s, 4h
from 1h on Kite, weeks and months from days on Kite).

The cache holds the native candles. What it holds is taken as one contiguous span (this fetcher only
ever extends it at either end); the span before its first candle and after its last one are fetched.
A head span that the venue answers empty (a holiday, before the listing) is remembered for the life of
the process so it is not asked again.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from core.bus import EventBus
from core.domain import BarEvent, InstrumentId, ProgressEvent, Venue
from core.errors import ShrivenQuantError
from core.journal import MarketCache

from .resample import resample
from .timeframes import DAY_NS, NS, NSE_SESSION, UTC_SESSION, Session, Timeframe, bucket_end, bucket_start

log = logging.getLogger(__name__)

HistoryFn = Callable[[InstrumentId, str, int, int], Awaitable[list[BarEvent]]]
T = Timeframe
_BINANCE = frozenset({T.S1, T.M1, T.M3, T.M5, T.M15, T.M30, T.H1, T.H4, T.D1, T.W1, T.MN1})
NATIVE: dict[Venue, frozenset[Timeframe]] = {Venue.BINANCE: _BINANCE, Venue.BINANCE_USDM: _BINANCE,
                                             Venue.ZERODHA: frozenset({T.M1, T.M3, T.M5, T.M15, T.M30, T.H1, T.D1})}
KITE_SPAN_DAYS = {T.M1: 60, T.M3: 100, T.M5: 100, T.M15: 200, T.M30: 200, T.H1: 400, T.D1: 2000}  # Kite's max per request
KLINES_PER_PAGE = 1000
_ROUGH_STEP_NS = {T.D1: DAY_NS, T.W1: 7 * DAY_NS, T.MN1: 31 * DAY_NS}


def session_of(venue: Venue) -> Session:
    """The session bars of a venue are bucketed in: NSE hours in IST for Zerodha, UTC for the rest."""
    return NSE_SESSION if venue is Venue.ZERODHA else UTC_SESSION


def source_timeframe(venue: Venue, timeframe: Timeframe) -> Timeframe | None:
    """The venue timeframe to fetch for timeframe: itself if native, else the coarsest that nests; None if none."""
    native = NATIVE.get(venue, _BINANCE)
    if timeframe in native:
        return timeframe
    step = timeframe.step_ns
    if step is None:
        return T.D1 if T.D1 in native else None
    finer = [t for t in native if t.step_ns is not None and step % t.step_ns == 0]
    return max(finer, key=lambda t: t.step_ns or 0, default=None)


def lookback_start(now_ns: int, timeframe: Timeframe, session: Session, bars: int) -> int:
    """The start of the bucket `bars - 1` trading buckets before the one holding now_ns (nights and weekends skipped)."""
    start = bucket_start(now_ns, timeframe, session)
    step = timeframe.step_ns
    if step is None:
        remaining = bars - 1
        while remaining > 0:
            start = bucket_start(start - 1, timeframe, session)
            if timeframe is not T.D1 or _local_date(start, session).weekday() in session.weekdays:
                remaining -= 1
        return start
    if session.close_time is None and len(session.weekdays) == 7:
        return start - (bars - 1) * step
    anchor = session.last_open_ns(start)
    per_day = -(-_session_ns(session) // step)
    remaining = bars - min(per_day, (start - anchor) // step + 1)
    if remaining <= 0:
        return start - (bars - 1) * step
    day = _local_date(anchor, session)
    while True:
        day -= timedelta(days=1)
        if day.weekday() not in session.weekdays:
            continue
        if remaining <= per_day:
            return session.open_ns(day) + (per_day - remaining) * step
        remaining -= per_day


class HistoryFetcher:
    """Cache-first history of one timeframe between two times (see the module docstring)."""

    def __init__(self, history: HistoryFn, bus: EventBus, cache: MarketCache | None, clock_ns: Callable[[], int]) -> None:
        self._history = history
        self._bus = bus
        self._cache = cache
        self._clock_ns = clock_ns
        self._known_empty: dict[tuple[InstrumentId, Timeframe], int] = {}  # head start the venue had nothing before
        self.requests = 0

    async def bars(self, instrument_id: InstrumentId, timeframe: Timeframe, start_ns: int, end_ns: int) -> list[BarEvent]:
        """Bars of timeframe with start in [start_ns, end_ns], oldest first (the last one may be building)."""
        source = source_timeframe(instrument_id.venue, timeframe)
        if source is None:
            log.info("%s has no %s history; live bars only", instrument_id, timeframe.value)
            return []
        rows = await self._native(instrument_id, source, start_ns, end_ns)
        if source is timeframe:
            return rows
        return resample(rows, timeframe, session_of(instrument_id.venue), self._clock_ns())

    async def _native(self, iid: InstrumentId, tf: Timeframe, start_ns: int, end_ns: int) -> list[BarEvent]:
        session = session_of(iid.venue)
        start_ns = bucket_start(start_ns, tf, session)
        cached = self._cache.load_candles(iid, tf.value, start_ns, end_ns + 1) if self._cache is not None else []
        spans: list[tuple[int, int]] = []
        if not cached:
            spans.append((start_ns, end_ns))
        else:
            head = cached[0].start_ns
            if start_ns < head and self._known_empty.get((iid, tf), head + 1) > start_ns:
                spans.append((start_ns, head - 1))
            tail = bucket_end(cached[-1].start_ns, tf, session)
            if tail <= end_ns:
                spans.append((tail, end_ns))
        fetched, complete = await self._fetch(iid, tf, spans)
        first = min((b.start_ns for b in (*cached[:1], *fetched)), default=None)
        if complete and spans and spans[0][0] == start_ns and first is not None and first > start_ns:
            self._known_empty[(iid, tf)] = start_ns  # the venue has nothing in [start_ns, first)
        closed = [b for b in fetched if b.closed]
        if closed and self._cache is not None:
            self._cache.store_candles(closed)
        merged = {b.start_ns: b for b in cached}
        merged.update((b.start_ns, b) for b in fetched)
        return [merged[s] for s in sorted(merged)]

    async def _fetch(self, iid: InstrumentId, tf: Timeframe, spans: list[tuple[int, int]]) -> tuple[list[BarEvent], bool]:
        """Fetch spans page by page, publishing progress; on a venue error keep what came (and say so)."""
        pages = [page for a, z in spans for page in _pages(iid.venue, tf, a, z)]
        if not pages:
            return [], True
        task = f"History {iid.symbol} {tf.value}"
        total = sum(z - a + 1 for a, z in pages)
        done = 0
        out: list[BarEvent] = []
        self._bus.publish(ProgressEvent(task, 0.0, "0 bars"))
        for a, z in pages:
            try:
                self.requests += 1
                out += await self._history(iid, tf.value, a, z)
            except ShrivenQuantError as exc:
                log.warning("%s history %s failed: %s", iid, tf.value, exc)
                self._bus.publish(ProgressEvent(task, 1.0, f"failed: {exc}"))
                return out, False
            done += z - a + 1
            self._bus.publish(ProgressEvent(task, done / total, f"{len(out)} bars"))
        return out, True


def _pages(venue: Venue, tf: Timeframe, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
    """Cut [start_ns, end_ns] into what one venue request can answer (inclusive ends)."""
    if venue is Venue.ZERODHA:
        size = KITE_SPAN_DAYS[tf] * DAY_NS
    else:
        size = KLINES_PER_PAGE * (tf.step_ns or _ROUGH_STEP_NS[tf])
    return [(a, min(a + size - 1, end_ns)) for a in range(start_ns, end_ns + 1, size)]


def _local_date(ts_ns: int, session: Session) -> date:
    return datetime.fromtimestamp(ts_ns // NS, session.tz).date()


def _session_ns(session: Session) -> int:
    """Length of the daily session (a whole day when it has no close)."""
    if session.close_time is None:
        return DAY_NS
    day = date(2000, 1, 3)
    return int((datetime.combine(day, session.close_time) - datetime.combine(day, session.open_time)).total_seconds()) * NS
