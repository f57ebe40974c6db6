"""OrderIndex: working orders are found by venue and instrument, and leave the index when they end."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from core.domain import ClientOrderId, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, Side, Venue
from core.journal import Journal
from core.trading.index import OrderIndex

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
ETH = InstrumentId(Venue.BINANCE, "ETHUSDT")
INFY = InstrumentId(Venue.ZERODHA, "INFY")


def order(cid: str, instrument_id: InstrumentId) -> Order:
    request = OrderRequest(instrument_id, Side.BUY, Decimal("1"), OrderType.LIMIT, price=Decimal("100"))
    return Order(ClientOrderId(cid), request, created_ns=1, updated_ns=1)


def test_working_orders_by_venue_and_instrument_and_ended_ones_drop_out(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    index = OrderIndex(journal)
    orders = {cid: order(cid, iid) for cid, iid in (("A", BTC), ("B", ETH), ("C", INFY))}
    for o in orders.values():
        index.remember(o)
    assert {o.client_order_id for o in index.working()} == {"A", "B", "C"}
    assert {o.client_order_id for o in index.working(Venue.BINANCE)} == {"A", "B"}
    assert [o.client_order_id for o in index.working(instrument_id=ETH)] == ["B"]

    opened = orders["A"].transition(OrderStatus.OPEN, venue_order_id="V1", updated_ns=2)
    index.remember(opened)
    assert index.working(instrument_id=BTC) == [opened]  # the latest state, not the first
    index.remember(opened.transition(OrderStatus.CANCELLED, updated_ns=3))
    index.remember(orders["C"].transition(OrderStatus.REJECTED, updated_ns=3))
    assert [o.client_order_id for o in index.working()] == ["B"]
    assert index["A"].status is OrderStatus.CANCELLED and len(index.values()) == 3
    journal.close()
