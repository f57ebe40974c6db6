"""One side of a limit order book: price levels in sorted order, each a FIFO queue of resting orders."""
from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from .events import EngineOrder


@dataclass(slots=True)
class RestingOrder:
    order: EngineOrder
    remaining: Decimal
    price: Decimal


class BookSide:
    """Prices kept sorted ascending; the best is the last for bids and the first for asks."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.prices: list[Decimal] = []
        self.levels: dict[Decimal, deque[RestingOrder]] = {}

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def add(self, resting: RestingOrder, front: bool = False) -> None:
        queue = self.levels.get(resting.price)
        if queue is None:
            queue = self.levels[resting.price] = deque()
            insort(self.prices, resting.price)
        if front:
            queue.appendleft(resting)
        else:
            queue.append(resting)

    def remove(self, resting: RestingOrder) -> None:
        queue = self.levels[resting.price]
        queue.remove(resting)
        if not queue:
            self._drop_level(resting.price)

    def pop_front(self, price: Decimal) -> None:
        queue = self.levels[price]
        queue.popleft()
        if not queue:
            self._drop_level(price)

    def _drop_level(self, price: Decimal) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def quantity_at(self, price: Decimal) -> Decimal:
        queue = self.levels.get(price)
        return sum((r.remaining for r in queue), Decimal(0)) if queue else Decimal(0)

    def depth(self, n: int) -> list[tuple[Decimal, Decimal]]:
        """Top n levels, best first, aggregated by price."""
        prices = self.prices[-n:][::-1] if self.is_bid else self.prices[:n]
        return [(p, self.quantity_at(p)) for p in prices]

    def iter_best(self) -> "list[Decimal]":
        """All prices, best first (a copy: callers may change the book while iterating)."""
        return self.prices[::-1] if self.is_bid else list(self.prices)
