"""The venue port: what every connector (Binance, Zerodha, and so the emulator) implements.

A connector is built with the bus and publishes market and account events on it (Tick, TradePrint,
BookDelta, BarEvent, VenueOrderReport, FillEvent, ConnectionChanged). Order methods return the venue's
answer as a VenueOrderReport and raise from core.errors: OrderRejected, RateLimited, AuthError,
ValidationError; OrderOutcomeUnknown when a request went out and no trustworthy answer came back.
Client order ids come from the OMS; a connector never invents one.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum

from .domain import Balance, BarEvent, ClientOrderId, Fill, Instrument, InstrumentId, Order, Position, Venue, VenueOrderReport

RequestSent = Callable[[], None]  # called once an order's request has been written to the network


class Channel(str, Enum):
    BOOK = "book"
    TRADES = "trades"
    TICKS = "ticks"


class VenueClient(ABC):
    """Port implemented by each connector. Required methods are abstract; the rest have safe defaults."""

    venue: Venue

    @abstractmethod
    async def connect(self) -> None:
        """Authenticate, load instruments, open streams. Idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection and task. Idempotent; never raises."""

    @abstractmethod
    def instruments(self) -> list[Instrument]:
        """Return the instruments loaded at connect()."""

    @abstractmethod
    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        """Start streaming the channels for the instruments (idempotent)."""

    async def unsubscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        """Stop streaming; the default keeps streaming (harmless, costs bandwidth)."""

    @abstractmethod
    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        """Send a new order. Raise OrderOutcomeUnknown if it may or may not have been placed.

        sent, if given, is called once the order's request has been written to the network (a client
        without a network may call it at once); callers must not rely on it being called at all.
        """

    @abstractmethod
    async def cancel_order(self, order: Order) -> VenueOrderReport:
        """Ask the venue to cancel; the answer may be CANCEL_PENDING or CANCELLED."""

    @abstractmethod
    async def modify_order(
        self, order: Order, price: Decimal | None, quantity: Decimal | None, trigger_price: Decimal | None
    ) -> VenueOrderReport:
        """Change price/quantity/trigger of a working order (cancel-replace where the venue needs it)."""

    @abstractmethod
    async def query_order(self, order: Order) -> VenueOrderReport | None:
        """Look an order up by its client id (or tag); None if the venue does not know it."""

    @abstractmethod
    async def open_orders(self) -> list[VenueOrderReport]:
        """Every order working at the venue now, ours or not."""

    @abstractmethod
    async def fills(self, since_ns: int = 0) -> list[Fill]:
        """Fills since a time (for reconciliation)."""

    @abstractmethod
    async def positions(self) -> list[Position]:
        """Positions as the venue reports them."""

    @abstractmethod
    async def balances(self) -> list[Balance]:
        """Cash/asset balances as the venue reports them."""

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        """Historical candles; the default has none."""
        return []

    def client_order_id_ok(self, client_order_id: ClientOrderId) -> bool:
        """True if the venue accepts this id as our order id/tag (length, alphabet)."""
        return True
