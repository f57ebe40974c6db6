"""MarketState: the latest market picture per instrument, kept from bus events.

Widgets and strategies read this (never the raw feed): the last tick, the order book, recent public
trades, and when each instrument last updated, so a silent feed can be shown as stale.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from core.bus import EventBus
from core.domain import BookDelta, ConnectionChanged, ConnectionStatus, InstrumentId, Tick, TradePrint, Venue

from .book import OrderBook

TRADES_KEPT = 500
MARKET_CHANNELS = frozenset({"market", "ticker"})  # Binance streams / Kite Ticker: the market-data feeds


class MarketState:
    """Subscribes to Tick, TradePrint, BookDelta and ConnectionChanged on the bus."""

    def __init__(self, bus: EventBus, clock_ns: Callable[[], int] | None = None) -> None:
        self.ticks: dict[InstrumentId, Tick] = {}
        self.books: dict[InstrumentId, OrderBook] = {}
        self.trades: dict[InstrumentId, deque[TradePrint]] = {}
        self.last_update_ns: dict[InstrumentId, int] = {}
        self.venue_status: dict[tuple[Venue, str], ConnectionStatus] = {}
        self._clock_ns = clock_ns or time.time_ns
        bus.subscribe(Tick, self._on_tick)
        bus.subscribe(TradePrint, self._on_trade)
        bus.subscribe(BookDelta, self._on_book)
        bus.subscribe(ConnectionChanged, self._on_connection)

    def book(self, instrument_id: InstrumentId) -> OrderBook:
        """Return the book of an instrument (empty until its first snapshot)."""
        book = self.books.get(instrument_id)
        if book is None:
            book = self.books[instrument_id] = OrderBook(instrument_id)
        return book

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """Last traded price, else the mid of the book, else None."""
        tick = self.ticks.get(instrument_id)
        if tick is not None and tick.last_price is not None:
            return tick.last_price
        trades = self.trades.get(instrument_id)
        if trades:
            return trades[-1].price
        book = self.books.get(instrument_id)
        return book.view(1).mid if book is not None else None

    def age_s(self, instrument_id: InstrumentId) -> float | None:
        """Seconds since the instrument last updated (None if it never did)."""
        last = self.last_update_ns.get(instrument_id)
        return None if last is None else (self._clock_ns() - last) / 1e9

    def is_stale(self, instrument_id: InstrumentId, max_age_s: float = 2.0) -> bool:
        """True when the venue's market feed is not live or the instrument has been silent too long."""
        for channel in MARKET_CHANNELS:
            status = self.venue_status.get((instrument_id.venue, channel))
            if status is not None and status is not ConnectionStatus.CONNECTED:
                return True
        age = self.age_s(instrument_id)
        return age is None or age > max_age_s

    def _touch(self, instrument_id: InstrumentId) -> None:
        self.last_update_ns[instrument_id] = self._clock_ns()

    def _on_tick(self, tick: Tick) -> None:
        previous = self.ticks.get(tick.instrument_id)
        if previous is not None:  # partial ticks (bookTicker, ltp mode) keep what they do not carry
            tick = _merge_tick(previous, tick)
        self.ticks[tick.instrument_id] = tick
        self._touch(tick.instrument_id)

    def _on_trade(self, trade: TradePrint) -> None:
        ring = self.trades.get(trade.instrument_id)
        if ring is None:
            ring = self.trades[trade.instrument_id] = deque(maxlen=TRADES_KEPT)
        ring.append(trade)
        self._touch(trade.instrument_id)

    def _on_book(self, delta: BookDelta) -> None:
        self.book(delta.instrument_id).apply(delta)
        self._touch(delta.instrument_id)

    def _on_connection(self, event: ConnectionChanged) -> None:
        self.venue_status[(event.venue, event.channel)] = event.status
        if event.channel in MARKET_CHANNELS and event.status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.FAILED):
            for iid, book in self.books.items():
                if iid.venue is event.venue:
                    book.clear()


def _merge_tick(old: Tick, new: Tick) -> Tick:
    fields = {name: getattr(new, name) for name in Tick.__slots__}  # type: ignore[attr-defined]
    for name, value in fields.items():
        if value is None:
            fields[name] = getattr(old, name)
    return Tick(**fields)
