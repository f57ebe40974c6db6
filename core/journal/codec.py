"""JSON-safe encodings of domain types for the journal: Decimals as strings, enums as their values.

Strings keep money exact; every decoder is the inverse of its encoder (checked by tests).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from core.domain import (Instrument, InstrumentId, InstrumentKind, OptionRight, OrderRequest, OrderType, Product, Side,
                         TimeInForce)


def dec(value: Decimal | None) -> str | None:
    """Encode an optional Decimal as text."""
    return None if value is None else str(value)


def undec(text: str | None) -> Decimal | None:
    """Decode optional text into a Decimal."""
    return None if text is None or text == "" else Decimal(text)


_DUMPS_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                  | orjson.OPT_PASSTHROUGH_DATACLASS)  # dates and dataclasses go to _default, as json.dumps sent them


def dumps(value: object) -> str:
    """Serialise to compact JSON with sorted keys; Decimals, enums and dates become strings.

    orjson rather than json.dumps: an order's intent is two of these on its way out (42 us with json,
    with cold caches). Non-ASCII text is stored as UTF-8 rather than escaped, and an int beyond 64 bits
    raises TypeError.
    """
    return orjson.dumps(value, default=_default, option=_DUMPS_OPTIONS).decode()


def _default(value: object) -> object:
    if isinstance(value, (Decimal, InstrumentId)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    enum_value = getattr(value, "value", None)
    if isinstance(enum_value, str):
        return enum_value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def request_to_dict(request: OrderRequest) -> dict[str, Any]:
    """Encode an OrderRequest."""
    return {
        "instrument_id": str(request.instrument_id),
        "side": request.side.value,
        "quantity": str(request.quantity),
        "order_type": request.order_type.value,
        "price": dec(request.price),
        "trigger_price": dec(request.trigger_price),
        "time_in_force": request.time_in_force.value,
        "product": request.product.value,
        "disclosed_quantity": dec(request.disclosed_quantity),
        "reduce_only": request.reduce_only,
        "quote_quantity": dec(request.quote_quantity),
        "source": request.source,
        "tag": request.tag,
    }


def request_from_dict(data: dict[str, Any]) -> OrderRequest:
    """Decode what request_to_dict produced."""
    quantity = undec(data["quantity"])
    assert quantity is not None
    return OrderRequest(
        instrument_id=InstrumentId.parse(data["instrument_id"]),
        side=Side(data["side"]),
        quantity=quantity,
        order_type=OrderType(data["order_type"]),
        price=undec(data.get("price")),
        trigger_price=undec(data.get("trigger_price")),
        time_in_force=TimeInForce(data["time_in_force"]),
        product=Product(data["product"]),
        disclosed_quantity=undec(data.get("disclosed_quantity")),
        reduce_only=bool(data.get("reduce_only", False)),
        quote_quantity=undec(data.get("quote_quantity")),
        source=data.get("source", "ui"),
        tag=data.get("tag", ""),
    )


_INSTRUMENT_DECIMALS = ("tick_size", "lot_size", "min_quantity", "max_quantity", "min_notional", "multiplier", "strike",
                        "freeze_quantity")


def instrument_to_dict(inst: Instrument) -> dict[str, Any]:
    """Encode an Instrument for the instrument cache."""
    data: dict[str, Any] = {name: dec(getattr(inst, name)) for name in _INSTRUMENT_DECIMALS}
    data.update(
        id=str(inst.id), kind=inst.kind.value, exchange=inst.exchange, quote_currency=inst.quote_currency,
        base_currency=inst.base_currency, expiry=inst.expiry.isoformat() if inst.expiry else None,
        right=inst.right.value if inst.right else None, underlying=inst.underlying, venue_token=inst.venue_token,
        name=inst.name, extra=dict(inst.extra),
    )
    return data


def instrument_from_dict(data: dict[str, Any]) -> Instrument:
    """Decode what instrument_to_dict produced."""
    decimals = {name: undec(data.get(name)) for name in _INSTRUMENT_DECIMALS}
    return Instrument(
        id=InstrumentId.parse(data["id"]),
        kind=InstrumentKind(data["kind"]),
        exchange=data["exchange"],
        tick_size=decimals["tick_size"] or Decimal(0),
        lot_size=decimals["lot_size"] or Decimal(0),
        quote_currency=data["quote_currency"],
        base_currency=data["base_currency"],
        min_quantity=decimals["min_quantity"] or Decimal(0),
        max_quantity=decimals["max_quantity"],
        min_notional=decimals["min_notional"] or Decimal(0),
        multiplier=decimals["multiplier"] or Decimal(1),
        expiry=datetime.fromisoformat(data["expiry"]) if data.get("expiry") else None,
        strike=decimals["strike"],
        right=OptionRight(data["right"]) if data.get("right") else None,
        underlying=data.get("underlying"),
        venue_token=data.get("venue_token", ""),
        name=data.get("name", ""),
        freeze_quantity=decimals["freeze_quantity"],
        extra=dict(data.get("extra") or {}),
    )
