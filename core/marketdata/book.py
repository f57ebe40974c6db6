"""A local limit order book built from BookDelta events (the connector has already sequenced them).

Levels live in two dicts (price -> quantity); sorting happens only when a reader asks for the top of
the book, and the result is cached until the next change, so applying a delta is O(levels changed)
and a 25 Hz reader pays one sort of the levels it needs.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import Decimal

from core.domain import BookDelta, InstrumentId, PriceLevel


class CrossedBook(ValueError):
    """The best bid is at or above the best ask: the book is out of sync and must be resynced."""


@dataclass(frozen=True, slots=True)
class BookView:
    """A read-only top-of-book snapshot for display, best level first."""

    instrument_id: InstrumentId
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    update_id: int
    ts_ns: int

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return self.asks[0][0] - self.bids[0][0]

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.asks[0][0] + self.bids[0][0]) / 2


class OrderBook:
    """Both sides of one instrument's book."""

    def __init__(self, instrument_id: InstrumentId) -> None:
        self.instrument_id = instrument_id
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = 0
        self.ts_ns = 0
        self.has_snapshot = False
        self._cache: dict[int, BookView] = {}

    def apply(self, delta: BookDelta) -> None:
        """Apply a snapshot or a delta; quantity 0 removes a level."""
        if delta.is_snapshot:
            self.bids = {p: q for p, q in delta.bids if q > 0}
            self.asks = {p: q for p, q in delta.asks if q > 0}
            self.has_snapshot = True
        else:
            _merge(self.bids, delta.bids)
            _merge(self.asks, delta.asks)
        self.update_id = delta.update_id or self.update_id
        self.ts_ns = delta.ts_ns
        self._cache.clear()

    def clear(self) -> None:
        """Forget everything (on disconnect: an old book must never look live)."""
        self.bids.clear()
        self.asks.clear()
        self.has_snapshot = False
        self._cache.clear()

    def view(self, depth: int = 20) -> BookView:
        """Return the top `depth` levels of each side, best first."""
        cached = self._cache.get(depth)
        if cached is None:
            bids = tuple((p, self.bids[p]) for p in heapq.nlargest(depth, self.bids))
            asks = tuple((p, self.asks[p]) for p in heapq.nsmallest(depth, self.asks))
            cached = BookView(self.instrument_id, bids, asks, self.update_id, self.ts_ns)
            self._cache[depth] = cached
        return cached

    def check_uncrossed(self) -> None:
        """Raise CrossedBook if best bid >= best ask."""
        if self.bids and self.asks:
            bid, ask = max(self.bids), min(self.asks)
            if bid >= ask:
                raise CrossedBook(f"{self.instrument_id}: best bid {bid} >= best ask {ask}")


def _merge(side: dict[Decimal, Decimal], levels: tuple[PriceLevel, ...]) -> None:
    for price, qty in levels:
        if qty > 0:
            side[price] = qty
        else:
            side.pop(price, None)
