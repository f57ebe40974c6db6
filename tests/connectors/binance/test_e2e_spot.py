"""Our spot connector end to end against the exchange emulator over loopback: the live book on the bus
equals the exchange's book; orders placed, modified (cancel-replace) and cancelled; fills and reports
reach the bus in order; the Ed25519 session.logon user stream; history paging; unsubscribing."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from decimal import Decimal as D

import pytest
from bn_helpers import BusBook, Recorder, away_from_market, freeze, settle_and_compare, wait_for
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from connectors.binance import BinanceSpotClient, BinanceUsdmClient
from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET, register_ed25519_key
from core.domain import (BarEvent, BookDelta, ClientOrderId, ConnectionChanged, ConnectionStatus, FillEvent, InstrumentId, Order,
                         OrderRequest, OrderStatus, OrderType, Side, Tick, TimeInForce, TradePrint, Venue, VenueOrderReport)
from core.errors import AuthError
from core.venue import Channel

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
TICK = D("0.01")


def _limit(cid: str, side: Side, qty: str, price: D) -> Order:
    return Order(ClientOrderId(cid), OrderRequest(BTC, side, D(qty), OrderType.LIMIT, price, time_in_force=TimeInForce.GTC))


async def test_live_book_on_the_bus_equals_the_exchange_book(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url)  # market data needs no key
    shown = BusBook(bus, BTC)
    seen = Recorder(bus, Tick, TradePrint, BarEvent)
    await client.connect()
    try:
        assert {i.symbol for i in client.instruments()} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
        await client.subscribe([BTC], [Channel.BOOK, Channel.TICKS, Channel.TRADES])
        await client.subscribe_bars(BTC, "1m")
        await wait_for(lambda: shown.snapshots == 1, what="the snapshot BookDelta")
        await wait_for(lambda: len(shown.book.bids) > 5 and client.market.books["BTCUSDT"].update_id > 0, what="a live book")
        await wait_for(lambda: bool(seen.of(Tick)) and bool(seen.of(TradePrint)), what="ticks and trades")
        await wait_for(lambda: bool(seen.of(BarEvent)), what="a kline")
        bar = seen.of(BarEvent)[-1]
        assert bar.timeframe == "1m" and bar.start_ns % 60_000_000_000 == 0 and bar.low <= bar.close <= bar.high
        await client.unsubscribe_bars(BTC, "1m")
        await settle_and_compare(spot.exchange, client, shown, "spot")
        assert client.market.books["BTCUSDT"].resyncs == 0
        last_tick = [t for t in seen.of(Tick) if t.volume is None][-1]  # the last bookTicker (miniTicker ticks carry volume)
        assert (last_tick.bid, last_tick.ask) == (shown.book.view(1).best_bid, shown.book.view(1).best_ask)
    finally:
        await client.close()


async def test_orders_modify_cancel_and_fills_reach_the_bus(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    seen = Recorder(bus, VenueOrderReport, FillEvent, ConnectionChanged)
    await freeze(spot.exchange)
    await client.connect()
    try:
        assert any(e.channel == "user" and e.status is ConnectionStatus.CONNECTED for e in seen.of(ConnectionChanged))
        resting = _limit("SQ-rest-1", Side.BUY, "0.001", away_from_market(spot.exchange, "spot", "BTCUSDT", "0.9", TICK))
        ack = await client.place_order(resting)
        assert ack.status is OrderStatus.OPEN and ack.client_order_id == "SQ-rest-1" and ack.quantity == D("0.001")
        working = replace(resting, venue_order_id=ack.venue_order_id, status=OrderStatus.OPEN)
        new_price = resting.price - 100 * TICK  # type: ignore[operator]
        moved = await client.modify_order(working, new_price, D("0.002"), None)
        assert moved.client_order_id == "SQ-rest-1" and moved.venue_order_id != ack.venue_order_id
        assert (moved.price, moved.quantity, moved.status) == (new_price, D("0.002"), OrderStatus.OPEN)
        working = replace(working, venue_order_id=moved.venue_order_id, price=moved.price, quantity=moved.quantity)
        cancelled = await client.cancel_order(working)
        assert cancelled.status is OrderStatus.CANCELLED and cancelled.client_order_id == "SQ-rest-1"
        taker = Order(ClientOrderId("SQ-take-1"), OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.MARKET))
        filled = await client.place_order(taker)
        assert filled.status is OrderStatus.FILLED and filled.filled_quantity == D("0.001")
        await wait_for(lambda: any(r.client_order_id == "SQ-take-1" and r.status is OrderStatus.FILLED
                                   for r in seen.of(VenueOrderReport)), what="the FILLED report on the stream")
        ours = [e for e in seen.events if getattr(e, "client_order_id", None) == "SQ-rest-1"]
        statuses = [r.status for r in ours]
        assert statuses.count(OrderStatus.CANCELLED) == 1 and statuses[-1] is OrderStatus.CANCELLED  # replace hid its cancel
        assert [r.venue_order_id for r in ours if r.status is OrderStatus.OPEN] == [ack.venue_order_id, moved.venue_order_id]
        taker_events = [e for e in seen.events if isinstance(e, FillEvent) and e.fill.client_order_id == "SQ-take-1"
                        or isinstance(e, VenueOrderReport) and e.client_order_id == "SQ-take-1"]
        assert type(taker_events[0]) is VenueOrderReport and taker_events[0].status is OrderStatus.OPEN
        assert type(taker_events[-1]) is VenueOrderReport and taker_events[-1].status is OrderStatus.FILLED
        fills = [e.fill for e in taker_events if isinstance(e, FillEvent)]
        assert sum(f.quantity for f in fills) == D("0.001") and all(f.side is Side.BUY for f in fills)
        assert isinstance(taker_events[taker_events.index(next(e for e in taker_events if isinstance(e, FillEvent))) + 1],
                          VenueOrderReport)  # each fill is followed by the report that counts it
        assert sum(f.price * f.quantity for f in fills) / D("0.001") == filled.average_price
        assert sorted(f.trade_id for f in await client.fills()) == sorted(f.trade_id for f in fills)
        assert await client.open_orders() == []
        assert (await client.query_order(taker)).status is OrderStatus.FILLED  # type: ignore[union-attr]
        assert await client.query_order(_limit("SQ-never", Side.BUY, "1", D(1))) is None
        balances = {b.asset: b for b in await client.balances()}
        assert balances["BTC"].free == D("0.501") and "USDT-FUT" not in balances
    finally:
        await client.close()


async def test_ed25519_key_logs_the_session_on_for_user_data(spot, bus) -> None:  # type: ignore[no-untyped-def]
    key = Ed25519PrivateKey.generate()
    register_ed25519_key("ed-test-key", key.public_key())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    client = BinanceSpotClient.from_url(bus, spot.url, api_key="ed-test-key", ed25519_pem=pem)
    seen = Recorder(bus, VenueOrderReport)
    await freeze(spot.exchange)
    await client.connect()
    try:
        assert client.user_stream_status is ConnectionStatus.CONNECTED
        price = away_from_market(spot.exchange, "spot", "BTCUSDT", "1.1", TICK)
        await client.place_order(_limit("SQ-ed-1", Side.SELL, "0.001", price))
        await wait_for(lambda: [r.client_order_id for r in seen.of(VenueOrderReport)] == ["SQ-ed-1"], what="stream report")
    finally:
        await client.close()


async def test_history_pages_through_klines(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url)
    await client.connect()
    try:
        end = time.time_ns()
        bars = await client.history(BTC, "1m", end - 1500 * 60 * 10**9, end)
        starts = [b.start_ns for b in bars]
        assert len(bars) > 1400 and starts == sorted(set(starts))  # more than one page of 1000
        assert all(b2 - b1 == 60 * 10**9 for b1, b2 in zip(starts, starts[1:]))
        assert all(b.closed for b in bars[:-1])  # the last one may be the minute still running
        assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    finally:
        await client.close()


async def test_unsubscribe_stops_the_book(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url)
    deltas = Recorder(bus, BookDelta)
    await client.connect()
    try:
        await client.subscribe([BTC], [Channel.BOOK])
        await wait_for(lambda: len(deltas.events) > 3, what="deltas")
        await client.unsubscribe([BTC], [Channel.BOOK])
        count = len(deltas.events)
        await wait_for(lambda: spot.exchange.depth("spot", "BTCUSDT", 1).last_update_id > 0, what="the market moving")
        await asyncio.sleep(0.3)
        assert len(deltas.events) == count and "BTCUSDT" not in client.market.books
    finally:
        await client.close()


@pytest.mark.parametrize("futures", [False, True], ids=["spot-bad-secret", "usdm-unknown-key"])
async def test_wrong_credentials_fail_connect_with_auth_error(spot, usdm, bus, futures: bool) -> None:  # type: ignore[no-untyped-def]
    if futures:
        client: BinanceSpotClient | BinanceUsdmClient = BinanceUsdmClient.from_url(bus, usdm.url, api_key="unknown-key", secret=DEMO_SECRET)
    else:
        client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret="not-the-secret")
    with pytest.raises(AuthError):
        await client.connect()
    await client.close()
