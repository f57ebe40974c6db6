"""The Zerodha connector end to end against the emulator over loopback: market data, orders, portfolio, history."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.emulator.kite.market import SESSION_ORIGIN_NS
from connectors.emulator.kite.state import KiteState
from connectors.emulator.server import EmulatorServer
from connectors.zerodha.client import ZerodhaClient
from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, FillEvent, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, Product,
                         Side, Tick, TimeInForce, TradePrint, Venue, VenueOrderReport)
from core.errors import OrderRejected, ValidationError
from core.venue import Channel

from kite_helpers import Recorder, wait_for

INFY = InstrumentId(Venue.ZERODHA, "INFY")
NIFTY = InstrumentId(Venue.ZERODHA, "NIFTY 50")
D = Decimal


def new_order(cid: str, side: Side = Side.BUY, kind: OrderType = OrderType.LIMIT, qty: str = "5", price: str | None = None,
              trigger: str | None = None, iid: InstrumentId = INFY, tif: TimeInForce = TimeInForce.DAY, **extra: str) -> Order:
    request = OrderRequest(iid, side, D(qty), kind, D(price) if price else None, D(trigger) if trigger else None, tif, Product.CNC)
    return Order(ClientOrderId(cid), request, extra=dict(extra))


def touch(emulator: EmulatorServer, symbol: str = "INFY") -> tuple[Decimal, Decimal]:
    depth = emulator.exchange.depth("NSE", symbol, 1)
    return depth.bids[0][0], depth.asks[0][0]


def reports_of(events: Recorder, cid: str) -> list[VenueOrderReport]:
    return [r for r in events.of(VenueOrderReport) if r.client_order_id == cid]


async def test_ticks_books_and_trades_reach_the_bus(client: ZerodhaClient, bus: EventBus) -> None:
    events = Recorder(bus, Tick, BookDelta, TradePrint)
    reliance = InstrumentId(Venue.ZERODHA, "RELIANCE")
    await client.subscribe([INFY, NIFTY], [Channel.TICKS, Channel.BOOK])
    await client.subscribe([reliance], [Channel.TRADES])
    assert client.stream.modes == {408065: "full", 256265: "full", 738561: "quote"}
    await wait_for(lambda: {t.instrument_id for t in events.of(Tick)} >= {INFY, NIFTY} and events.of(BookDelta), what="ticks")
    infy = [t for t in events.of(Tick) if t.instrument_id == INFY][-1]
    assert infy.bid is not None and infy.ask is not None and infy.bid < infy.ask
    assert infy.last_price is not None and infy.last_price % D("0.05") == 0
    book = events.of(BookDelta)[-1]
    assert book.instrument_id == INFY and book.is_snapshot and 1 <= len(book.bids) <= 5
    assert all(b[0] > a[0] for b, a in zip(book.bids, book.bids[1:]))  # best first
    nifty = [t for t in events.of(Tick) if t.instrument_id == NIFTY][-1]
    assert nifty.bid is None and nifty.close is not None  # an index: no depth
    assert not [b for b in events.of(BookDelta) if b.instrument_id == NIFTY]
    await wait_for(lambda: events.of(TradePrint), what="a trade print", timeout_s=8)
    assert {t.instrument_id for t in events.of(TradePrint)} == {reliance}
    await client.unsubscribe([INFY, NIFTY], [Channel.TICKS, Channel.BOOK])
    assert set(client.stream.modes) == {738561}


async def test_limit_order_place_modify_cancel(client: ZerodhaClient, bus: EventBus, emulator: EmulatorServer) -> None:
    events = Recorder(bus, VenueOrderReport, FillEvent)
    bid, _ = touch(emulator)
    order = new_order("SQLIMIT1", price=str(bid - D(50)))
    placed = await client.place_order(order)
    assert placed.status is OrderStatus.OPEN and placed.venue_order_id and placed.price == bid - 50
    await wait_for(lambda: any(r.status is OrderStatus.OPEN for r in reports_of(events, "SQLIMIT1")), what="postback")
    working = Order(order.client_order_id, order.request, OrderStatus.OPEN, placed.venue_order_id)
    modified = await client.modify_order(working, bid - D(40), D(7), None)
    assert (modified.status, modified.price, modified.quantity) == (OrderStatus.OPEN, bid - 40, 7)
    await wait_for(lambda: any(r.price == bid - 40 for r in reports_of(events, "SQLIMIT1")), what="modify postback")
    cancelled = await client.cancel_order(working)
    assert cancelled.status is OrderStatus.CANCELLED
    await wait_for(lambda: reports_of(events, "SQLIMIT1")[-1].status is OrderStatus.CANCELLED, what="cancel postback")
    assert not events.of(FillEvent)
    assert await client.query_order(working) == reports_of(events, "SQLIMIT1")[-1]
    assert all(r.venue_order_id != placed.venue_order_id for r in await client.open_orders())


async def test_market_order_fills_once_under_kite_trade_ids(client: ZerodhaClient, bus: EventBus) -> None:
    events = Recorder(bus, VenueOrderReport, FillEvent)
    placed = await client.place_order(new_order("SQMKT1", kind=OrderType.MARKET, qty="12"))
    assert placed.status is OrderStatus.FILLED and placed.filled_quantity == 12
    await wait_for(lambda: sum(f.fill.quantity for f in events.of(FillEvent)) == 12, what="fills")
    fills = [f.fill for f in events.of(FillEvent)]
    assert {f.client_order_id for f in fills} == {"SQMKT1"} and {f.venue_order_id for f in fills} == {placed.venue_order_id}
    assert sum(f.price * f.quantity for f in fills) / 12 == placed.average_price
    assert sorted(f.trade_id for f in await client.fills()) == sorted(f.trade_id for f in fills)
    await client.desk.refresh()  # a reconnect's order-book re-read publishes no fill twice
    await wait_for(lambda: not client.desk._fetching, what="trade fetches")
    assert len(events.of(FillEvent)) == len(fills)
    positions = await client.positions()
    assert [(p.instrument_id, p.quantity, p.product) for p in positions] == [(INFY, 12, Product.CNC)]
    cash = (await client.balances())[0]
    assert cash.asset == "INR" and cash.free < 1_000_000


async def test_stop_order_waits_and_refusals(client: ZerodhaClient, emulator: EmulatorServer) -> None:
    bid, _ = touch(emulator)
    stop = new_order("SQSTOP1", Side.SELL, OrderType.STOP_MARKET, trigger=str(bid - D(100)))
    placed = await client.place_order(stop)
    assert placed.status is OrderStatus.OPEN and placed.trigger_price == bid - 100
    book = await client.desk.order_book()
    assert [o["status"] for o in book if o["tag"] == "SQSTOP1"] == ["TRIGGER PENDING"]
    with pytest.raises(ValidationError, match="tick"):
        await client.place_order(new_order("SQBAD1", price="1500.03"))
    with pytest.raises(ValidationError, match="Kite tag"):
        await client.place_order(new_order("SQ-BAD", price="1500"))
    with pytest.raises(ValidationError, match="index"):
        await client.place_order(new_order("SQIDX1", price="25000", iid=NIFTY))
    with pytest.raises(OrderRejected, match="market protection"):
        await client.place_order(new_order("SQNOMP1", kind=OrderType.MARKET, market_protection="0"))
    broke = await client.place_order(new_order("SQRICH1", price=str(bid), qty="5000"))  # ~8 crore > the demo's 10 lakh
    assert broke.status is OrderStatus.REJECTED and "Insufficient funds" in broke.reason


async def test_iceberg_is_one_order_of_many_legs(client: ZerodhaClient, bus: EventBus, emulator: EmulatorServer) -> None:
    events = Recorder(bus, VenueOrderReport, FillEvent)
    _, ask = touch(emulator)
    order = new_order("SQICE1", price=str(ask + D(5)), qty="9", variety="iceberg", iceberg_legs="3")
    placed = await client.place_order(order)
    assert placed.quantity == 9
    await wait_for(lambda: reports_of(events, "SQICE1") and reports_of(events, "SQICE1")[-1].status is OrderStatus.FILLED,
                   what="all legs")
    final = reports_of(events, "SQICE1")[-1]
    assert (final.venue_order_id, final.filled_quantity, final.quantity) == (placed.venue_order_id, 9, 9)
    await wait_for(lambda: sum(f.fill.quantity for f in events.of(FillEvent)) == 9, what="leg fills")
    assert {f.fill.venue_order_id for f in events.of(FillEvent)} == {placed.venue_order_id}
    legs = [o for o in await client.desk.order_book() if o["tag"] == "SQICE1"]
    assert [o["meta"]["iceberg"]["leg"] for o in legs] == [1, 2, 3] and all(o["quantity"] == 3 for o in legs)


async def test_cover_order_places_its_stop_leg(client: ZerodhaClient, bus: EventBus, emulator: EmulatorServer) -> None:
    events = Recorder(bus, VenueOrderReport)
    bid, _ = touch(emulator)
    placed = await client.place_order(new_order("SQCO1", kind=OrderType.MARKET, variety="co", co_trigger_price=str(bid - D(30))))
    assert placed.status is OrderStatus.FILLED
    await wait_for(lambda: any(r.client_order_id == "" and r.side is Side.SELL for r in events.of(VenueOrderReport)),
                   what="the stop leg")
    leg = next(o for o in await client.desk.order_book() if o["parent_order_id"] == placed.venue_order_id)
    assert (leg["order_type"], leg["transaction_type"], leg["status"]) == ("SL-M", "SELL", "TRIGGER PENDING")


async def test_history_pages_and_quotes(client: ZerodhaClient, emulator: EmulatorServer) -> None:
    now = emulator.exchange.now_ns()
    start = now - int(timedelta(days=70).total_seconds() * 1e9)  # more than one 60-day page of minutes
    bars = await client.history(INFY, "1m", start, now)
    assert 250 <= len(bars) <= 302  # the emulator keeps 300 minutes
    assert [b.start_ns for b in bars] == sorted({b.start_ns for b in bars})
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert all(b.closed for b in bars[:-1])
    # the four whole hours before the current one: hours start at 09:15 IST, and a bucket no trade has
    # reached yet is not served (so the window stops short of the current hour)
    hour = 3600 * 10**9
    current = now - (now - SESSION_ORIGIN_NS) % hour
    hourly = await client.history(INFY, "1h", current - 4 * hour, current - 10**9)
    assert [b.start_ns for b in hourly] == [current - k * hour for k in (4, 3, 2, 1)]
    assert all(b.timeframe == "1h" and b.closed for b in hourly)
    with pytest.raises(ValidationError):
        await client.history(INFY, "7m", start, now)
    quotes = await client.quote([INFY, NIFTY])
    assert quotes[INFY].bid is not None and quotes[INFY].bid < quotes[INFY].ask  # type: ignore[operator]
    assert quotes[NIFTY].last_price is not None and quotes[NIFTY].bid is None
    ltp = await client.quote([INFY], "ltp")
    assert ltp[INFY].last_price is not None and ltp[INFY].open is None
    holdings = await client.holdings()
    assert {h["tradingsymbol"] for h in holdings} == {"INFY", "TCS"} and isinstance(holdings[0]["average_price"], Decimal)


async def test_order_margins(client: ZerodhaClient, kite: KiteState) -> None:
    margins = await client.order_margins([new_order("SQM1", price="1500", qty="10")])
    assert margins[0]["tradingsymbol"] == "INFY" and margins[0]["total"] == D("15000.00")


async def test_subscriptions_go_in_batches_within_the_limit(client: ZerodhaClient, bus: EventBus) -> None:
    events = Recorder(bus, Tick)
    stocks = [InstrumentId(Venue.ZERODHA, s) for s in ("RELIANCE", "INFY", "HDFCBANK", "TCS", "SBIN")]
    client.stream.batch_size = 2  # five tokens: three subscribe and three mode messages
    await client.subscribe(stocks, [Channel.TICKS])
    await wait_for(lambda: {t.instrument_id for t in events.of(Tick)} == set(stocks), what="every batch")
    client.stream.max_tokens = 6
    with pytest.raises(ValidationError, match="at most 6"):
        await client.subscribe([NIFTY, InstrumentId(Venue.ZERODHA, "NIFTY BANK")], [Channel.TICKS])
    assert len(client.stream.modes) == 5
