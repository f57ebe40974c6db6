from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import (TRANSITIONS, ClientOrderId, IllegalTransition, InstrumentId, Order, OrderRequest, OrderStatus,
                         OrderType, Side, Venue)

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


def make(qty: str = "2", status: OrderStatus = OrderStatus.PENDING_NEW) -> Order:
    req = OrderRequest(BTC, Side.BUY, Decimal(qty), OrderType.LIMIT, price=Decimal("100"))
    return Order(ClientOrderId("c1"), req, status=status)


def test_request_validation() -> None:
    with pytest.raises(ValueError, match="needs a price"):
        OrderRequest(BTC, Side.BUY, Decimal(1), OrderType.LIMIT)
    with pytest.raises(ValueError, match="trigger"):
        OrderRequest(BTC, Side.BUY, Decimal(1), OrderType.STOP_MARKET)
    with pytest.raises(ValueError, match="quantity must be positive"):
        OrderRequest(BTC, Side.BUY, Decimal(0), OrderType.MARKET)
    with pytest.raises(ValueError, match="trigger price must be positive"):
        OrderRequest(BTC, Side.SELL, Decimal(1), OrderType.STOP_MARKET, trigger_price=Decimal(0))


def test_working_fields_default_from_the_request() -> None:
    order = make()
    assert order.price == Decimal("100") and order.quantity == Decimal("2")
    assert order.leaves_quantity == Decimal("2")


def test_fills_accumulate_with_average_price_and_status() -> None:
    order = make().transition(OrderStatus.OPEN)
    order = order.with_fill(Decimal("0.5"), Decimal("100"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order = order.with_fill(Decimal("1.5"), Decimal("104"))
    assert order.status is OrderStatus.FILLED
    assert order.average_price == Decimal("103")
    assert order.leaves_quantity == 0


def test_overfill_is_refused() -> None:
    with pytest.raises(ValueError, match="overfills"):
        make().with_fill(Decimal("3"), Decimal("100"))


def test_fill_during_pending_cancel_keeps_the_cancel_pending() -> None:
    order = make().transition(OrderStatus.OPEN).transition(OrderStatus.CANCEL_PENDING)
    order = order.with_fill(Decimal("1"), Decimal("100"))
    assert order.status is OrderStatus.CANCEL_PENDING and order.filled_quantity == 1


@pytest.mark.parametrize("terminal", [s for s in OrderStatus if s.is_terminal])
def test_terminal_states_are_never_left(terminal: OrderStatus) -> None:
    order = make(status=terminal)
    for target in OrderStatus:
        with pytest.raises(IllegalTransition):
            order.transition(target)


def test_illegal_transition_names_both_states() -> None:
    with pytest.raises(IllegalTransition, match="OPEN -> REJECTED"):
        make().transition(OrderStatus.OPEN).transition(OrderStatus.REJECTED)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=12))
def test_any_walk_follows_the_table(path: list[OrderStatus]) -> None:
    order = make()
    for status in path:
        if status in TRANSITIONS[order.status]:
            order = order.transition(status)
        else:
            with pytest.raises(IllegalTransition):
                order.transition(status)
    assert order.status in TRANSITIONS or order.status.is_terminal


def test_orders_are_immutable() -> None:
    order = make()
    with pytest.raises(AttributeError):
        order.status = OrderStatus.OPEN  # type: ignore[misc]
