"""Core orders to Kite parameters, and Kite order objects (mocks' shapes) to core reports and fills."""
from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.zerodha.wire import core_status, fill_from, modify_params, order_params, report_from, tag_ok
from core.domain import (ClientOrderId, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, Product, Side, TimeInForce,
                         Venue)
from core.errors import ValidationError

SBIN = InstrumentId(Venue.ZERODHA, "SBIN")
D = Decimal


def order(order_type: OrderType = OrderType.LIMIT, price: str | None = "800.05", trigger: str | None = None,
          tif: TimeInForce = TimeInForce.DAY, product: Product = Product.CNC, quantity: str = "10",
          disclosed: str | None = None, **extra: str) -> Order:
    request = OrderRequest(SBIN, Side.BUY, D(quantity), order_type, D(price) if price else None, D(trigger) if trigger else None,
                           tif, product, D(disclosed) if disclosed else None)
    return Order(ClientOrderId("SQ1T9XK0A5"), request, extra=dict(extra))


def test_limit_order_fields() -> None:
    variety, form = order_params(order(disclosed="2"), "NSE", "SBIN", D(-1))
    assert variety == "regular"
    assert form == {"exchange": "NSE", "tradingsymbol": "SBIN", "transaction_type": "BUY", "order_type": "LIMIT",
                    "quantity": "10", "product": "CNC", "validity": "DAY", "tag": "SQ1T9XK0A5", "price": "800.05",
                    "disclosed_quantity": "2"}


@pytest.mark.parametrize("kind, price, trigger, expected", [
    (OrderType.MARKET, None, None, {"order_type": "MARKET", "market_protection": "-1"}),
    (OrderType.STOP_MARKET, None, "790", {"order_type": "SL-M", "trigger_price": "790", "market_protection": "-1"}),
    (OrderType.STOP_LIMIT, "789.5", "790", {"order_type": "SL", "price": "789.5", "trigger_price": "790"}),
])
def test_order_types(kind: OrderType, price: str | None, trigger: str | None, expected: dict[str, str]) -> None:
    _, form = order_params(order(kind, price, trigger), "NSE", "SBIN", D(-1))
    assert {k: form[k] for k in expected} == expected
    assert ("price" in form) == kind.has_price and ("market_protection" in form) == (kind in (OrderType.MARKET, OrderType.STOP_MARKET))


def test_kite_options_from_order_extra() -> None:
    _, form = order_params(order(OrderType.MARKET, None, market_protection="2.5"), "NSE", "SBIN", D(-1))
    assert form["market_protection"] == "2.5"
    _, form = order_params(order(validity_ttl="3"), "NSE", "SBIN", D(-1))
    assert (form["validity"], form["validity_ttl"]) == ("TTL", "3")
    _, form = order_params(order(tif=TimeInForce.IOC, product=Product.MIS), "NSE", "SBIN", D(-1))
    assert (form["validity"], form["product"]) == ("IOC", "MIS")
    variety, form = order_params(order(quantity="100", variety="iceberg", iceberg_legs="3"), "NSE", "SBIN", D(-1))
    assert (variety, form["iceberg_legs"], form["iceberg_quantity"]) == ("iceberg", "3", "34")
    variety, form = order_params(order(OrderType.MARKET, None, variety="co", co_trigger_price="780"), "NSE", "SBIN", D(-1))
    assert (variety, form["trigger_price"]) == ("co", "780")
    assert order_params(order(variety="amo"), "NSE", "SBIN", D(-1))[0] == "amo"


@pytest.mark.parametrize("bad, problem", [
    (order(tif=TimeInForce.FOK), "FOK"),
    (order(product=Product.SPOT), "CNC, MIS or NRML"),
    (order(quantity="1.5"), "whole units"),
    (order(variety="bo"), "variety"),
    (order(variety="iceberg", iceberg_legs="11"), "between 2 and 10"),
    (order(OrderType.MARKET, None, variety="co"), "cover order"),
])
def test_what_kite_cannot_express(bad: Order, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        order_params(bad, "NSE", "SBIN", D(-1))


def test_modify_fields() -> None:
    assert modify_params(order(), D("801"), D("20"), None) == {"order_type": "LIMIT", "quantity": "20", "price": "801"}
    assert modify_params(order(variety="co"), D("801"), None, None) == {"price": "801"}


def test_tags() -> None:
    assert tag_ok("SQ1T9XK0A5") and tag_ok("A" * 20)
    assert not tag_ok("A" * 21) and not tag_ok("SQ-1") and not tag_ok("")


@pytest.mark.parametrize("status, filled, expected", [
    ("COMPLETE", 0, OrderStatus.FILLED), ("CANCELLED", 3, OrderStatus.CANCELLED), ("REJECTED", 0, OrderStatus.REJECTED),
    ("OPEN", 0, OrderStatus.OPEN), ("OPEN", 2, OrderStatus.PARTIALLY_FILLED), ("UPDATE", 2, OrderStatus.PARTIALLY_FILLED),
    ("TRIGGER PENDING", 0, OrderStatus.OPEN), ("AMO REQ RECEIVED", 0, OrderStatus.OPEN),
    ("PUT ORDER REQ RECEIVED", 0, OrderStatus.PENDING_NEW), ("VALIDATION PENDING", 0, OrderStatus.PENDING_NEW),
    ("OPEN PENDING", 0, OrderStatus.PENDING_NEW), ("MODIFY PENDING", 0, OrderStatus.OPEN),
    ("CANCEL PENDING", 1, OrderStatus.CANCEL_PENDING), ("SOMETHING NEW", 0, OrderStatus.OPEN),
])
def test_statuses(status: str, filled: int, expected: OrderStatus) -> None:
    assert core_status(status, D(filled)) is expected


MOCK_REJECTED = {  # kiteconnect-mocks orders.json, the iceberg leg
    "placed_by": "XXXXXX", "order_id": "220524001859672", "exchange_order_id": None, "parent_order_id": None, "status": "REJECTED",
    "status_message": "Insufficient funds. Required margin is 95417.84 but available margin is 74251.80.",
    "order_timestamp": "2022-05-24 12:26:52", "exchange_update_timestamp": None, "variety": "iceberg", "exchange": "NSE",
    "tradingsymbol": "SBIN", "instrument_token": 779521, "order_type": "LIMIT", "transaction_type": "BUY", "validity": "TTL",
    "product": "CNC", "quantity": 200, "disclosed_quantity": 0, "price": D("463"), "trigger_price": 0, "average_price": 0,
    "filled_quantity": 0, "pending_quantity": 0, "cancelled_quantity": 0, "tag": "icebergord",
}


def test_report_from_a_mock_order() -> None:
    report = report_from(MOCK_REJECTED, SBIN)
    assert (report.client_order_id, report.venue_order_id, report.status) == ("icebergord", "220524001859672", OrderStatus.REJECTED)
    assert (report.price, report.quantity, report.filled_quantity, report.average_price) == (D(463), D(200), 0, None)
    assert report.reason.startswith("Insufficient funds") and report.side is Side.BUY
    assert report.ts_ns == 1653375412 * 10**9  # 12:26:52 IST
    complete = report_from({**MOCK_REJECTED, "status": "COMPLETE", "filled_quantity": 200, "average_price": D("462.95"),
                            "order_type": "SL-M", "trigger_price": D("460")}, SBIN)
    assert (complete.status, complete.average_price, complete.price, complete.trigger_price) == (
        OrderStatus.FILLED, D("462.95"), None, D(460))


def test_fill_from_a_mock_trade() -> None:
    trade = {"trade_id": "10000000", "order_id": "200000000000000", "exchange": "NSE", "tradingsymbol": "SBIN",
             "instrument_token": 779521, "product": "CNC", "average_price": D("420.65"), "quantity": 1,
             "exchange_order_id": "300000000000000", "transaction_type": "BUY", "fill_timestamp": "2021-05-31 09:16:39",
             "order_timestamp": "09:16:39", "exchange_timestamp": "2021-05-31 09:16:39"}
    fill = fill_from(trade, "SQ1", "200000000000000", SBIN, "CNC")
    assert (fill.trade_id, fill.quantity, fill.price, fill.side, fill.product) == ("10000000", 1, D("420.65"), Side.BUY, Product.CNC)
    assert fill.ts_ns == 1622432799 * 10**9
