"""OrderIndex: working orders are found by venue and instrument, and leave the index when they end."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


STEPS = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["open", "fill", "cancel"]),
                           st.sampled_from([BTC, ETH, INFY]), st.sampled_from([Side.BUY, Side.SELL]),
                           st.integers(1, 9)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(steps=STEPS)
def test_running_totals_equal_the_sums_over_the_working_orders(tmp_path_factory: pytest.TempPathFactory,
                                                             steps: list[tuple[int, str, InstrumentId, Side, int]]) -> None:
    journal = Journal.open(tmp_path_factory.mktemp("j") / "j.db")
    index = OrderIndex(journal)
    for n, action, iid, side, qty in steps:
        cid = ClientOrderId(f"O{n}")
        current = index.get(cid) if cid in index else None
        if current is None:
            request = OrderRequest(iid, side, Decimal(qty), OrderType.LIMIT, price=Decimal("100"))
            index.remember(Order(cid, request, created_ns=1, updated_ns=1))
        elif current.status.is_working and action == "open" and current.status is OrderStatus.PENDING_NEW:
            index.remember(current.transition(OrderStatus.OPEN, venue_order_id=f"V{n}", updated_ns=2))
        elif current.status.is_working and action == "fill" and current.leaves_quantity > 0:
            index.remember(current.with_fill(min(Decimal(1), current.leaves_quantity), Decimal("100"), ts_ns=3))
        elif current.status.is_working and action == "cancel":
            index.remember(current.transition(OrderStatus.CANCELLED, updated_ns=4))
        for instrument in (BTC, ETH, INFY):
            for s in (Side.BUY, Side.SELL):
                expected = sum((o.leaves_quantity for o in index.working(instrument_id=instrument) if o.side is s), Decimal(0))
                assert index.working_quantity(instrument, s) == expected
        for venue in (Venue.BINANCE, Venue.ZERODHA):
            assert index.working_count(venue) == len(index.working(venue))
    journal.close()
