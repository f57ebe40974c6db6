from __future__ import annotations

import asyncio
from decimal import Decimal as D
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqbt_helpers import BTC, T0, spot

from core.backtest import PaperVenue, RateFees, TickSlippage
from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, ConnectionChanged, FillEvent, Order, OrderRequest, OrderStatus,
                         OrderType, Product, Side, Tick, TradePrint, Venue, VenueOrderReport)
from core.errors import OrderRejected, TransportError
from core.marketdata.state import MarketState
from core.risk import RiskProfile
from core.trading.stack import build_trading

_ids = count(1)


def order(side: Side, qty: str, price: str | None = None) -> Order:
    kind = OrderType.LIMIT if price else OrderType.MARKET
    request = OrderRequest(BTC, side, D(qty), kind, D(price) if price else None, product=Product.SPOT)
    return Order(ClientOrderId(f"p{next(_ids)}"), request)


def trade(price: str, ts: int = T0) -> TradePrint:
    return TradePrint(BTC, ts, D(price), D("0.5"))


class Tape:
    """Everything the paper venue publishes."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Any] = []
        for kind in (VenueOrderReport, FillEvent, ConnectionChanged):
            bus.subscribe(kind, self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def paper(**options: Any) -> tuple[EventBus, PaperVenue, Tape]:
    bus = EventBus()
    tape = Tape(bus)
    venue = PaperVenue(bus, Venue.BINANCE, [spot(BTC)], balances={"USDT": D(1000)}, clock_ns=lambda: T0, **options)
    await venue.connect()
    return bus, venue, tape


async def test_a_resting_limit_fills_when_a_trade_prints_through_it_and_is_reported_on_the_bus() -> None:
    bus, venue, tape = await paper(fee_model=RateFees(maker=D("0.001")))
    assert tape.of(ConnectionChanged)[0].channel == "user"
    bus.publish(trade("100.00"))
    bid = order(Side.BUY, "2", "99.00")
    ack = await venue.place_order(bid)
    assert ack.status is OrderStatus.OPEN and ack.venue_order_id and tape.of(VenueOrderReport) == [ack]
    bus.publish(trade("99.50"))
    bus.publish(trade("99.00"))  # at the price: someone may have been ahead of us in the queue
    assert tape.of(FillEvent) == []
    bus.publish(trade("98.90", T0 + 5))
    (event,) = tape.of(FillEvent)
    fill = event.fill
    assert (fill.price, fill.quantity, fill.is_maker, fill.ts_ns) == (D("99.00"), D(2), True, T0 + 5)
    assert fill.fee == D("0.198") and fill.client_order_id == bid.client_order_id
    final = tape.of(VenueOrderReport)[-1]
    assert final.status is OrderStatus.FILLED and final.filled_quantity == D(2) and final.seq > ack.seq
    assert tape.events.index(event) < tape.events.index(final)  # the fill, then the report
    assert await venue.open_orders() == [] and (await venue.query_order(bid)) == final
    (position,) = await venue.positions()
    assert position.quantity == D(2) and position.average_price == D(99)
    assert {b.asset: b.free for b in await venue.balances()} == {"USDT": D(1000) - D(198) - D("0.198"), "BTC": D(2)}
    assert await venue.fills(T0 + 1) == [fill] and await venue.fills(T0 + 6) == []


async def test_market_orders_take_the_real_book_with_slippage() -> None:
    bus, venue, tape = await paper(slippage_model=TickSlippage(1))
    bus.publish(BookDelta(BTC, T0, ((D("100.00"), D(1)),), ((D("100.10"), D(2)),), 1, True))
    report = await venue.place_order(order(Side.BUY, "1"))
    assert report.status is OrderStatus.FILLED and report.average_price == D("100.11")
    sell = await venue.place_order(order(Side.SELL, "1"))
    assert sell.average_price == D("99.99")
    ask = order(Side.SELL, "1", "100.50")
    await venue.place_order(ask)
    bus.publish(BookDelta(BTC, T0 + 1, ((D("100.50"), D(1)),), (), 2))  # the real bid reaches our ask
    assert tape.of(VenueOrderReport)[-1].status is OrderStatus.FILLED


async def test_cancel_modify_and_refusals() -> None:
    bus, venue, tape = await paper()
    bus.publish(trade("100"))
    bid = order(Side.BUY, "1", "95")
    await venue.place_order(bid)
    modified = await venue.modify_order(bid, D("96"), None, None)
    assert modified.price == D("96") and modified.status is OrderStatus.OPEN
    cancelled = await venue.cancel_order(bid)
    assert cancelled.status is OrderStatus.CANCELLED and tape.of(VenueOrderReport)[-1] == cancelled
    with pytest.raises(OrderRejected, match="CANCELLED"):
        await venue.cancel_order(bid)
    with pytest.raises(OrderRejected):
        await venue.modify_order(bid, D("97"), None, None)
    with pytest.raises(OrderRejected, match="off the tick"):
        await venue.place_order(order(Side.BUY, "1", "95.001"))
    idle = PaperVenue(EventBus(), Venue.BINANCE, [spot(BTC)])
    with pytest.raises(TransportError):
        await idle.place_order(order(Side.BUY, "1"))


async def test_ticks_count_as_trades_only_when_last_price_or_volume_changes() -> None:
    bus, venue, tape = await paper(touch_fills=True)

    def tick(ts: int, volume: int) -> Tick:
        return Tick(BTC, ts, last_price=D("99"), volume=D(volume), bid=D("98.90"), ask=D("99.50"))

    bus.publish(tick(T0, 10))
    bid = order(Side.BUY, "1", "99")
    assert (await venue.place_order(bid)).status is OrderStatus.OPEN  # below the ask: rests
    bus.publish(tick(T0 + 1, 10))  # the same last trade, repeated: no fill
    assert tape.of(FillEvent) == []
    bus.publish(tick(T0 + 2, 11))  # a new trade at 99
    (event,) = tape.of(FillEvent)
    assert event.fill.price == D("99") and event.fill.ts_ns == T0 + 2
    taker = await venue.place_order(order(Side.BUY, "1", "100"))  # marketable: takes the tick's ask
    assert taker.status is OrderStatus.FILLED and taker.average_price == D("99.50")


async def test_the_oms_and_portfolio_work_unchanged_on_a_paper_venue(tmp_path: Path) -> None:
    bus = EventBus()
    venue = PaperVenue(bus, Venue.BINANCE, [spot(BTC)])
    market = MarketState(bus)
    stack = build_trading(bus, tmp_path / "journal.db", {Venue.BINANCE: venue}, [spot(BTC)], market,
                          profile=RiskProfile.from_dict({"default": {"price_band_pct": "none"}}), check_interval_s=3600)
    await venue.connect()
    await stack.start()
    try:
        bus.publish(Tick(BTC, 1, last_price=D("100"), bid=D("99.99"), ask=D("100.01")))
        handle = await stack.api.place(OrderRequest(BTC, Side.BUY, D("0.5"), OrderType.LIMIT, D("99.50"),
                                                    product=Product.SPOT))
        cid = handle.order.client_order_id
        opened = await stack.oms.wait_for(cid, lambda o: o.status is OrderStatus.OPEN, timeout=5)
        assert opened.venue_order_id.startswith("PAPER")
        bus.publish(TradePrint(BTC, 2, D("99.40"), D(3)))
        filled = await stack.oms.wait_for(cid, lambda o: o.status is OrderStatus.FILLED, timeout=5)
        assert filled.average_price == D("99.50") and filled.filled_quantity == D("0.5")
        await asyncio.sleep(0)
        assert stack.portfolio.position_quantity(BTC) == D("0.5")
    finally:
        await stack.stop()
        await venue.close()


async def test_close_reports_the_link_down_and_a_reconnect_keeps_the_paper_orders() -> None:
    bus, venue, tape = await paper()
    bus.publish(trade("100"))
    bid = order(Side.BUY, "1", "95")
    await venue.place_order(bid)
    await venue.close()
    assert [c.status.value for c in tape.of(ConnectionChanged)] == ["CONNECTED", "DISCONNECTED"]
    with pytest.raises(TransportError):
        await venue.open_orders()
    bus.publish(trade("90"))  # not following the market while closed
    await venue.connect()
    (working,) = await venue.open_orders()
    assert working.client_order_id == bid.client_order_id and working.status is OrderStatus.OPEN
