"""Account-side events: order updates, fills, positions, balances and connection state."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .enums import ConnectionStatus, OrderStatus, Product, Side, Venue
from .instrument import InstrumentId
from .orders import ClientOrderId, Fill, Order


@dataclass(frozen=True, slots=True)
class VenueOrderReport:
    """What a venue says about an order (ack, modify, cancel, reject, expiry, or a query answer).

    Connectors publish these; the OMS applies them idempotently. cumulative fields let the OMS
    recover a missed fill from a later report.
    """

    venue: Venue
    client_order_id: ClientOrderId
    venue_order_id: str
    status: OrderStatus
    instrument_id: InstrumentId | None = None
    filled_quantity: Decimal | None = None
    average_price: Decimal | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    trigger_price: Decimal | None = None
    reason: str = ""
    ts_ns: int = 0
    seq: int = 0  # venue's monotonic sequence where it has one (Binance E/T, Kite exchange_update_timestamp)
    side: Side | None = None  # lets the OMS adopt (and the kill switch cancel) orders placed elsewhere


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """The OMS's order changed (any source). Widgets and strategies listen to this."""

    order: Order
    previous_status: OrderStatus | None


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class Position:
    instrument_id: InstrumentId
    product: Product
    quantity: Decimal  # signed: + long, - short
    average_price: Decimal
    realised_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    venue: Venue
    asset: str
    free: Decimal
    locked: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """A connector's link changed state; the status bar and staleness guards use this."""

    venue: Venue
    channel: str  # "rest", "market", "user", "ticker"
    status: ConnectionStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Progress of a long job (an instruments download, a backfill) for the status bar.

    fraction is 0..1, or None when the total is unknown; a fraction of 1.0 means done.
    """

    task: str
    fraction: float | None
    detail: str = ""
