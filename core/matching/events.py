"""Execution events a MatchingEngine returns: what happened to which order, in order."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from core.domain import OrderType, Side, TimeInForce


class RejectReason(str, Enum):
    QTY_INVALID = "QTY_INVALID"
    PRICE_INVALID = "PRICE_INVALID"
    WOULD_CROSS = "WOULD_CROSS"  # post-only that would take liquidity
    FOK_UNFILLABLE = "FOK_UNFILLABLE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    AMEND_BELOW_FILLED = "AMEND_BELOW_FILLED"
    NOT_ACTIVE = "NOT_ACTIVE"


class ExpireReason(str, Enum):
    IOC = "IOC"  # the rest of an IOC order
    NO_LIQUIDITY = "NO_LIQUIDITY"  # the rest of a market order
    SELF_TRADE = "SELF_TRADE"  # expire-taker self-trade prevention


@dataclass(frozen=True, slots=True)
class EngineOrder:
    """An order as the engine knows it (mutable state lives in RestingOrder)."""

    order_id: int
    account: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class Accepted:
    order_id: int
    resting: bool  # False: a stop waiting for its trigger (not in the book yet)


@dataclass(frozen=True, slots=True)
class Rejected:
    order_id: int
    reason: RejectReason


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: int
    maker_order_id: int
    taker_order_id: int
    maker_account: str
    taker_account: str
    taker_side: Side
    price: Decimal
    quantity: Decimal
    maker_fee: Decimal
    taker_fee: Decimal


@dataclass(frozen=True, slots=True)
class Cancelled:
    order_id: int
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class Expired:
    order_id: int
    remaining: Decimal
    reason: ExpireReason


@dataclass(frozen=True, slots=True)
class Triggered:
    order_id: int


@dataclass(frozen=True, slots=True)
class Amended:
    order_id: int
    price: Decimal | None
    quantity: Decimal
    lost_priority: bool


ExecEvent = Accepted | Rejected | Trade | Cancelled | Expired | Triggered | Amended
