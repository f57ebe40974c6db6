"""The connector under the emulator's faults: dropped sockets, sequence gaps, duplicated, reordered,
delayed and malformed frames, a 5xx after placement, a 429 storm and a skewed server clock."""
from __future__ import annotations

import logging
from decimal import Decimal as D

import pytest
from bn_helpers import BusBook, Recorder, away_from_market, freeze, settle_and_compare, wait_for

from connectors.binance import BinanceSpotClient, BinanceUsdmClient
from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET
from core.domain import (ClientOrderId, ConnectionChanged, ConnectionStatus, InstrumentId, Order, OrderRequest, OrderStatus,
                         OrderType, Side, TimeInForce, TradePrint, Venue)
from core.errors import RateLimited
from core.venue import Channel

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
BTC_F = InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")


async def _booked(served, bus, futures: bool = False):  # type: ignore[no-untyped-def]
    """A connected client with BTCUSDT's book in sync, and the bus-fed book."""
    cls, iid = (BinanceUsdmClient, BTC_F) if futures else (BinanceSpotClient, BTC)
    client = cls.from_url(bus, served.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    shown = BusBook(bus, iid)
    await client.connect()
    await client.subscribe([iid], [Channel.BOOK])
    await wait_for(lambda: shown.snapshots >= 1, what="first snapshot")
    return client, shown


async def test_dropped_socket_mid_book_reconnects_and_resyncs(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client, shown = await _booked(spot, bus)
    states = Recorder(bus, ConnectionChanged)
    try:
        spot.faults.arm("drop_ws", stream="binance")
        await wait_for(lambda: client.market.book_stream.connects == 2, timeout=10.0, what="reconnect")
        await wait_for(lambda: shown.snapshots >= 2, what="a fresh snapshot after the reconnect")
        await settle_and_compare(spot.exchange, client, shown, "spot")
        market = [e.status for e in states.of(ConnectionChanged) if e.channel == "market"]
        assert market[:2] == [ConnectionStatus.RECONNECTING, ConnectionStatus.CONNECTED]
    finally:
        await client.close()


@pytest.mark.parametrize("futures", [False, True], ids=["spot", "usdm"])
async def test_sequence_gap_triggers_a_resync(emulator, spot, usdm, bus, futures: bool) -> None:  # type: ignore[no-untyped-def]
    served, market = (usdm, "usdm") if futures else (spot, "spot")
    client, shown = await _booked(served, bus, futures)
    try:
        served.faults.arm("depth_gap")
        await wait_for(lambda: served.faults.fired.get("depth_gap") == 1, what="the gap")
        await wait_for(lambda: client.market.books["BTCUSDT"].resyncs == 1, what="the gap noticed")
        await wait_for(lambda: shown.snapshots == 2, what="the resync snapshot")
        await settle_and_compare(served.exchange, client, shown, market)
    finally:
        await client.close()


@pytest.mark.parametrize("fault", ["duplicate_ws", "reorder_ws", "malformed_ws"])
async def test_duplicated_reordered_and_malformed_frames_leave_the_book_right(spot, bus, fault: str,
                                                                             caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    client, shown = await _booked(spot, bus)
    try:
        spot.faults.arm(fault, count=3)
        await wait_for(lambda: spot.faults.fired.get(fault) == 3, what=f"{fault} fired")
        await settle_and_compare(spot.exchange, client, shown, "spot")
        assert client.market.book_stream.connects == 1  # the connection was kept
        if fault == "malformed_ws":
            assert "frame skipped" in caplog.text
    finally:
        await client.close()


async def test_silent_feed_is_flagged_stale_then_live_again(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client, shown = await _booked(spot, bus)
    states = Recorder(bus, ConnectionChanged)
    try:
        spot.faults.arm("delay_ws", count=None, seconds=2.5)
        await wait_for(lambda: any(e.status is ConnectionStatus.STALE for e in states.events), timeout=3.0, what="STALE")
        spot.faults.clear("delay_ws")
        await wait_for(lambda: states.events[-1].status is ConnectionStatus.CONNECTED, timeout=4, what="CONNECTED again")
        await settle_and_compare(spot.exchange, client, shown, "spot")
    finally:
        await client.close()


async def test_5xx_after_placement_is_resolved_without_a_second_order(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    await freeze(spot.exchange)
    await client.connect()
    try:
        spot.faults.arm("http_5xx_after_order", status=503)
        price = away_from_market(spot.exchange, "spot", "BTCUSDT", "0.9", D("0.01"))
        order = Order(ClientOrderId("SQ-5xx-1"), OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price,
                                                             time_in_force=TimeInForce.GTC))
        report = await client.place_order(order)
        assert spot.faults.fired["http_5xx_after_order"] == 1
        assert report.status is OrderStatus.OPEN and report.client_order_id == "SQ-5xx-1"
        placed = [r for r in spot.exchange.orders_of("binance-demo") if r.new.client_order_id == "SQ-5xx-1"]
        assert len(placed) == 1 and report.venue_order_id == str(placed[0].order_id)
    finally:
        await client.close()


async def test_429_storm_backs_off_and_never_earns_a_418(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    await client.connect()
    try:
        spot.faults.arm("http_429", count=1, retry_after=1)
        for _ in range(10):  # a storm of calls: the first gets the 429, the rest are held back locally
            with pytest.raises(RateLimited):
                await client.balances()
        assert spot.faults.fired == {"http_429": 1}
        await wait_for(lambda: client.rest.limiter.blocked_for == 0, timeout=3, what="Retry-After to pass")
        assert await client.balances()  # the server did not ban us: no 418
    finally:
        await client.close()


@pytest.mark.parametrize("skew_ms", [10_000, -3_000], ids=["server-ahead", "server-behind"])
async def test_clock_skew_is_resynced_and_the_read_retried(spot, bus, skew_ms: int) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    await client.connect()
    try:
        offset_before = client.rest.offset_ms
        spot.faults.arm("clock_skew", count=None, ms=skew_ms)
        assert await client.balances()
        assert abs(client.rest.offset_ms - offset_before - skew_ms) < 500
    finally:
        await client.close()


async def test_logs_of_a_trading_session_hold_no_secrets(spot, usdm, bus, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    futures = BinanceUsdmClient.from_url(bus, usdm.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    await client.connect()
    await futures.connect()  # its listenKey travels in a websocket URL
    try:
        spot.faults.arm("http_5xx_after_order")
        price = away_from_market(spot.exchange, "spot", "BTCUSDT", "1.1", D("0.01"))
        await client.place_order(Order(ClientOrderId("SQ-log-1"), OrderRequest(BTC, Side.SELL, D("0.001"), OrderType.LIMIT,
                                                                               price, time_in_force=TimeInForce.GTC)))
        await client.balances()
    finally:
        await client.close()
        await futures.close()
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))
    assert "/api/v3/order" in text and "/fapi/v1/listenKey" in text  # paths are logged
    for secret in (DEMO_API_KEY, DEMO_SECRET, "signature", "listenKey=", "timestamp="):
        assert secret not in text


async def test_connection_is_renewed_before_its_age_limit_and_the_book_resyncs(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, stream_max_age_s=1.0)
    shown = BusBook(bus, BTC)
    await client.connect()
    try:
        await client.subscribe([BTC], [Channel.BOOK])
        await wait_for(lambda: client.market.book_stream.connects >= 2, timeout=4, what="the renewal")
        await wait_for(lambda: shown.snapshots >= 2, what="the snapshot after the renewal")
        await settle_and_compare(spot.exchange, client, shown, "spot")
    finally:
        await client.close()


async def test_many_subscriptions_are_paced_under_the_message_limit(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url)
    ticks = Recorder(bus, TradePrint)
    await client.connect()
    try:
        symbols = [InstrumentId(Venue.BINANCE, s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
        for iid in symbols:  # nine separate SUBSCRIBE messages in a burst: 5/s would get us disconnected
            for channel in (Channel.TICKS, Channel.TRADES, Channel.BOOK):
                await client.subscribe([iid], [channel])
        assert client.market.book_stream.connects == 1 and len(client.market.book_stream.wanted) == 12  # + miniTicker
        await wait_for(lambda: {t.instrument_id.symbol for t in ticks.events} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"},
                       what="trades of all three")
        assert client.market.book_stream.connects == 1
    finally:
        await client.close()
