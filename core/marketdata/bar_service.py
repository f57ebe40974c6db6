"""BarService: candles for charts and strategies: cached history, venue backfill and live bars, joined.

History. load(instrument, timeframe, lookback_bars) reads the candle cache (the journal's candles
table), asks the venue only for what the cache lacks (the span before the first cached candle and the
tail after the last closed one), stores the closed candles it fetched, and returns a BarSeries. The
fetch is cut into venue-sized pages (1000 klines on Binance, Kite's maximum span per interval) with a
ProgressEvent after each. A timeframe the venue has no candles for is resampled from the coarsest
finer one it has (resample.py); the finer candles are what is cached. A failed fetch is logged and the
cached candles are returned.

Live. watch(instrument, timeframe) starts a BarBuilder in the venue's session (IST, 09:15 anchor, for
Zerodha; UTC for Binance) fed from the bus: TradePrint for Binance; for Zerodha the Tick's last_price
with the growth of its cumulative day volume (the first tick seen and the first tick of each trading
day set the baseline and carry no volume). Every change of the building bar and every close is
published as a BarEvent. Two watchers of one pair share one feed (reference counted); unwatch() the
last one to stop it. Call watch() before load(): a load of a watched pair joins its history into the
feed's series and returns that series, which then keeps updating.

The join, gap-free:
- overlap: when the first live bar has the same bucket as a history bar, the bar shown and published
  is that history bar's open, the max/min of both highs/lows, the live close, and history volume plus
  live volume: history stands for the part of the bar before the first live trade. (If the history was
  fetched after live trades of that bar arrived, their volume is in both parts.)
- gap: when trading buckets lie between the end of the history and the first live bar, that span is
  backfilled once from the venue; meanwhile the live rows are held back from the series (events are
  still published) and are replayed after the backfill, so the series never has a hole.

Threading: not thread-safe; use it on the one event loop. start() runs a timer that closes bars of a
quiet market (clock minus grace_ns); advance() does the same by hand.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.bus import EventBus
from core.domain import BarEvent, InstrumentId, Tick, TradePrint, Venue
from core.errors import ShrivenQuantError
from core.journal import MarketCache
from core.venue import Channel, VenueClient

from .bar_history import HistoryFetcher, HistoryFn, lookback_start, session_of
from .bars import Bar, BarBuilder
from .series import BarSeries
from .timeframes import NS, Timeframe, bucket_end, next_trading_bucket

log = logging.getLogger(__name__)

_ZERO = Decimal(0)


class BarService:
    """History loads and live bar feeds of any number of (instrument, timeframe) pairs. See the module docstring."""

    def __init__(self, bus: EventBus, venues: Mapping[Venue, VenueClient] | HistoryFn, cache: MarketCache | None = None,
                 clock_ns: Callable[[], int] = time.time_ns, *, allowed_lateness_ns: int = 2 * NS,
                 grace_ns: int = NS // 2, tick_s: float = 0.25) -> None:
        self.bus = bus
        self._venues: Mapping[Venue, VenueClient] = {} if callable(venues) else venues
        history = venues if callable(venues) else self._venue_history
        self.fetcher = HistoryFetcher(history, bus, cache, clock_ns)
        self._clock_ns = clock_ns
        self.allowed_lateness_ns = allowed_lateness_ns
        self.grace_ns = grace_ns
        self.tick_s = tick_s
        self._feeds: dict[tuple[InstrumentId, Timeframe], _Feed] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None

    async def load(self, instrument_id: InstrumentId, timeframe: Timeframe | str, lookback_bars: int) -> BarSeries:
        """Return the last lookback_bars candles (cache + venue); for a watched pair, its live series."""
        if lookback_bars < 1:
            raise ValueError("lookback_bars must be at least 1")
        tf = Timeframe(timeframe)
        session = session_of(instrument_id.venue)
        now = self._clock_ns()
        start = lookback_start(now, tf, session, lookback_bars)
        bars = (await self.fetcher.bars(instrument_id, tf, start, now))[-lookback_bars:]
        feed = self._feeds.get((instrument_id, tf))
        if feed is not None:
            await feed.join(bars)
            return feed.series
        series = BarSeries()
        series.join_history(bars)
        return series

    def watch(self, instrument_id: InstrumentId, timeframe: Timeframe | str) -> "BarWatch":
        """Build live bars of the pair from the bus until the returned handle is closed (or unwatch())."""
        tf = Timeframe(timeframe)
        key = (instrument_id, tf)
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed(self, instrument_id, tf)
            self._stream(instrument_id)
        feed.refs += 1
        return BarWatch(self, feed)

    def unwatch(self, handle: "BarWatch") -> None:
        """Release a handle; the feed stops when its last handle is released (idempotent per handle)."""
        if handle.closed:
            return
        handle.closed = True
        feed = handle.feed
        feed.refs -= 1
        if feed.refs == 0:
            feed.stop()
            del self._feeds[(feed.instrument_id, feed.timeframe)]

    def watching(self) -> list[tuple[InstrumentId, Timeframe]]:
        """The pairs with a live feed."""
        return list(self._feeds)

    def advance(self, now_ns: int) -> None:
        """Close every building bar whose bucket ended by now_ns (the timer calls this)."""
        for feed in list(self._feeds.values()):
            feed.builder.on_time(now_ns)

    async def drain(self) -> None:
        """Wait for the background work started so far (stream requests, gap backfills)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def start(self) -> None:
        """Start the timer that closes bars of quiet markets (call on the running loop)."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        """Stop the timer, every feed and background backfill; never raises."""
        tasks = [t for t in (self._timer, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._timer = None
        for feed in list(self._feeds.values()):
            feed.stop()
        self._feeds.clear()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.advance(self._clock_ns() - self.grace_ns)

    async def _venue_history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        client = self._venues.get(instrument_id.venue)
        if client is None:
            return []
        return await client.history(instrument_id, timeframe, start_ns, end_ns)

    def _stream(self, instrument_id: InstrumentId) -> None:
        """Ask the venue to stream what the feed needs (idempotent at the connector)."""
        client = self._venues.get(instrument_id.venue)
        if client is None:
            return
        channel = Channel.TICKS if instrument_id.venue is Venue.ZERODHA else Channel.TRADES
        self.spawn(client.subscribe([instrument_id], [channel]), f"subscribe {instrument_id}")

    def spawn(self, work: Awaitable[None], what: str) -> None:
        """Run background work on the loop; log (never raise) its failure."""
        async def run() -> None:
            try:
                await work
            except ShrivenQuantError as exc:
                log.warning("%s failed: %s", what, exc)
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@dataclass(eq=False)
class BarWatch:
    """A watcher's handle on a live feed; close() releases it."""

    service: BarService
    feed: "_Feed"
    closed: bool = False

    @property
    def instrument_id(self) -> InstrumentId:
        return self.feed.instrument_id

    @property
    def timeframe(self) -> Timeframe:
        return self.feed.timeframe

    @property
    def series(self) -> BarSeries:
        """History and live bars as floats (the object a chart keeps; it updates in place)."""
        return self.feed.series

    @property
    def current(self) -> BarEvent | None:
        """The building bar as published (merged with history in the overlap bucket)."""
        bar = self.feed.builder.current
        return None if bar is None else self.feed.event(bar)

    def close(self) -> None:
        self.service.unwatch(self)


@dataclass(eq=False)
class _Feed:
    """One pair's live builder, its joined series and the history/live join state."""

    service: BarService
    instrument_id: InstrumentId
    timeframe: Timeframe
    refs: int = 0
    series: BarSeries = field(default_factory=BarSeries)
    first_live: Bar | None = None  # the latest snapshot of the first live bucket
    overlap: BarEvent | None = None  # the history bar of that bucket, merged into it
    history_last: BarEvent | None = None  # newest history bar in the series
    held: bool = False  # live rows wait for a gap backfill
    _baseline: Decimal | None = None  # Kite: cumulative day volume seen so far
    _baseline_day: int | None = None

    def __post_init__(self) -> None:
        self.session = session_of(self.instrument_id.venue)
        self.builder = BarBuilder(str(self.instrument_id), self.timeframe, self.session,
                                  allowed_lateness_ns=self.service.allowed_lateness_ns, on_update=self._on_update,
                                  on_close=self._on_close)
        bus = self.service.bus
        if self.instrument_id.venue is Venue.ZERODHA:
            self._sub = bus.subscribe(Tick, self._on_tick, key=self.instrument_id)
        else:
            self._sub = bus.subscribe(TradePrint, self._on_trade, key=self.instrument_id)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._sub.close()

    # input -------------------------------------------------------------------------------------------
    def _on_trade(self, trade: TradePrint) -> None:
        self.builder.on_trade(trade.price, trade.quantity, trade.ts_ns)

    def _on_tick(self, tick: Tick) -> None:
        if tick.last_price is not None:
            self.builder.on_trade(tick.last_price, self._volume_delta(tick), tick.ts_ns)

    def _volume_delta(self, tick: Tick) -> Decimal:
        """The volume traded since the previous tick, from Kite's cumulative day volume."""
        if tick.volume is None:
            return _ZERO
        day = datetime.fromtimestamp(tick.ts_ns // NS, self.session.tz).toordinal()
        baseline = self._baseline
        if baseline is None or self._baseline_day is None or day > self._baseline_day:
            self._baseline, self._baseline_day = tick.volume, day
            return _ZERO
        if day < self._baseline_day or tick.volume <= baseline:
            return _ZERO  # a late tick of an earlier day, or no new volume
        self._baseline = tick.volume
        return tick.volume - baseline

    # output ------------------------------------------------------------------------------------------
    def event(self, bar: Bar) -> BarEvent:
        """The bar as published: merged with the overlapping history bar in its bucket."""
        hist = self.overlap
        if hist is None or hist.start_ns != bar.start_ns:
            return bar.to_event()
        return BarEvent(hist.instrument_id, hist.timeframe, hist.start_ns, hist.open, max(hist.high, bar.high),
                        min(hist.low, bar.low), bar.close, hist.volume + bar.volume, bar.closed)

    def _on_update(self, bar: Bar) -> None:
        if self.first_live is None:
            self.first_live = bar
            self._first_bar(bar)
        elif bar.start_ns == self.first_live.start_ns:
            self.first_live = bar
        event = self.event(bar)
        if not self.held:
            _upsert(self.series, event)
        self.service.bus.publish(event)

    def _on_close(self, bar: Bar) -> None:
        if self.first_live is not None and bar.start_ns == self.first_live.start_ns:
            self.first_live = bar
        event = self.event(bar)
        if not self.held:
            _upsert(self.series, event)
        self.service.bus.publish(event)

    # the join ------------------------------------------------------------------------------------------
    def _first_bar(self, bar: Bar) -> None:
        """The first live bar arrived after history was joined: merge an overlap, or backfill a gap."""
        last = self.history_last
        if last is None or bar.start_ns < last.start_ns:
            return
        if bar.start_ns == last.start_ns:
            self.overlap = last
            return
        gap_start = self._history_end(last)
        if next_trading_bucket(gap_start, self.timeframe, self.session) < bar.start_ns:
            self.held = True
            self.service.spawn(self._backfill(gap_start, bar.start_ns), f"gap backfill of {self.instrument_id}")

    async def _backfill(self, gap_start: int, first_live_ns: int) -> None:
        try:
            bars = await self.service.fetcher.bars(self.instrument_id, self.timeframe, gap_start, first_live_ns - 1)
            for bar in bars:
                if gap_start <= bar.start_ns < first_live_ns:
                    _upsert(self.series, bar)
                    self.history_last = bar
        finally:
            self.held = False
            live = self.builder.series
            for row in range(len(live)):
                self.series.upsert(int(live.start_ns[row]), *(float(getattr(live, c)[row])
                                                             for c in ("open", "high", "low", "close", "volume")))

    async def join(self, history: list[BarEvent]) -> None:
        """Put loaded history under the live bars (see the module docstring for the rule)."""
        if not history:
            return
        first = self.first_live
        if first is None:
            self._add_history(history)
            self.history_last = history[-1]
            return
        older = [b for b in history if b.start_ns < first.start_ns]
        self.overlap = next((b for b in history if b.start_ns == first.start_ns), None)
        if older and self.overlap is None:
            gap_start = self._history_end(older[-1])
            if next_trading_bucket(gap_start, self.timeframe, self.session) < first.start_ns:
                gap = await self.service.fetcher.bars(self.instrument_id, self.timeframe, gap_start, first.start_ns - 1)
                older = [b for b in older if b.start_ns < gap_start] + [b for b in gap if b.start_ns < first.start_ns]
        self._add_history(older)
        if self.overlap is not None:
            current = self.builder.current
            event = self.event(current if current is not None and current.start_ns == first.start_ns else first)
            _upsert(self.series, event)
            self.service.bus.publish(event)

    def _add_history(self, history: list[BarEvent]) -> None:
        """Insert bars older than the series' first row; replace or append the rest where rows exist."""
        head = int(self.series.start_ns[0]) if len(self.series) else None
        self.series.join_history([b for b in history if head is None or b.start_ns < head])
        if head is None or self.first_live is not None:
            return
        for bar in history:
            if bar.start_ns >= head:
                _upsert(self.series, bar)

    def _history_end(self, bar: BarEvent) -> int:
        """Where history stops being final: after a closed bar, or at a partial one (refetched)."""
        return bucket_end(bar.start_ns, self.timeframe, self.session) if bar.closed else bar.start_ns


def _upsert(series: BarSeries, bar: BarEvent) -> None:
    try:
        series.upsert(bar.start_ns, float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume))
    except ValueError:
        log.debug("bar at %d falls in a hole of the series; skipped", bar.start_ns)
