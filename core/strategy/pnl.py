"""Per-strategy positions and P&L, from the engine's own order and fill events.

Every order carries its source ("strategy:<id>" for a strategy's orders); a fill belongs to the
strategy whose order it filled. So the terminal attributes P&L from what the OMS saw, never from
what a strategy process says about itself. Positions use core.portfolio's PositionLedger (average
cost), so a strategy's figures agree with the portfolio's for the same fills. Realised P&L is
before fees; fees are kept apart. Unrealised P&L needs a mark; without one it is None.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.domain import Fill, InstrumentId, Order
from core.portfolio import PositionLedger

ZERO = Decimal(0)
SOURCE_PREFIX = "strategy:"


@dataclass(frozen=True, slots=True)
class StrategyPosition:
    """One strategy's position in one instrument (flat ones included once traded)."""

    instrument_id: InstrumentId
    quantity: Decimal
    average_price: Decimal
    realised: Decimal
    unrealised: Decimal | None
    fees: Decimal


@dataclass(frozen=True, slots=True)
class StrategyPnlSummary:
    """A strategy's totals: realised and unrealised P&L (None when an open position has no mark), fees."""

    positions: tuple[StrategyPosition, ...] = ()
    realised: Decimal = ZERO
    unrealised: Decimal | None = ZERO
    fees: Decimal = ZERO

    @property
    def open_positions(self) -> tuple[StrategyPosition, ...]:
        return tuple(p for p in self.positions if p.quantity)


def strategy_of(order: Order) -> str | None:
    """The strategy id an order was tagged with, or None for other sources."""
    source = order.request.source
    return source[len(SOURCE_PREFIX):] if source.startswith(SOURCE_PREFIX) else None


class StrategyPnl:
    """Attributes fills to strategies and keeps their ledgers. Feed it every order update and fill."""

    def __init__(self, multiplier: Callable[[InstrumentId], Decimal] = lambda _: Decimal(1)) -> None:
        self._multiplier = multiplier
        self._owner: dict[str, str] = {}  # client order id -> strategy id
        self._ledgers: dict[str, dict[InstrumentId, PositionLedger]] = {}
        self._fees: dict[str, dict[InstrumentId, Decimal]] = {}
        self._seen: set[tuple[str, str]] = set()  # (order, trade) applied: a fill reported twice counts once

    def on_order(self, order: Order) -> None:
        """Learn which strategy an order belongs to (orders of other sources are ignored)."""
        sid = strategy_of(order)
        if sid is not None:
            self._owner[order.client_order_id] = sid

    def on_fill(self, fill: Fill) -> str | None:
        """Apply a fill to its strategy's ledger; return the strategy id (None if it is no strategy's)."""
        sid = self._owner.get(fill.client_order_id)
        key = (fill.client_order_id, fill.trade_id)
        if sid is None or key in self._seen:
            return None
        self._seen.add(key)
        ledgers = self._ledgers.setdefault(sid, {})
        ledger = ledgers.get(fill.instrument_id)
        if ledger is None:
            ledger = ledgers[fill.instrument_id] = PositionLedger(multiplier=self._multiplier(fill.instrument_id))
        ledger.apply(fill.side.sign * fill.quantity, fill.price)
        fees = self._fees.setdefault(sid, {})
        fees[fill.instrument_id] = fees.get(fill.instrument_id, ZERO) + fill.fee
        return sid

    def summary(self, strategy_id: str, mark: Callable[[InstrumentId], Decimal | None]) -> StrategyPnlSummary:
        """The strategy's positions and totals, open positions marked with mark(instrument)."""
        positions: list[StrategyPosition] = []
        realised, fees = ZERO, ZERO
        unrealised: Decimal | None = ZERO
        for iid, ledger in self._ledgers.get(strategy_id, {}).items():
            price = mark(iid) if ledger.quantity else None
            open_pnl = ZERO if not ledger.quantity else None if price is None else ledger.unrealised(price)
            fee = self._fees[strategy_id][iid]
            positions.append(StrategyPosition(iid, ledger.quantity, ledger.average_price, ledger.realised, open_pnl, fee))
            realised += ledger.realised
            fees += fee
            unrealised = None if unrealised is None or open_pnl is None else unrealised + open_pnl
        return StrategyPnlSummary(tuple(positions), realised, unrealised, fees)
