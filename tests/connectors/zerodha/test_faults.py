"""The connector under the emulator's faults: token expiry, dropped and silent tickers, malformed frames,
429s, a 5xx after placement (no duplicate), and giving up on reconnection."""
from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.emulator.kite.state import KiteState
from connectors.emulator.server import EmulatorServer
from connectors.zerodha.client import ZerodhaClient
from connectors.zerodha.instruments import InstrumentIndex, parse_dump
from connectors.zerodha.orders import OrderDesk
from connectors.zerodha.ratelimit import KiteLimits
from connectors.zerodha.rest import KiteRest
from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, ConnectionChanged, ConnectionStatus, InstrumentId, Order, OrderRequest,
                         OrderStatus, OrderType, Product, Side, Tick, Venue, VenueOrderReport)
from core.errors import AuthError, OrderOutcomeUnknown, RateLimited
from core.venue import Channel

from kite_helpers import Recorder, make_client, wait_for

INFY = InstrumentId(Venue.ZERODHA, "INFY")
SBIN = InstrumentId(Venue.ZERODHA, "SBIN")


def ticker_states(events: Recorder) -> list[ConnectionStatus]:
    return [e.status for e in events.of(ConnectionChanged) if e.channel == "ticker"]


def market_order(cid: str) -> Order:
    return Order(ClientOrderId(cid), OrderRequest(INFY, Side.BUY, Decimal(2), OrderType.MARKET, product=Product.CNC))


async def test_token_expiry_mid_session_and_relogin(client: ZerodhaClient, bus: EventBus, kite: KiteState,
                                                   emulator: EmulatorServer) -> None:
    events = Recorder(bus, ConnectionChanged, Tick, VenueOrderReport)
    await client.subscribe([INFY], [Channel.TICKS])
    bid = emulator.exchange.depth("NSE", "INFY", 1).bids[0][0]
    resting = await client.place_order(Order(ClientOrderId("SQKEEP1"), OrderRequest(
        INFY, Side.BUY, Decimal(1), OrderType.LIMIT, bid - 60, product=Product.CNC)))
    await wait_for(lambda: events.of(Tick), what="ticks")
    kite.faults.arm("expire_token")
    with pytest.raises(AuthError):
        await client.positions()
    rest_states = [(e.status, e.detail) for e in events.of(ConnectionChanged) if e.channel == "rest"]
    assert rest_states[-1] == (ConnectionStatus.FAILED, "login required")
    await wait_for(lambda: ticker_states(events)[-1] is ConnectionStatus.FAILED, what="ticker refused")
    assert client.stream.modes == {408065: "full"}  # nothing forgotten
    with pytest.raises(AuthError, match="not logged in"):
        await client.place_order(market_order("SQNOPE1"))
    before = len(events.of(VenueOrderReport))
    await client.login_headless()
    await wait_for(lambda: ticker_states(events)[-1] is ConnectionStatus.CONNECTED, what="ticker back")
    ticks = len(events.of(Tick))
    await wait_for(lambda: len(events.of(Tick)) > ticks, what="ticks after re-login")
    await wait_for(lambda: any(r.venue_order_id == resting.venue_order_id for r in events.of(VenueOrderReport)[before:]),
                   what="the order book re-read after the reconnect")
    assert (await client.positions()) == []


async def test_dropped_ticker_resubscribes_every_token_in_its_mode(client: ZerodhaClient, bus: EventBus, kite: KiteState) -> None:
    events = Recorder(bus, ConnectionChanged, Tick, BookDelta)
    await client.subscribe([INFY], [Channel.TICKS, Channel.BOOK])
    await client.subscribe([SBIN], [Channel.TRADES])
    await wait_for(lambda: events.of(BookDelta), what="depth")
    kite.faults.arm("drop_ws", stream="kite")
    await wait_for(lambda: client.stream.connects == 2 and ticker_states(events)[-1] is ConnectionStatus.CONNECTED,
                   what="reconnected")
    assert ConnectionStatus.RECONNECTING in ticker_states(events)
    books, ticks = len(events.of(BookDelta)), len(events.of(Tick))
    await wait_for(lambda: len(events.of(BookDelta)) > books and len(events.of(Tick)) > ticks, what="full mode again")
    assert client.stream.modes == {408065: "full", 779521: "quote"}


async def test_malformed_frames_are_dropped_and_logged(client: ZerodhaClient, bus: EventBus, kite: KiteState,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    events = Recorder(bus, Tick)
    await client.subscribe([INFY], [Channel.TICKS])
    await wait_for(lambda: events.of(Tick), what="ticks")
    caplog.set_level(logging.WARNING, "connectors.zerodha.stream")
    kite.faults.arm("malformed_ws", kind="length")
    await wait_for(lambda: client.stream.malformed_frames == 1, what="a malformed frame")
    kite.faults.arm("malformed_ws", kind="truncated")
    await wait_for(lambda: client.stream.malformed_frames == 2, what="a truncated frame")
    assert sum("malformed binary message" in r.getMessage() for r in caplog.records) == 2
    count = len(events.of(Tick))
    await wait_for(lambda: len(events.of(Tick)) > count, what="ticks after the bad frames")
    assert {t.instrument_id for t in events.of(Tick)} == {INFY}  # the bad packet named INFY's token: nothing leaked
    assert all(t.last_price is not None and t.last_price > 1000 for t in events.of(Tick))
    assert client.stream.status is ConnectionStatus.CONNECTED


async def test_429_on_quotes(client: ZerodhaClient, kite: KiteState, emulator: EmulatorServer, bus: EventBus,
                             tmp_path: Path) -> None:
    kite.faults.arm("http_429", path="/quote")
    with pytest.raises(RateLimited):
        await client.quote([INFY])
    eager = make_client(emulator, bus, tmp_path, limits=KiteLimits(quote_per_s=5))  # ours would let it through: Kite's 1/s will not
    eager.rest.access_token = client.rest.access_token
    eager.index = client.index
    try:
        with pytest.raises(RateLimited):
            for _ in range(3):
                await eager.quote([INFY])
    finally:
        await eager.close()


async def test_5xx_after_placement_is_resolved_without_a_duplicate(client: ZerodhaClient, kite: KiteState) -> None:
    kite.faults.arm("http_5xx_after_order", status=503)
    report = await client.place_order(market_order("SQ5XX1"))
    assert report.client_order_id == "SQ5XX1" and report.status is OrderStatus.FILLED
    assert [o.params.tag for o in kite.orders.orders.values()].count("SQ5XX1") == 1
    kite.faults.arm("http_5xx_after_order", status=400)  # "order request timed out"
    report = await client.place_order(market_order("SQ5XX2"))
    assert report.status is OrderStatus.FILLED
    assert [o.params.tag for o in kite.orders.orders.values()].count("SQ5XX2") == 1


async def test_an_order_the_book_never_shows_stays_unknown(emulator: EmulatorServer) -> None:
    """A 503 on placement and no such tag in the order book: OrderOutcomeUnknown after the polls, one POST only."""
    posts: list[str] = []

    def venue(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.url.path)
            return httpx.Response(503, json={"status": "error", "message": "OMS down", "error_type": "NetworkException"})
        return httpx.Response(200, json={"status": "success", "data": []})

    rest = KiteRest("http://kite.test", "key", transport=httpx.MockTransport(venue))
    rest.access_token = "tok"
    async with httpx.AsyncClient() as http:
        dump = (await http.get(emulator.endpoints["kite_rest"] + "/instruments")).content
    index = InstrumentIndex(parse_dump(dump))
    desk = OrderDesk(rest, EventBus(), lambda e, s: None, resolve_grace_s=0.01, resolve_attempts=3)
    with pytest.raises(OrderOutcomeUnknown, match="SQLOST1"):
        await desk.place(market_order("SQLOST1"), index.instrument(index.find("NSE", "INFY")))  # type: ignore[arg-type]
    await rest.close()
    assert posts == ["/orders/regular"]


async def test_silent_ticker_goes_stale_then_reconnects(client: ZerodhaClient, bus: EventBus, kite: KiteState) -> None:
    events = Recorder(bus, ConnectionChanged, Tick)
    await client.subscribe([INFY], [Channel.TICKS])
    await wait_for(lambda: events.of(Tick), what="ticks")
    kite.faults.arm("delay_ws", count=None, seconds=30.0, stream="kite")  # the socket stays open, nothing arrives: half-open
    await wait_for(lambda: ConnectionStatus.STALE in ticker_states(events), what="stale")
    await wait_for(lambda: client.stream.connects == 2, what="the dead connection replaced", timeout_s=8)
    kite.faults.clear("delay_ws")
    states = ticker_states(events)
    assert states.index(ConnectionStatus.STALE) < states.index(ConnectionStatus.RECONNECTING)
    ticks = len(events.of(Tick))
    await wait_for(lambda: len(events.of(Tick)) > ticks, what="ticks again", timeout_s=8)


async def test_gives_up_after_max_retries_then_resumes(emulator: EmulatorServer, bus: EventBus, kite: KiteState,
                                                      tmp_path: Path) -> None:
    events = Recorder(bus, ConnectionChanged, Tick)
    kite.max_connections_per_key = 0  # every handshake refused
    client = make_client(emulator, bus, tmp_path, max_retries=2)
    try:
        await client.login_headless()
        await client.connect()
        await client.subscribe([INFY], [Channel.TICKS])
        await wait_for(lambda: any(e.channel == "ticker" and e.status is ConnectionStatus.FAILED for e in events.of(ConnectionChanged)),
                       what="give up")
        failed = [e for e in events.of(ConnectionChanged) if e.status is ConnectionStatus.FAILED][-1]
        assert failed.detail == "gave up after 2 reconnection attempts"
        assert ticker_states(events).count(ConnectionStatus.RECONNECTING) == 2
        kite.max_connections_per_key = 3
        client.stream.resume()
        await wait_for(lambda: events.of(Tick), what="ticks after resume")
    finally:
        await client.close()
