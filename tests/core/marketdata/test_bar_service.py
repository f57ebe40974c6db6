"""BarService: cache-first history with paging and progress, resampling, Kite tick bars, the history/live join."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bus import EventBus
from core.domain import BarEvent, InstrumentId, ProgressEvent, Tick, TradePrint, Venue
from core.journal import Journal, MarketCache
from core.marketdata.bar_history import lookback_start, source_timeframe
from core.marketdata.bar_service import BarService
from core.marketdata.resample import bucket_starts, resample
from core.marketdata.series import BarSeries
from core.marketdata.timeframes import NS, NSE_SESSION, UTC_SESSION, Timeframe, bucket_end, bucket_start

UTC, IST = ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
INFY = InstrumentId(Venue.ZERODHA, "INFY")
MIN = 60 * NS


def at(*parts: int, tz: ZoneInfo = UTC) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp()) * NS


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def minute_bars(iid: InstrumentId, first: int, count: int, step: int = MIN, timeframe: str = "1m") -> list[BarEvent]:
    """Bar i: open 100+i, high open+2, low open-1, close open+1, volume i+1 (closed is set by the venue)."""
    return [BarEvent(iid, timeframe, first + i * step, D(100 + i), D(102 + i), D(99 + i), D(101 + i), D(i + 1), True)
            for i in range(count)]


class FakeVenue:
    """Serves known candles between two times, as a connector would: the running bar is not closed."""

    def __init__(self, clock: Clock, candles: dict[str, list[BarEvent]]) -> None:
        self.clock = clock
        self.candles = candles
        self.calls: list[tuple[str, int, int]] = []
        self.lag_once: int | None = None  # the next answer lacks bars starting after this (a venue lagging)

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        self.calls.append((timeframe, start_ns, end_ns))
        now = self.clock()
        if self.lag_once is not None:
            end_ns, self.lag_once = min(end_ns, self.lag_once), None
        session = NSE_SESSION if instrument_id.venue is Venue.ZERODHA else UTC_SESSION
        return [replace(b, closed=bucket_end(b.start_ns, Timeframe(timeframe), session) <= now)
                for b in self.candles.get(timeframe, []) if start_ns <= b.start_ns <= min(end_ns, now)]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "journal.db", clock_ns=lambda: 0)
    yield j
    j.close()


@pytest.fixture
def cache(journal: Journal) -> MarketCache:
    return journal.cache


def rows(series: BarSeries) -> list[tuple[int, float, float, float, float, float]]:
    return [(int(series.start_ns[i]), *(float(getattr(series, c)[i]) for c in ("open", "high", "low", "close", "volume")))
            for i in range(len(series))]


def row(bar: BarEvent) -> tuple[int, float, float, float, float, float]:
    return (bar.start_ns, float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume))


def recorder(bus: EventBus, kind: type) -> list:  # type: ignore[type-arg]
    seen: list = []  # type: ignore[type-arg]
    bus.subscribe(kind, seen.append)
    return seen


# history: cache, tail, pages, progress -------------------------------------------------------------------

async def test_first_load_fetches_and_caches_then_only_the_tail_is_fetched(cache: MarketCache) -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    venue_bars = minute_bars(BTC, at(2024, 1, 10, 10), 240)
    venue = FakeVenue(clock, {"1m": venue_bars})
    service = BarService(EventBus(), venue.history, cache, clock)
    series = await service.load(BTC, Timeframe.M1, 60)
    by_start = {b.start_ns: b for b in venue_bars}
    assert venue.calls == [("1m", at(2024, 1, 10, 11, 1), clock.now)]
    assert rows(series) == [row(by_start[at(2024, 1, 10, 11, 1) + i * MIN]) for i in range(60)]
    cached = cache.load_candles(BTC, "1m")
    assert [b.start_ns for b in cached] == [at(2024, 1, 10, 11, 1) + i * MIN for i in range(59)]  # 12:00 still running
    assert cached[-1] == by_start[at(2024, 1, 10, 11, 59)]  # Decimal values kept exactly

    clock.now = at(2024, 1, 10, 12, 5, 30)
    series = await service.load(BTC, Timeframe.M1, 60)
    assert venue.calls[1:] == [("1m", at(2024, 1, 10, 12, 0), clock.now)]  # only the tail after the cached span
    assert rows(series)[-1] == row(by_start[at(2024, 1, 10, 12, 5)]) and len(series) == 60
    assert rows(series)[0] == row(by_start[at(2024, 1, 10, 11, 6)])

    reopened = BarService(EventBus(), venue.history, cache, clock)  # a new session on the same journal
    again = await reopened.load(BTC, "1m", 60)
    assert venue.calls[2:] == [("1m", at(2024, 1, 10, 12, 5), clock.now)]
    assert rows(again) == rows(series)


async def test_a_head_the_venue_has_nothing_for_is_asked_once(cache: MarketCache) -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    venue = FakeVenue(clock, {"1m": minute_bars(BTC, at(2024, 1, 10, 11, 30), 40)})  # listed at 11:30
    service = BarService(EventBus(), venue.history, cache, clock)
    assert len(await service.load(BTC, "1m", 60)) == 31
    assert len(await service.load(BTC, "1m", 60)) == 31
    assert [c[1] for c in venue.calls] == [at(2024, 1, 10, 11, 1), at(2024, 1, 10, 12, 0)]


async def test_a_long_backfill_is_paged_and_reports_progress(cache: MarketCache) -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    venue = FakeVenue(clock, {"1m": minute_bars(BTC, at(2024, 1, 8), 4000)})
    bus = EventBus()
    progress = recorder(bus, ProgressEvent)
    series = await BarService(bus, venue.history, cache, clock).load(BTC, "1m", 2500)
    assert len(series) == 2500 and len(venue.calls) == 3
    assert all(c[2] - c[1] < 1000 * MIN for c in venue.calls)  # at most 1000 klines a request
    assert [c[1] for c in venue.calls] == [venue.calls[0][1] + i * 1000 * MIN for i in range(3)]
    fractions = [p.fraction for p in progress]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions) and len(fractions) == 4
    assert progress[-1].task == "History BTCUSDT 1m" and progress[-1].detail == "2500 bars"


async def test_a_failed_fetch_returns_the_cache_and_ends_the_progress(cache: MarketCache) -> None:
    from core.errors import TransportError

    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    cache.store_candles(minute_bars(BTC, at(2024, 1, 10, 11, 1), 10))

    async def down(*_: object) -> list[BarEvent]:
        raise TransportError("offline")

    bus = EventBus()
    progress = recorder(bus, ProgressEvent)
    series = await BarService(bus, down, cache, clock).load(BTC, "1m", 60)
    assert len(series) == 10 and progress[-1].fraction == 1.0 and "offline" in progress[-1].detail


# timeframes the venue lacks ---------------------------------------------------------------------------------

def test_venue_intervals_and_the_finer_source_of_the_rest() -> None:
    assert source_timeframe(Venue.BINANCE, Timeframe.W1) is Timeframe.W1
    assert source_timeframe(Venue.BINANCE, Timeframe.S15) is Timeframe.S1
    assert source_timeframe(Venue.ZERODHA, Timeframe.H4) is Timeframe.H1
    assert source_timeframe(Venue.ZERODHA, Timeframe.MN1) is Timeframe.D1
    assert source_timeframe(Venue.ZERODHA, Timeframe.S5) is None


def test_resample_one_minute_to_three_minutes_exactly() -> None:
    bars = minute_bars(BTC, at(2024, 1, 10, 12, 0), 7)
    out = resample(bars, Timeframe.M3, UTC_SESSION, at(2024, 1, 10, 12, 7, 30))
    assert [(b.start_ns, b.open, b.high, b.low, b.close, b.volume, b.closed) for b in out] == [
        (at(2024, 1, 10, 12, 0), D(100), D(104), D(99), D(103), D(6), True),
        (at(2024, 1, 10, 12, 3), D(103), D(107), D(102), D(106), D(15), True),
        (at(2024, 1, 10, 12, 6), D(106), D(108), D(105), D(107), D(7), False)]  # 12:06-12:09 still running
    assert all(b.timeframe == "3m" for b in out)


def test_resample_to_one_hour_follows_the_nse_0915_anchor() -> None:
    bars = minute_bars(INFY, at(2024, 1, 10, 9, 15, tz=IST), 66)
    bars[10] = replace(bars[10], high=D("250.5"), low=D("12.25"), volume=D("0.001"))
    out = resample(bars, Timeframe.H1, NSE_SESSION, at(2024, 1, 10, 11, tz=IST))
    assert [(b.start_ns, b.open, b.high, b.low, b.close, b.volume) for b in out] == [
        (at(2024, 1, 10, 9, 15, tz=IST), D(100), D("250.5"), D("12.25"), D(160), D(1830) - D(11) + D("0.001")),
        (at(2024, 1, 10, 10, 15, tz=IST), D(160), D(167), D(159), D(166), sum(D(i + 1) for i in range(60, 66)))]
    assert [b.closed for b in out] == [True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(at(2023, 1, 1), at(2026, 1, 1)), min_size=1, max_size=20),
       st.sampled_from(list(Timeframe)), st.sampled_from([UTC_SESSION, NSE_SESSION]))
def test_vectorised_bucket_starts_match_the_scalar_function(ts: list[int], timeframe: Timeframe, session: object) -> None:
    got = bucket_starts(np.array(ts, dtype=np.int64), timeframe, session)  # type: ignore[arg-type]
    assert got.tolist() == [bucket_start(t, timeframe, session) for t in ts]  # type: ignore[arg-type]


async def test_kite_four_hour_bars_are_resampled_from_cached_hours(cache: MarketCache) -> None:
    clock = Clock(at(2024, 1, 10, 15, 40, tz=IST))
    hours = [b for day in (8, 9, 10) for b in minute_bars(INFY, at(2024, 1, day, 9, 15, tz=IST), 7, 3600 * NS, "1h")]
    venue = FakeVenue(clock, {"1h": hours})
    series = await BarService(EventBus(), venue.history, cache, clock).load(INFY, Timeframe.H4, 4)
    assert [c[0] for c in venue.calls] == ["1h"] and [b.timeframe for b in cache.load_candles(INFY, "1h")][:1] == ["1h"]
    assert rows(series) == [(at(2024, 1, 9, 9, 15, tz=IST), 100, 105, 99, 104, 10), (at(2024, 1, 9, 13, 15, tz=IST), 104, 108, 103, 107, 18),
                            (at(2024, 1, 10, 9, 15, tz=IST), 100, 105, 99, 104, 10), (at(2024, 1, 10, 13, 15, tz=IST), 104, 108, 103, 107, 18)]


async def test_a_kite_seconds_chart_has_no_history() -> None:
    clock = Clock(at(2024, 1, 10, 10, tz=IST))
    venue = FakeVenue(clock, {})
    assert len(await BarService(EventBus(), venue.history, None, clock).load(INFY, "5s", 100)) == 0 and venue.calls == []


def test_lookback_skips_nights_and_weekends_on_nse() -> None:
    now = at(2024, 1, 10, 11, tz=IST)  # a Wednesday
    assert lookback_start(now, Timeframe.M1, NSE_SESSION, 200) == at(2024, 1, 9, 13, 56, tz=IST)
    assert lookback_start(now, Timeframe.M5, NSE_SESSION, 100) == at(2024, 1, 8, 15, 15, tz=IST)
    assert lookback_start(now, Timeframe.H1, NSE_SESSION, 20) == at(2024, 1, 5, 12, 15, tz=IST)  # over the weekend
    assert lookback_start(now, Timeframe.D1, NSE_SESSION, 10) == at(2023, 12, 28, tz=IST)
    assert lookback_start(now, Timeframe.H1, UTC_SESSION, 5) == at(2024, 1, 10, 1)


# live bars from Kite ticks ------------------------------------------------------------------------------------

async def test_kite_ticks_with_cumulative_volume_make_exact_bars() -> None:
    bus = EventBus()
    service = BarService(bus, FakeVenue(Clock(0), {}).history, None, Clock(0))
    closed: list[BarEvent] = []
    bus.subscribe(BarEvent, lambda e: closed.append(e) if e.closed else None)
    watch = service.watch(INFY, Timeframe.M1)

    def tick(hh: int, mm: int, ss: int, price: str, volume: int, day: int = 10) -> None:
        bus.publish(Tick(INFY, at(2024, 1, day, hh, mm, ss, tz=IST), last_price=D(price), volume=D(volume)))

    tick(9, 15, 5, "100", 1000)  # the first tick sets the baseline: no volume
    tick(9, 15, 30, "101.5", 1010)
    tick(9, 16, 0, "99", 1015)  # exactly on the boundary: opens 09:16, closes 09:15
    tick(9, 16, 59, "98", 1015)
    tick(9, 18, 10, "102", 1030)  # 09:17 had no tick: no bar
    tick(9, 15, 50, "50", 1012)  # late (09:15 is not the last bar): dropped, and it brings no volume
    tick(9, 18, 20, "102.5", 1034)
    tick(9, 15, 2, "103", 500, day=11)  # the next day: cumulative volume restarted, this tick is the new baseline
    tick(9, 15, 40, "104", 520, day=11)
    service.advance(at(2024, 1, 11, 9, 16, 1, tz=IST))
    assert [(e.start_ns, e.open, e.high, e.low, e.close, e.volume) for e in closed] == [
        (at(2024, 1, 10, 9, 15, tz=IST), D(100), D("101.5"), D(100), D("101.5"), D(10)),
        (at(2024, 1, 10, 9, 16, tz=IST), D(99), D(99), D(98), D(98), D(5)),
        (at(2024, 1, 10, 9, 18, tz=IST), D(102), D("102.5"), D(102), D("102.5"), D(19)),
        (at(2024, 1, 11, 9, 15, tz=IST), D(103), D(104), D(103), D(104), D(20))]
    assert all(e.timeframe == "1m" and e.instrument_id == INFY for e in closed)
    assert watch.feed.builder.dropped == 1 and len(watch.series) == 4


async def test_two_watchers_share_one_feed_until_the_last_one_leaves() -> None:
    bus = EventBus()
    service = BarService(bus, FakeVenue(Clock(0), {}).history, None, Clock(0))
    events = recorder(bus, BarEvent)
    first, second = service.watch(BTC, "1m"), service.watch(BTC, Timeframe.M1)
    assert first.series is second.series and service.watching() == [(BTC, Timeframe.M1)]
    first.close()
    first.close()  # idempotent
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12), D(1), D(2)))
    assert len(events) == 1 and second.current is not None and second.current.volume == D(2)
    second.close()
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 0, 1), D(1), D(2)))
    assert len(events) == 1 and service.watching() == []


# the history/live join ---------------------------------------------------------------------------------

async def joined_service(clock: Clock) -> tuple[BarService, EventBus, FakeVenue, list[BarEvent]]:
    venue = FakeVenue(clock, {"1m": minute_bars(BTC, at(2024, 1, 10, 11), 120)})
    bus = EventBus()
    return BarService(bus, venue.history, None, clock), bus, venue, recorder(bus, BarEvent)


async def test_history_then_live_merges_the_overlapping_bar() -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    service, bus, venue, events = await joined_service(clock)
    watch = service.watch(BTC, "1m")
    series = await service.load(BTC, "1m", 10)
    assert series is watch.series and rows(series)[-1] == row(venue.candles["1m"][60])  # 12:00: O160 H162 L159 C161 V61
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 0, 40), D("162.5"), D("0.25")))
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 0, 50), D("158"), D("0.5")))
    merged = (at(2024, 1, 10, 12), D(160), D("162.5"), D(158), D(158), D("61.75"))
    assert (events[-1].start_ns, events[-1].open, events[-1].high, events[-1].low, events[-1].close, events[-1].volume) == merged
    assert rows(series)[-1] == (merged[0], *(float(v) for v in merged[1:])) and len(series) == 10
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 1, 5), D(157), D(1)))
    closing = [e for e in events if e.closed]
    assert [(e.start_ns, e.open, e.high, e.low, e.close, e.volume) for e in closing] == [merged]
    assert rows(series)[-1] == (at(2024, 1, 10, 12, 1), 157, 157, 157, 157, 1) and len(series) == 11
    assert len(venue.calls) == 1  # no gap, nothing more fetched


async def test_live_then_history_merges_the_overlapping_bar() -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 45))
    service, bus, venue, events = await joined_service(clock)
    service.watch(BTC, "1m")
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 0, 40), D(170), D("0.5")))
    series = await service.load(BTC, "1m", 10)
    assert rows(series) == [row(b) for b in venue.candles["1m"][51:60]] + [(at(2024, 1, 10, 12), 160, 170, 159, 170, 61.5)]
    assert (events[-1].high, events[-1].close, events[-1].volume, events[-1].closed) == (D(170), D(170), D("61.5"), False)


async def test_a_gap_between_history_and_the_first_live_bar_is_backfilled_once() -> None:
    clock = Clock(at(2024, 1, 10, 12, 0, 30))
    service, bus, venue, _ = await joined_service(clock)
    watch = service.watch(BTC, "1m")
    await service.load(BTC, "1m", 10)  # history ends with 12:00, still running then
    clock.now = at(2024, 1, 10, 12, 5, 10)  # the first trade comes five minutes later
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 5, 10), D(200), D(3)))
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 5, 11), D(201), D(1)))
    await service.drain()
    assert venue.calls[1:] == [("1m", at(2024, 1, 10, 12), at(2024, 1, 10, 12, 5) - 1)]
    history = venue.candles["1m"]
    assert rows(watch.series) == [row(b) for b in history[51:65]] + [(at(2024, 1, 10, 12, 5), 200, 201, 200, 201, 4)]
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 6, 1), D(202), D(1)))
    await service.drain()
    assert len(venue.calls) == 2 and len(watch.series) == 16


async def test_a_gap_found_when_history_arrives_after_live_bars_is_filled_before_the_join() -> None:
    clock = Clock(at(2024, 1, 10, 12, 5, 10))
    service, bus, venue, _ = await joined_service(clock)
    watch = service.watch(BTC, "1m")
    bus.publish(TradePrint(BTC, at(2024, 1, 10, 12, 5, 5), D(200), D(3)))
    venue.lag_once = at(2024, 1, 10, 12, 2)  # the history answer stops at 12:02
    series = await service.load(BTC, "1m", 10)
    assert venue.calls[1:] == [("1m", at(2024, 1, 10, 12, 3), at(2024, 1, 10, 12, 5) - 1)]
    assert rows(series) == [row(b) for b in venue.candles["1m"][56:65]] + [(at(2024, 1, 10, 12, 5), 200, 200, 200, 200, 3)]
    assert series is watch.series
