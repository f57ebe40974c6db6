"""Orders: the request a user or strategy makes, and the order the OMS tracks through its states.

The status moves only through TRANSITIONS; anything else raises IllegalTransition. Order is frozen:
each change yields a new Order, so a reader never sees one half-updated.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NewType

from .enums import OrderStatus, OrderType, Product, Side, TimeInForce
from .instrument import InstrumentId

ClientOrderId = NewType("ClientOrderId", str)

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_NEW: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_PENDING, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.OPEN: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_PENDING, S.CANCELLED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_PENDING, S.CANCELLED, S.EXPIRED}),
    S.CANCEL_PENDING: frozenset({S.CANCEL_PENDING, S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


class IllegalTransition(ValueError):
    """An order was asked to move to a status its current status cannot reach."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the caller wants: validated by risk, then turned into an Order by the OMS."""

    instrument_id: InstrumentId
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.LIMIT
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    product: Product = Product.SPOT
    disclosed_quantity: Decimal | None = None
    reduce_only: bool = False
    quote_quantity: Decimal | None = None  # Binance quoteOrderQty for market buys
    source: str = "ui"  # ui | hotkey | console | strategy:<id> | system
    tag: str = ""

    def __post_init__(self) -> None:
        if self.quantity <= 0 and self.quote_quantity is None:
            raise ValueError(f"quantity must be positive, got {self.quantity}")
        if self.order_type.has_price and self.price is None:
            raise ValueError(f"{self.order_type.value} order needs a price")
        if self.order_type.has_trigger and self.trigger_price is None:
            raise ValueError(f"{self.order_type.value} order needs a trigger price")
        if self.price is not None and self.price <= 0:
            raise ValueError(f"price must be positive, got {self.price}")
        if self.trigger_price is not None and self.trigger_price <= 0:
            raise ValueError(f"trigger price must be positive, got {self.trigger_price}")


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the OMS knows it. venue_order_id is empty until the venue acknowledges it."""

    client_order_id: ClientOrderId
    request: OrderRequest
    status: OrderStatus = OrderStatus.PENDING_NEW
    venue_order_id: str = ""
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    price: Decimal | None = None  # current working price (changes on modify)
    quantity: Decimal | None = None  # current working quantity (changes on modify)
    trigger_price: Decimal | None = None
    reject_reason: str = ""
    created_ns: int = 0
    updated_ns: int = 0
    venue_seq: int = 0  # monotonic sequence of the last venue update applied
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.price is None and self.request.price is not None:
            object.__setattr__(self, "price", self.request.price)
        if self.quantity is None:
            object.__setattr__(self, "quantity", self.request.quantity)
        if self.trigger_price is None and self.request.trigger_price is not None:
            object.__setattr__(self, "trigger_price", self.request.trigger_price)

    @property
    def instrument_id(self) -> InstrumentId:
        return self.request.instrument_id

    @property
    def side(self) -> Side:
        return self.request.side

    @property
    def leaves_quantity(self) -> Decimal:
        """Quantity still working (zero once terminal)."""
        if self.status.is_terminal:
            return Decimal(0)
        assert self.quantity is not None
        return max(Decimal(0), self.quantity - self.filled_quantity)

    def can_transition(self, status: OrderStatus) -> bool:
        return status in TRANSITIONS[self.status]

    def transition(self, status: OrderStatus, **changes: object) -> "Order":
        """Return this order moved to status with the given field changes; raise if illegal."""
        if not self.can_transition(status):
            raise IllegalTransition(f"{self.client_order_id}: {self.status.value} -> {status.value} is not allowed")
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def with_fill(self, quantity: Decimal, price: Decimal, ts_ns: int = 0) -> "Order":
        """Return this order with a fill applied: cumulative quantity, average price and status."""
        if quantity <= 0:
            raise ValueError(f"fill quantity must be positive, got {quantity}")
        assert self.quantity is not None
        filled = self.filled_quantity + quantity
        if filled > self.quantity:
            raise ValueError(f"{self.client_order_id}: fill of {quantity} overfills {self.quantity}")
        prev_value = (self.average_price or Decimal(0)) * self.filled_quantity
        average = (prev_value + price * quantity) / filled
        status = OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED
        if self.status is OrderStatus.CANCEL_PENDING and status is OrderStatus.PARTIALLY_FILLED:
            status = OrderStatus.CANCEL_PENDING  # a fill does not answer a pending cancel
        return self.transition(status, filled_quantity=filled, average_price=average, updated_ns=ts_ns or self.updated_ns)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. trade_id is the venue's and makes fills idempotent."""

    client_order_id: ClientOrderId
    venue_order_id: str
    trade_id: str
    instrument_id: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_currency: str = ""
    ts_ns: int = 0
    is_maker: bool = False
    product: Product = Product.SPOT
