"""Position accounting for one instrument and product: quantity, cost basis and realised P&L.

Quantities are signed (+ long, - short). Two cost methods:
- AVERAGE (the default, what Kite and Binance futures show): the average price is the weighted average of
  the fills that opened the position; a reduction realises (exit - average) x quantity and leaves the
  average unchanged; a fill through zero closes at the average and opens the rest at the fill price.
- FIFO: open lots are kept in order; a reduction closes the oldest lots first and realises against each
  lot's own price. The average price is the weighted average of the lots still open.
Realised P&L is gross of fees; fees are kept apart by the portfolio. Multiplier scales price x quantity
into account currency.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class CostMethod(str, Enum):
    AVERAGE = "AVERAGE"
    FIFO = "FIFO"


@dataclass(slots=True)
class _Lot:
    quantity: Decimal  # signed
    price: Decimal


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


class PositionLedger:
    """Applies signed fills to one position and tracks its cost and realised P&L."""

    def __init__(self, method: CostMethod = CostMethod.AVERAGE, multiplier: Decimal = Decimal(1)) -> None:
        self.method = method
        self.multiplier = multiplier
        self.quantity = ZERO
        self.average_price = ZERO
        self.realised = ZERO
        self._lots: deque[_Lot] = deque()

    def apply(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Apply a fill of signed quantity at price; return the P&L it realised."""
        if quantity == 0:
            return ZERO
        fifo = self.method is CostMethod.FIFO
        realised = self._apply_fifo(quantity, price) if fifo else self._apply_average(quantity, price)
        self.realised += realised
        return realised

    def set(self, quantity: Decimal, average_price: Decimal) -> None:
        """Replace the position (adopting the venue's figures); realised P&L is kept."""
        self.quantity = quantity
        self.average_price = average_price if quantity else ZERO
        self._lots = deque([_Lot(quantity, average_price)] if quantity else [])

    def unrealised(self, mark: Decimal) -> Decimal:
        """P&L of the open quantity marked at mark."""
        return (mark - self.average_price) * self.quantity * self.multiplier

    def _apply_average(self, quantity: Decimal, price: Decimal) -> Decimal:
        held = self.quantity
        if held == 0 or _sign(held) == _sign(quantity):
            total = held + quantity
            self.average_price = (self.average_price * abs(held) + price * abs(quantity)) / abs(total)
            self.quantity = total
            return ZERO
        closed = min(abs(quantity), abs(held))
        realised = (price - self.average_price) * closed * _sign(held) * self.multiplier
        self.quantity = held + quantity
        if self.quantity == 0:
            self.average_price = ZERO
        elif _sign(self.quantity) != _sign(held):
            self.average_price = price  # flipped: the remainder opened at this fill's price
        return realised

    def _apply_fifo(self, quantity: Decimal, price: Decimal) -> Decimal:
        realised = ZERO
        remaining = quantity
        while remaining and self._lots and _sign(self._lots[0].quantity) != _sign(remaining):
            lot = self._lots[0]
            take = min(abs(remaining), abs(lot.quantity))
            realised += (price - lot.price) * take * _sign(lot.quantity) * self.multiplier
            lot.quantity -= take * _sign(lot.quantity)
            remaining -= take * _sign(remaining)
            if lot.quantity == 0:
                self._lots.popleft()
        if remaining:
            self._lots.append(_Lot(remaining, price))
        self.quantity = sum((lot.quantity for lot in self._lots), ZERO)
        held = sum((abs(lot.quantity) for lot in self._lots), ZERO)
        self.average_price = sum((abs(lot.quantity) * lot.price for lot in self._lots), ZERO) / held if held else ZERO
        return realised
