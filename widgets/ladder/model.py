"""The ladder's pure model: which price each row shows and what sits at it. No painting here."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from core.domain import Side
from core.marketdata.book import BookView

NEAR_LEVELS = 10  # book levels a side that the automatic grouping keeps on screen


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """One of the user's working orders, as the ladder shows it."""

    client_order_id: str
    side: Side
    price: Decimal
    leaves_quantity: Decimal


@dataclass
class LadderModel:
    """Rows of price levels around a centre price, each `step` apart (tick x grouping)."""

    tick: Decimal = Decimal("0.01")
    grouping: int = 1
    centre: Decimal | None = None
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    volume: dict[Decimal, Decimal] = field(default_factory=dict)
    orders: list[WorkingOrder] = field(default_factory=list)
    last_price: Decimal | None = None

    @property
    def step(self) -> Decimal:
        return self.tick * self.grouping

    def bucket(self, price: Decimal) -> Decimal:
        """The row price a price belongs to (grouped rows: floor to the step)."""
        return (price / self.step).to_integral_value(rounding=ROUND_FLOOR) * self.step

    def price_at(self, row: int, rows: int) -> Decimal | None:
        """Price shown at a row of a ladder `rows` tall (row 0 at the top, highest price)."""
        if self.centre is None:
            return None
        return self.bucket(self.centre) + (rows // 2 - row) * self.step

    def prices(self, rows: int) -> list[Decimal]:
        """The price of every row, top first (price_at for each row, computing the top once)."""
        if self.centre is None:
            return []
        step = self.step
        top = self.bucket(self.centre) + (rows // 2) * step
        return [top - row * step for row in range(rows)]

    def orders_by_price(self) -> dict[tuple[Side, Decimal], list[WorkingOrder]]:
        """The working orders grouped by side and row price (orders_at for every row at once)."""
        out: dict[tuple[Side, Decimal], list[WorkingOrder]] = {}
        for order in self.orders:
            out.setdefault((order.side, self.bucket(order.price)), []).append(order)
        return out

    def row_of(self, price: Decimal, rows: int) -> int | None:
        """Row showing a price, or None when it is off screen."""
        if self.centre is None:
            return None
        row = rows // 2 - int((self.bucket(price) - self.bucket(self.centre)) / self.step)
        return row if 0 <= row < rows else None

    def set_book(self, view: BookView) -> None:
        """Aggregate the book into rows."""
        self.bids = _aggregate(view.bids, self)
        self.asks = _aggregate(view.asks, self)
        if self.centre is None:
            mid = view.mid or view.best_bid or view.best_ask
            if mid is not None:
                self.centre = mid

    def add_trades(self, trades: Iterable[tuple[Decimal, Decimal]]) -> None:
        """Accumulate traded volume per row and remember the last price."""
        for price, qty in trades:
            key = self.bucket(price)
            self.volume[key] = self.volume.get(key, Decimal(0)) + qty
            self.last_price = price

    def orders_at(self, price: Decimal, side: Side) -> list[WorkingOrder]:
        key = self.bucket(price)
        return [o for o in self.orders if o.side is side and self.bucket(o.price) == key]

    def auto_group(self, view: BookView, rows: int, groupings: tuple[int, ...]) -> int:
        """Pick the smallest grouping whose rows show the spread and the NEAR_LEVELS best levels either side.

        Only the levels near the touch count (of the raw book, whatever the grouping): a book with depth
        1.5 % out had made the ladder group x500 and squeeze the touch into two rows."""
        if not view.bids or not view.asks:
            return self.grouping
        near = min(len(view.bids), len(view.asks), NEAR_LEVELS) - 1
        span = view.asks[near][0] - view.bids[near][0]
        spread = view.asks[0][0] - view.bids[0][0]
        wanted = max(spread * 4, span / 3)
        for grouping in groupings:
            if self.tick * grouping * rows >= wanted:
                return grouping
        return groupings[-1]

    def touch_visible(self, rows: int) -> bool:
        """True while the best bid and ask both sit on screen, away from the edges."""
        if self.centre is None or not self.bids or not self.asks:
            return False
        top, bottom = self.price_at(1, rows), self.price_at(rows - 2, rows)
        assert top is not None and bottom is not None
        return bottom <= max(self.bids) and min(self.asks) <= top

    def recentre(self) -> None:
        """Centre on the last trade, else the mid of the book."""
        if self.last_price is not None:
            self.centre = self.last_price
        elif self.bids and self.asks:
            self.centre = (max(self.bids) + min(self.asks)) / 2

    def scroll(self, rows: int) -> None:
        if self.centre is not None:
            self.centre += rows * self.step


def _aggregate(levels: Iterable[tuple[Decimal, Decimal]], model: LadderModel) -> dict[Decimal, Decimal]:
    out: dict[Decimal, Decimal] = {}
    for price, qty in levels:
        key = model.bucket(price)
        out[key] = out.get(key, Decimal(0)) + qty
    return out
