"""Emulator accounts: balances that lock on order placement and settle on fills, and positions.

Binance spot settles in assets (fees in the quote asset); USD-M keeps a USDT wallet and a position
per symbol with entry price and realised P&L; Kite keeps INR cash with a simple margin (order value
for buys of cash equity and options, 15 % of notional for futures and option sells) and positions per
product with day/net buy and sell quantities and values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .contract import AccountBalance, AccountPosition

ZERO = Decimal(0)
INTERNAL = frozenset({"mm", "flow"})  # the simulation's own accounts: no balances


@dataclass
class Pos:
    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realised: Decimal = ZERO
    buy_qty: Decimal = ZERO
    buy_value: Decimal = ZERO
    sell_qty: Decimal = ZERO
    sell_value: Decimal = ZERO

    def apply(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Apply a fill; return the P&L it realised (average-cost)."""
        realised = ZERO
        if signed_qty > 0:
            self.buy_qty += signed_qty
            self.buy_value += signed_qty * price
        else:
            self.sell_qty += -signed_qty
            self.sell_value += -signed_qty * price
        q = self.quantity
        if q == 0 or (q > 0) == (signed_qty > 0):
            new = q + signed_qty
            self.average_price = (self.average_price * abs(q) + price * abs(signed_qty)) / abs(new)
            self.quantity = new
            return ZERO
        closing = min(abs(signed_qty), abs(q))
        realised = closing * (price - self.average_price) * (1 if q > 0 else -1)
        self.realised += realised
        new = q + signed_qty
        if new == 0:
            self.average_price = ZERO
        elif (new > 0) != (q > 0):
            self.average_price = price  # flipped: the remainder opens at the fill price
        self.quantity = new
        return realised


@dataclass
class Account:
    name: str
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]
    positions: dict[tuple[str, str, str], Pos] = field(default_factory=dict)  # (market, symbol, product)
    leverage: dict[str, int] = field(default_factory=dict)

    def free(self, asset: str) -> Decimal:
        return self.balances.get(asset, [ZERO, ZERO])[0]

    def lock(self, asset: str, amount: Decimal) -> bool:
        """Move amount from free to locked; False (and nothing moves) if free is short."""
        entry = self.balances.setdefault(asset, [ZERO, ZERO])
        if amount > entry[0]:
            return False
        entry[0] -= amount
        entry[1] += amount
        return True

    def unlock(self, asset: str, amount: Decimal) -> None:
        entry = self.balances.setdefault(asset, [ZERO, ZERO])
        amount = min(amount, entry[1])
        entry[1] -= amount
        entry[0] += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        entry = self.balances.setdefault(asset, [ZERO, ZERO])
        taken = min(amount, entry[1])
        entry[1] -= taken
        entry[0] -= amount - taken

    def credit(self, asset: str, amount: Decimal) -> None:
        self.balances.setdefault(asset, [ZERO, ZERO])[0] += amount

    def position(self, market: str, symbol: str, product: str) -> Pos:
        return self.positions.setdefault((market, symbol, product), Pos())

    def balance_list(self) -> list[AccountBalance]:
        return [AccountBalance(a, f, l) for a, (f, l) in sorted(self.balances.items())]

    def position_list(self) -> list[AccountPosition]:
        return [AccountPosition(m, s, p, pos.quantity, pos.average_price, pos.realised, pos.buy_qty, pos.buy_value, pos.sell_qty,
                                pos.sell_value, pos.buy_qty, pos.sell_qty)
                for (m, s, p), pos in sorted(self.positions.items()) if pos.quantity != 0 or pos.buy_qty or pos.sell_qty]


def demo_accounts() -> dict[str, Account]:
    binance = Account("binance-demo", {"USDT": [Decimal(10000), ZERO], "BTC": [Decimal("0.5"), ZERO],
                                       "ETH": [Decimal(5), ZERO], "SOL": [Decimal(50), ZERO], "USDT-FUT": [Decimal(10000), ZERO]})
    kite = Account("kite-demo", {"INR": [Decimal(1_000_000), ZERO]})
    return {a.name: a for a in (binance, kite)}
