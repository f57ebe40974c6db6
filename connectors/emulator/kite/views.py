"""Kite JSON shapes of the emulator's orders and trades (kite.md C7, C14; kiteconnect-mocks orders.json)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import Instrument

from .params import OrderParams

IST = ZoneInfo("Asia/Kolkata")
TERMINAL = frozenset({"COMPLETE", "CANCELLED", "REJECTED"})


def ist(ns: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str | None:
    """An epoch-nanosecond time as Kite writes it (IST)."""
    return datetime.fromtimestamp(ns / 1e9, IST).strftime(fmt) if ns else None


@dataclass
class KiteOrder:
    """One order in the Kite order book, carried by one or more exchange orders over its life.

    An order is replaced at the exchange (cancel, then a new order for what is left) when a modification
    changes its type or validity and when a cover order's stop leg is exited at market; fills of the
    replaced exchange orders are kept in filled_before/value_before.
    """

    order_id: str
    params: OrderParams
    instrument: Instrument
    user_id: str
    account: str
    placed_ns: int
    parent_order_id: str | None = None
    status: str = "PUT ORDER REQ RECEIVED"
    status_message: str | None = None
    exchange_order_id: str | None = None
    exchange_update_ns: int | None = None
    client_id: str = ""  # the current exchange order's client id
    filled_before: int = 0
    value_before: Decimal = Decimal(0)
    filled: int = 0
    value: Decimal = Decimal(0)
    cancelled: int = 0
    modified: bool = False
    modifications: int = 0
    held: bool = False  # an AMO waiting for the market to open
    meta: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def average_price(self) -> Decimal:
        return (self.value / self.filled).quantize(self.instrument.tick_size / 100) if self.filled else Decimal(0)


def order_json(o: KiteOrder, status: str | None = None) -> dict[str, Any]:
    """The order object of /orders, order history and postbacks (status overrides, e.g. UPDATE)."""
    p = o.params
    pending = 0 if o.terminal else p.quantity - o.filled
    return {
        "account_id": o.user_id, "placed_by": o.user_id, "order_id": o.order_id, "exchange_order_id": o.exchange_order_id,
        "parent_order_id": o.parent_order_id, "status": status or o.status, "status_message": o.status_message,
        "status_message_raw": o.status_message, "order_timestamp": ist(o.placed_ns),
        "exchange_update_timestamp": ist(o.exchange_update_ns), "exchange_timestamp": ist(o.exchange_update_ns),
        "variety": p.variety, "modified": o.modified, "exchange": p.exchange, "tradingsymbol": p.tradingsymbol,
        "instrument_token": int(o.instrument.venue_token), "order_type": p.order_type, "transaction_type": p.side.value,
        "validity": p.validity, "validity_ttl": p.validity_ttl or 0, "product": p.product, "quantity": p.quantity,
        "disclosed_quantity": p.disclosed_quantity, "price": p.price, "trigger_price": p.trigger_price,
        "average_price": o.average_price, "filled_quantity": o.filled, "pending_quantity": pending,
        "cancelled_quantity": o.cancelled, "market_protection": p.market_protection, "meta": dict(o.meta),
        "tag": p.tag, "tags": [p.tag] if p.tag else [], "guid": f"emu{o.order_id}",
    }


def postback_json(o: KiteOrder, status: str, api_secret: str, app_id: int) -> dict[str, Any]:
    """An order update as the ticker's text message (and the postback webhook) carries it."""
    data = order_json(o, status)
    timestamp = data["order_timestamp"] or ""
    data.update(user_id=o.user_id, unfilled_quantity=data["pending_quantity"], app_id=app_id,
                checksum=hashlib.sha256((o.order_id + timestamp + api_secret).encode()).hexdigest())
    return data


def trade_json(o: KiteOrder, trade_id: int, quantity: Decimal, price: Decimal, ts_ns: int) -> dict[str, Any]:
    """One fill as a Kite trade object."""
    p = o.params
    return {"trade_id": str(trade_id), "order_id": o.order_id, "exchange": p.exchange, "tradingsymbol": p.tradingsymbol,
            "instrument_token": int(o.instrument.venue_token), "product": p.product, "average_price": price,
            "quantity": int(quantity), "exchange_order_id": o.exchange_order_id, "transaction_type": p.side.value,
            "fill_timestamp": ist(ts_ns), "order_timestamp": ist(o.placed_ns, "%H:%M:%S"), "exchange_timestamp": ist(ts_ns)}
