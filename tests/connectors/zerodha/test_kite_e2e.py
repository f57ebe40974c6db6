"""Our Kite connector against the emulator over loopback, with the emulator's faults."""
from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal as D
from typing import Any

import pytest

from connectors.emulator.server import EmulatorServer
from connectors.zerodha import demo_client
from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, ConnectionChanged, ConnectionStatus, FillEvent, InstrumentId, Order, OrderRequest,
                         OrderStatus, OrderType, Product, Side, Tick, Venue, VenueOrderReport)
from core.errors import AuthError, ValidationError
from core.venue import Channel

INFY = InstrumentId(Venue.ZERODHA, "INFY")
NIFTY = InstrumentId(Venue.ZERODHA, "NIFTY 50")


async def until(predicate: Any, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def order(coid: str, side: Side = Side.BUY, otype: OrderType = OrderType.LIMIT, price: str | None = "1500", qty: str = "1",
          **extra: str) -> Order:
    req = OrderRequest(INFY, side, D(qty), otype, price=D(price) if price else None, product=Product.CNC)
    return Order(ClientOrderId(coid), req, extra=dict(extra))


@pytest.fixture
async def rig() -> Any:
    async with EmulatorServer(seed=4) as emu:
        bus = EventBus()
        seen: dict[type, list[Any]] = {}
        for kind in (Tick, BookDelta, VenueOrderReport, FillEvent, ConnectionChanged):
            bus.subscribe(kind, seen.setdefault(kind, []).append)
        client = demo_client(bus, emu.endpoints, "demo-kite-key", "demo-kite-secret")
        client.resolve_grace_s = 0.2
        await client.connect()
        yield emu, client, seen
        await client.close()


async def test_login_instruments_ticks_and_book(rig: Any) -> None:
    emu, client, seen = rig
    names = {i.symbol for i in client.instruments()}
    assert {"NIFTY 50", "INFY", "RELIANCE"} <= names and any(s.endswith("CE") for s in names)
    await client.subscribe([INFY, NIFTY], [Channel.TICKS, Channel.BOOK])
    await until(lambda: any(t.instrument_id == INFY for t in seen[Tick]) and any(t.instrument_id == NIFTY for t in seen[Tick]))
    await until(lambda: any(b.instrument_id == INFY for b in seen[BookDelta]))
    book = next(b for b in seen[BookDelta] if b.instrument_id == INFY)
    assert book.is_snapshot and len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
    assert any(c.channel == "ticker" and c.status is ConnectionStatus.CONNECTED for c in seen[ConnectionChanged])


async def test_place_modify_cancel_with_postbacks_and_fills(rig: Any) -> None:
    emu, client, seen = rig
    await client.subscribe([INFY], [Channel.TICKS])
    placed = await client.place_order(order("SQ1TEST"))
    assert placed.status is OrderStatus.OPEN and placed.venue_order_id
    working = order("SQ1TEST")
    working = Order(working.client_order_id, working.request, venue_order_id=placed.venue_order_id)
    await client.modify_order(working, D("1501"), None, None)
    await client.cancel_order(working)
    await until(lambda: any(r.client_order_id == "SQ1TEST" and r.status is OrderStatus.CANCELLED for r in seen[VenueOrderReport]))
    found = await client.query_order(working)
    assert found is not None and found.status is OrderStatus.CANCELLED and found.price == D("1501")
    await client.place_order(order("SQ2MKT", otype=OrderType.MARKET, price=None, qty="3", market_protection="-1"))
    await until(lambda: any(f.fill.client_order_id == "SQ2MKT" for f in seen[FillEvent]))
    fills = [f.fill for f in seen[FillEvent] if f.fill.client_order_id == "SQ2MKT"]
    assert sum(f.quantity for f in fills) == D(3) and fills[0].side is Side.BUY
    assert any(p.instrument_id == INFY and p.quantity == 3 for p in await client.positions())
    venue_fills = [f for f in await client.fills() if f.client_order_id == "SQ2MKT"]
    assert sum(f.quantity for f in venue_fills) == D(3)
    (cash,) = await client.balances()
    assert cash.asset == "INR" and cash.free < D(1_000_000)


async def test_market_order_without_protection_is_refused_by_the_venue(rig: Any) -> None:
    _, client, _ = rig
    with pytest.raises(ValidationError, match="market protection"):
        await client.place_order(order("SQ3", otype=OrderType.MARKET, price=None))


async def test_5xx_after_placement_is_resolved_by_tag_without_a_duplicate(rig: Any) -> None:
    emu, client, _ = rig
    emu.faults.arm("http_5xx_after_order")
    report = await client.place_order(order("SQ4DUP"))
    assert report.client_order_id == "SQ4DUP" and report.venue_order_id
    tagged = [s for s in emu.exchange.orders("kite-demo") if s.tag == "SQ4DUP"]
    assert len(tagged) == 1  # placed once, found by its tag, never resent


async def test_token_expiry_raises_auth_error(rig: Any) -> None:
    emu, client, _ = rig
    emu.faults.arm("expire_token")
    with pytest.raises(AuthError, match="TokenException"):
        await client.balances()


async def test_malformed_frame_is_skipped_and_dropped_ticker_reconnects(rig: Any, caplog: pytest.LogCaptureFixture) -> None:
    emu, client, seen = rig
    await client.subscribe([INFY], [Channel.TICKS])
    await until(lambda: any(t.instrument_id == INFY for t in seen[Tick]))
    with caplog.at_level(logging.ERROR, logger="connectors.zerodha.client"):
        emu.faults.arm("malformed_ws")
        await until(lambda: any("malformed frame skipped" in r.getMessage() for r in caplog.records))
    count = len(seen[Tick])
    await until(lambda: len(seen[Tick]) > count)  # the connection was kept
    client.max_backoff_s = 0.2
    emu.faults.arm("drop_ws", stream="kite")
    await until(lambda: client.reconnects >= 1)
    count = len(seen[Tick])
    await until(lambda: len(seen[Tick]) > count, timeout=10)  # re-subscribed after the reconnect
