"""Kite order and trade objects to core types, and core orders to Kite's order parameters (kite.md C7).

Our client order id travels as the Kite tag (at most 20 letters and digits) and comes back on every
order object, postback and order book entry; it is how a placement with an unknown outcome is found.

Kite-only choices ride on Order.extra: "variety" (regular, amo, co, iceberg), "validity_ttl" (minutes,
makes validity TTL), "market_protection" (MARKET and SL-M; default the connector's, -1 = automatic),
"iceberg_legs", "co_trigger_price" (the cover order's stop).

Statuses: COMPLETE, CANCELLED, REJECTED are final; the validation stages before the exchange are
PENDING_NEW; CANCEL PENDING is CANCEL_PENDING; everything else (OPEN, TRIGGER PENDING, UPDATE, AMO REQ
RECEIVED, MODIFY ..., unknown strings) is working: OPEN, or PARTIALLY_FILLED once something filled.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import (ClientOrderId, Fill, InstrumentId, Order, OrderStatus, OrderType, Product, Side, TimeInForce, Venue,
                         VenueOrderReport)
from core.errors import ValidationError

IST = ZoneInfo("Asia/Kolkata")
TAG = re.compile(r"[A-Za-z0-9]{1,20}")
KITE_ORDER_TYPE = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_LIMIT: "SL", OrderType.STOP_MARKET: "SL-M"}
CORE_ORDER_TYPE = {v: k for k, v in KITE_ORDER_TYPE.items()}
VARIETIES = ("regular", "amo", "co", "iceberg")
_FINAL = {"COMPLETE": OrderStatus.FILLED, "CANCELLED": OrderStatus.CANCELLED, "REJECTED": OrderStatus.REJECTED}
_BEFORE_EXCHANGE = frozenset({"PUT ORDER REQ RECEIVED", "VALIDATION PENDING", "OPEN PENDING"})


def tag_ok(client_order_id: str) -> bool:
    """True if a client order id can be a Kite tag."""
    return TAG.fullmatch(client_order_id) is not None


def order_params(order: Order, exchange: str, tradingsymbol: str, market_protection: Decimal) -> tuple[str, dict[str, str]]:
    """(variety, form fields) for placing a core order; ValidationError for what Kite cannot express."""
    request = order.request
    extra = order.extra
    variety = extra.get("variety", "regular")
    if variety not in VARIETIES:
        raise ValidationError(f"Kite variety {variety!r} is not one of {', '.join(VARIETIES)}")
    if request.product not in (Product.CNC, Product.MIS, Product.NRML):
        raise ValidationError(f"Kite orders are CNC, MIS or NRML, not {request.product.value}")
    if request.quantity != request.quantity.to_integral_value():
        raise ValidationError(f"Kite quantities are whole units, not {request.quantity}")
    form: dict[str, str] = {
        "exchange": exchange, "tradingsymbol": tradingsymbol, "transaction_type": request.side.value,
        "order_type": KITE_ORDER_TYPE[request.order_type], "quantity": _num(request.quantity),
        "product": request.product.value, "validity": _validity(request.time_in_force, extra), "tag": order.client_order_id,
    }
    if "validity_ttl" in extra:
        form["validity_ttl"] = str(int(extra["validity_ttl"]))
    if request.order_type.has_price and order.price is not None:
        form["price"] = _num(order.price)
    if request.order_type.has_trigger and order.trigger_price is not None:
        form["trigger_price"] = _num(order.trigger_price)
    if request.order_type in (OrderType.MARKET, OrderType.STOP_MARKET):
        form["market_protection"] = _num(Decimal(extra.get("market_protection", market_protection)))
    if request.disclosed_quantity:
        form["disclosed_quantity"] = _num(request.disclosed_quantity)
    if variety == "co":
        trigger = extra.get("co_trigger_price") or (str(order.trigger_price) if order.trigger_price is not None else "")
        if not trigger:
            raise ValidationError("a Kite cover order needs a stop-loss trigger price (extra co_trigger_price)")
        form["trigger_price"] = _num(Decimal(trigger))
    if variety == "iceberg":
        legs = int(extra.get("iceberg_legs", "0"))
        if not 2 <= legs <= 10:
            raise ValidationError("a Kite iceberg order needs iceberg_legs between 2 and 10")
        quantity = int(request.quantity)
        form.update(iceberg_legs=str(legs), iceberg_quantity=str(-(-quantity // legs)))
    return variety, form


def modify_params(order: Order, price: Decimal | None, quantity: Decimal | None, trigger_price: Decimal | None) -> dict[str, str]:
    """Form fields of a modification (a cover order only takes its price)."""
    form = {"order_type": KITE_ORDER_TYPE[order.request.order_type]}
    if order.extra.get("variety") == "co":
        form = {}
    if quantity is not None:
        form["quantity"] = _num(quantity)
    if price is not None:
        form["price"] = _num(price)
    if trigger_price is not None:
        form["trigger_price"] = _num(trigger_price)
    return form


def core_status(kite_status: str, filled: Decimal) -> OrderStatus:
    """A Kite status string as a core OrderStatus (see the module docstring)."""
    final = _FINAL.get(kite_status)
    if final is not None:
        return final
    if kite_status == "CANCEL PENDING":
        return OrderStatus.CANCEL_PENDING
    if kite_status in _BEFORE_EXCHANGE and not filled:
        return OrderStatus.PENDING_NEW
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN


def report_from(data: Mapping[str, Any], instrument_id: InstrumentId | None) -> VenueOrderReport:
    """A Kite order object (order book, history entry or postback) as a core report."""
    filled = _dec(data.get("filled_quantity"))
    order_type = CORE_ORDER_TYPE.get(str(data.get("order_type")))
    price = _dec(data.get("price")) if order_type is not None and order_type.has_price else None
    trigger = _dec(data.get("trigger_price")) if order_type is not None and order_type.has_trigger else None
    status = str(data.get("status") or "")
    return VenueOrderReport(
        Venue.ZERODHA, ClientOrderId(str(data.get("tag") or "")), str(data.get("order_id") or ""), core_status(status, filled),
        instrument_id=instrument_id, filled_quantity=filled,
        average_price=_dec(data.get("average_price")) if filled else None, price=price, quantity=_dec(data.get("quantity")),
        trigger_price=trigger, reason=str(data.get("status_message") or "") if status in ("REJECTED", "CANCELLED") else "",
        ts_ns=ist_ns(data.get("exchange_update_timestamp") or data.get("order_timestamp")),
        side=Side(data["transaction_type"]) if data.get("transaction_type") in ("BUY", "SELL") else None)


def fill_from(trade: Mapping[str, Any], client_order_id: str, venue_order_id: str, instrument_id: InstrumentId,
              product: str) -> Fill:
    """A Kite trade object as a core Fill (venue_order_id: the order the OMS knows, e.g. an iceberg's first leg)."""
    return Fill(ClientOrderId(client_order_id), venue_order_id, str(trade["trade_id"]), instrument_id,
                Side(trade["transaction_type"]), _dec(trade["quantity"]), _dec(trade["average_price"]), Decimal(0), "INR",
                ist_ns(trade.get("fill_timestamp") or trade.get("exchange_timestamp")),
                product=Product(product) if product in ("CNC", "MIS", "NRML") else Product.MIS)


def ist_ns(text: Any) -> int:
    """Kite's "yyyy-mm-dd hh:mm:ss" (IST) as epoch nanoseconds; 0 if absent or unreadable."""
    if not text:
        return 0
    try:
        return int(datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST).timestamp()) * 1_000_000_000
    except ValueError:
        return 0


def _validity(tif: TimeInForce, extra: Mapping[str, str]) -> str:
    if "validity_ttl" in extra:
        return "TTL"
    if tif in (TimeInForce.DAY, TimeInForce.GTC):
        return "DAY"
    if tif is TimeInForce.IOC:
        return "IOC"
    raise ValidationError(f"Kite has no {tif.value} validity (DAY, IOC or TTL)")


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _dec(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
