"""Emulator candles in each venue's alignment, and BarService end to end over loopback through the real connectors."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from connectors.binance.spot import BinanceSpotClient
from connectors.emulator.exchange import Exchange
from connectors.emulator.markets.candles import MINUTE_NS, CandleSeries
from connectors.emulator.server import EmulatorServer
from connectors.zerodha.client import KiteEndpoints, ZerodhaClient
from core.bus import EventBus
from core.domain import BarEvent, InstrumentId, Venue
from core.journal import Journal
from core.marketdata.bar_service import BarService

IST, UTC = ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")
NS = 1_000_000_000
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
NIFTY = InstrumentId(Venue.ZERODHA, "NIFTY 50")
IST_MIDNIGHT = int(datetime(1970, 1, 1, tzinfo=IST).timestamp()) * NS
IST_0915 = int(datetime(1970, 1, 1, 9, 15, tzinfo=IST).timestamp()) * NS


def minutes(first_ns: int, count: int) -> CandleSeries:
    series = CandleSeries()
    starts = first_ns + MINUTE_NS * np.arange(count)
    prices = 100.0 + np.arange(count)
    series.load(starts, np.column_stack([prices, prices + 0.5, prices - 0.5, prices + 0.25, np.ones(count)]))
    return series


def test_candles_align_to_the_epoch_by_default_and_to_an_origin_when_given() -> None:
    first = int(datetime(2024, 1, 10, 9, 0, tzinfo=IST).timestamp()) * NS  # 03:30 UTC
    series = minutes(first, 120)
    utc_hours = series.query(3600, first, first + 120 * MINUTE_NS)
    assert [c.start_ns % (3600 * NS) for c in utc_hours] == [0, 0, 0] and utc_hours[0].start_ns == first - 1800 * NS
    kite_hours = series.query(3600, first, first + 120 * MINUTE_NS, IST_0915)
    assert [datetime.fromtimestamp(c.start_ns / NS, IST).strftime("%H:%M") for c in kite_hours] == ["08:15", "09:15", "10:15"]
    assert [c.trades for c in kite_hours] == [15, 60, 45] and str(kite_hours[1].open) == "115.00"
    days = series.query(86400, first, first + 120 * MINUTE_NS, IST_MIDNIGHT)
    assert [datetime.fromtimestamp(c.start_ns / NS, IST).time() for c in days] == [time(0)] and days[0].trades == 120


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=3, history_minutes=3 * 24 * 60)) as emu:
        yield emu


async def until(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.timeout(60)
async def test_bar_service_loads_and_streams_binance_and_kite_candles(emulator: EmulatorServer, tmp_path: Path) -> None:
    bus = EventBus()
    binance = BinanceSpotClient.from_url(bus, emulator.endpoints["binance_rest"])
    kite = ZerodhaClient(bus, KiteEndpoints.from_emulator(emulator.endpoints), "demo-kite-key", api_secret="demo-kite-secret",
                         cache_dir=tmp_path / "kite")
    journal = Journal.open(tmp_path / "journal.db")
    service = BarService(bus, {Venue.BINANCE: binance, Venue.ZERODHA: kite}, journal.cache)
    try:
        await binance.connect()
        await kite.login_headless()
        await kite.connect()

        asked_ns = emulator.exchange.now_ns()
        btc = await service.load(BTC, "1m", 500)
        starts = btc.start_ns.tolist()
        # 500 buckets up to now; the running one has a bar only once something has traded in it
        assert len(starts) in (499, 500) and all(b - a == 60 * NS for a, b in zip(starts, starts[1:]))
        assert starts[-1] >= asked_ns // (60 * NS) * 60 * NS - 60 * NS  # the running minute (or one just closed)
        requests = service.fetcher.requests
        again = await service.load(BTC, "1m", 500)
        assert service.fetcher.requests == requests + 1 and again.start_ns[0] >= starts[0]  # only the tail

        weeks = await service.load(BTC, "1w", 2)  # Binance weeks start on Monday 00:00 UTC
        assert len(weeks) >= 1 and all(datetime.fromtimestamp(s / NS, UTC).strftime("%a %H:%M") == "Mon 00:00"
                                       for s in weeks.start_ns.tolist())

        five = await service.load(NIFTY, "5m", 100)
        assert len(five) in (99, 100) and all((s - IST_0915) % (300 * NS) == 0 for s in five.start_ns.tolist())
        hours = await service.load(NIFTY, "1h", 10)
        assert [datetime.fromtimestamp(s / NS, IST).minute for s in hours.start_ns.tolist()] == [15] * len(hours)
        days = await service.load(NIFTY, "1d", 3)
        assert len(days) >= 2 and all(datetime.fromtimestamp(s / NS, IST).time() == time(0) for s in days.start_ns.tolist())
        assert [b.start_ns for b in journal.cache.load_candles(NIFTY, "1d")] == days.start_ns.tolist()[:-1]

        live: list[BarEvent] = []
        bus.subscribe(BarEvent, live.append)
        watches = [service.watch(BTC, "1m"), service.watch(NIFTY, "1m")]
        chart = await service.load(NIFTY, "1m", 50)
        await until(lambda: {e.instrument_id for e in live} == {BTC, NIFTY})
        assert chart is watches[1].series and len(chart) in (50, 51)
        assert all(np.diff(chart.start_ns) > 0)
        for watch in watches:
            watch.close()
    finally:
        await service.stop()
        await binance.close()
        await kite.close()
        journal.close()
