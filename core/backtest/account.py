"""Simulated accounts: positions from fills, cash, and the round trips a backtest reports.

Positions use core.portfolio's PositionLedger (average cost), so a backtest values a position exactly
as the live portfolio does. Cash moves by the signed notional (price x quantity x multiplier) and the
fee of every fill, so equity = cash + sum(quantity x mark x multiplier) holds for spot and futures.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.domain import Fill, Instrument, InstrumentId, Position, Product, Side
from core.portfolio import PositionLedger

from .results import RoundTrip

ZERO = Decimal(0)
_FEE_SHARE = Decimal("1e-10")  # a fee split between two round trips is rounded here; the parts still add up


class Positions:
    """Signed positions per instrument from fills: average cost, realised P&L and fees."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._multiplier = {i.id: i.multiplier for i in instruments}
        self._ledgers: dict[InstrumentId, PositionLedger] = {}
        self._fees: dict[InstrumentId, Decimal] = {}
        self._product: dict[InstrumentId, Product] = {}

    def apply(self, fill: Fill) -> Decimal:
        """Apply a fill; return the P&L it realised."""
        iid = fill.instrument_id
        ledger = self._ledgers.get(iid)
        if ledger is None:
            ledger = self._ledgers[iid] = PositionLedger(multiplier=self._multiplier.get(iid, Decimal(1)))
        self._fees[iid] = self._fees.get(iid, ZERO) + fill.fee
        self._product[iid] = fill.product
        return ledger.apply(fill.side.sign * fill.quantity, fill.price)

    def quantity(self, instrument_id: InstrumentId) -> Decimal:
        ledger = self._ledgers.get(instrument_id)
        return ledger.quantity if ledger is not None else ZERO

    def position(self, instrument_id: InstrumentId) -> Position | None:
        """The position of an instrument ever traded (flat ones included), else None."""
        ledger = self._ledgers.get(instrument_id)
        if ledger is None:
            return None
        return Position(instrument_id, self._product[instrument_id], ledger.quantity, ledger.average_price,
                        ledger.realised, self._fees[instrument_id])

    def all(self) -> list[Position]:
        return [p for iid in self._ledgers if (p := self.position(iid)) is not None]


@dataclass
class _OpenTrip:
    side: Side
    entry_ns: int
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    largest: Decimal = ZERO
    fees: Decimal = ZERO


class Account:
    """Cash, positions and round trips of one backtest, updated at the venue's fill time."""

    def __init__(self, instruments: Iterable[Instrument], initial_cash: Decimal) -> None:
        instruments = list(instruments)
        self.initial_cash = initial_cash
        self.cash = initial_cash
        self.fees = ZERO
        self.positions = Positions(instruments)
        self.fills: list[Fill] = []
        self.trades: list[RoundTrip] = []
        self._multiplier = {i.id: i.multiplier for i in instruments}
        self._multiplier_f = {i.id: float(i.multiplier) for i in instruments}
        self._open: dict[InstrumentId, _OpenTrip] = {}
        self._cash_f = float(initial_cash)
        self._held: dict[InstrumentId, float] = {}  # nonzero positions x multiplier, as floats for the curve

    @property
    def in_market(self) -> bool:
        return bool(self._held)

    def apply(self, fill: Fill) -> None:
        """Book a fill: cash, fees, position and the round trip it belongs to."""
        iid = fill.instrument_id
        held = self.positions.quantity(iid)
        self.positions.apply(fill)
        self.cash -= fill.side.sign * fill.quantity * fill.price * self._multiplier[iid] + fill.fee
        self.fees += fill.fee
        self.fills.append(fill)
        self._cash_f = float(self.cash)
        after = self.positions.quantity(iid)
        if after:
            self._held[iid] = float(after) * self._multiplier_f[iid]
        else:
            self._held.pop(iid, None)
        self._track(fill, held, after)

    def equity(self, mark: Callable[[InstrumentId], float]) -> float:
        """Cash plus open positions marked at mark(instrument), in floats (for the curve)."""
        if not self._held:
            return self._cash_f
        return self._cash_f + sum(q * mark(iid) for iid, q in self._held.items())

    def exact_equity(self, marks: dict[InstrumentId, Decimal]) -> Decimal:
        """Cash plus open positions marked at the given prices, exactly."""
        total = self.cash
        for position in self.positions.all():
            if position.quantity:
                total += position.quantity * marks[position.instrument_id] * self._multiplier[position.instrument_id]
        return total

    def _track(self, fill: Fill, held: Decimal, after: Decimal) -> None:
        iid, qty, price = fill.instrument_id, fill.quantity, fill.price
        trip = self._open.get(iid)
        if trip is None or held == 0:
            trip = self._open[iid] = _OpenTrip(fill.side, fill.ts_ns)
        if fill.side is trip.side:
            trip.entry_qty += qty
            trip.entry_value += qty * price
            trip.fees += fill.fee
            trip.largest = max(trip.largest, abs(after))
            return
        closing = min(qty, abs(held))
        closing_fee = fill.fee if closing == qty else (fill.fee * closing / qty).quantize(_FEE_SHARE)
        trip.exit_qty += closing
        trip.exit_value += closing * price
        trip.fees += closing_fee
        if after != 0 and (after > 0) == (held > 0):
            return
        pnl = trip.side.sign * (trip.exit_value - trip.entry_value) * self._multiplier[iid]
        self.trades.append(RoundTrip(iid, trip.side, trip.largest, trip.entry_ns, fill.ts_ns,
                                     trip.entry_value / trip.entry_qty, trip.exit_value / trip.exit_qty, pnl, trip.fees))
        del self._open[iid]
        if after != 0:  # through zero: the rest of the fill opens the next round trip
            rest = qty - closing
            self._open[iid] = _OpenTrip(fill.side, fill.ts_ns, rest, rest * price, largest=abs(after),
                                        fees=fill.fee - closing_fee)
