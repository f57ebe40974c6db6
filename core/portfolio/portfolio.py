"""The portfolio: positions per instrument and product, updated from fills, marked to market.

Inputs: FillApplied (the OMS's deduplicated fills) and Tick from the bus; adopt() for positions the venue
reports that we hold no record of (carried from an earlier day). Outputs: read models for the positions
panel and the risk engine (views, totals, exposure, day P&L) and a PositionChanged event per fill.

Conventions:
- cost method: average cost by default, FIFO on request (see ledger.py);
- mark: the last trade price by default, or the mid (MarkMode.MID); if the chosen one is unknown the
  other is used, then the average price (no unrealised P&L);
- fees: in the quote currency; a fee charged in the base asset is valued at the fill price; fees in any
  other asset (BNB) are kept apart in other_fees and not in P&L;
- day P&L: total P&L (realised - fees + unrealised) now minus total P&L at the start of the day, with
  positions carried into the day valued at the previous close (Tick.close) when known, else at the mark
  when the day was rolled; roll_day() starts a new day;
- exposure: gross = sum |quantity| x mark x multiplier, net = the signed sum, per venue (one currency
  each); an option counts its premium, not the underlying's notional;
- margin used: whatever the connectors report through set_margin_used(), None when unknown.

Threading: loop thread only.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from core.bus import EventBus, Subscription
from core.domain import Fill, Instrument, InstrumentId, Position, Product, Tick, Venue
from core.instruments import InstrumentCatalog
from core.trading.events import FillApplied

from .greeks import Greeks, GreeksFn, total
from .ledger import ZERO, CostMethod, PositionLedger


class MarkMode(str, Enum):
    LAST = "LAST"
    MID = "MID"


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position as panels show it."""

    instrument_id: InstrumentId
    product: Product
    quantity: Decimal
    average_price: Decimal
    mark: Decimal | None
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    day_pnl: Decimal
    notional: Decimal  # signed quantity x mark x multiplier
    greeks: Greeks | None = None

    @property
    def net_pnl(self) -> Decimal:
        return self.realised_pnl + self.unrealised_pnl - self.fees


@dataclass(frozen=True, slots=True)
class PortfolioTotals:
    venue: Venue
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    day_pnl: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    margin_used: Decimal | None
    greeks: Greeks
    greeks_by_underlying: dict[str, Greeks] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PositionChanged:
    view: PositionView

    @property
    def instrument_id(self) -> InstrumentId:
        return self.view.instrument_id


@dataclass(slots=True)
class _Book:
    ledger: PositionLedger
    fees: Decimal = ZERO
    day_realised: Decimal = ZERO  # realised at the start of the day
    day_fees: Decimal = ZERO
    carried_quantity: Decimal = ZERO
    carried_average: Decimal = ZERO
    reference: Decimal | None = None  # price the carried quantity is valued at for day P&L
    reference_is_close: bool = False


class Portfolio:
    """Positions and P&L. Construct, start() to follow the bus."""

    def __init__(self, bus: EventBus, instruments: InstrumentCatalog, *, method: CostMethod = CostMethod.AVERAGE,
                 mark: MarkMode = MarkMode.LAST, greeks: GreeksFn | None = None) -> None:
        self._bus = bus
        self._instruments = instruments
        self.method = method
        self.mark_mode = mark
        self._greeks = greeks
        self._books: dict[tuple[InstrumentId, Product], _Book] = {}
        self._last: dict[InstrumentId, Decimal] = {}
        self._mid: dict[InstrumentId, Decimal] = {}
        self._margin: dict[Venue, Decimal] = {}
        self.other_fees: dict[tuple[Venue, str], Decimal] = {}
        self._needs_close: set[InstrumentId] = set()
        self._subs: list[Subscription[Any]] = []

    def start(self) -> None:
        """Follow FillApplied and Tick on the bus."""
        self._subs = [self._bus.subscribe(FillApplied, self._on_fill),
                      self._bus.subscribe(Tick, self.on_tick)]

    def stop(self) -> None:
        for sub in self._subs:
            sub.close()

    def _on_fill(self, event: FillApplied) -> None:
        self.apply_fill(event.fill)

    # inputs

    def apply_fill(self, fill: Fill) -> PositionView:
        """Apply one (already deduplicated) fill and publish the position's new view."""
        book, inst = self._apply(fill)
        view = self._view(fill.instrument_id, fill.product, book, inst)
        self._bus.publish(PositionChanged(view))
        return view

    def load(self, fills: Iterable[Fill], day_start_ns: int) -> None:
        """Rebuild positions from journaled fills (oldest first): earlier days, roll_day(), then today."""
        rolled = False
        for fill in fills:
            if not rolled and fill.ts_ns >= day_start_ns:
                self.roll_day()
                rolled = True
            self._apply(fill)
        if not rolled:
            self.roll_day()

    def on_tick(self, tick: Tick) -> None:
        """Keep the marks (last and mid) and the previous close used for day P&L."""
        iid = tick.instrument_id
        if tick.last_price is not None:
            self._last[iid] = tick.last_price
        mid = tick.mid
        if mid is not None:
            self._mid[iid] = mid
        if tick.close and iid in self._needs_close:
            self._needs_close.discard(iid)
            for (key_iid, _), book in self._books.items():
                if key_iid == iid:
                    book.reference, book.reference_is_close = tick.close, True

    def adopt(self, position: Position) -> None:
        """Take a position as the venue reports it (carried in from an earlier day)."""
        inst = self._instruments.find(position.instrument_id)
        book = self._book(position.instrument_id, position.product, inst)
        book.ledger.set(position.quantity, position.average_price)
        book.carried_quantity, book.carried_average = position.quantity, position.average_price
        if not book.reference_is_close:
            book.reference = self.mark(position.instrument_id)
            self._needs_close.add(position.instrument_id)

    def set_margin_used(self, venue: Venue, amount: Decimal | None) -> None:
        """Record the margin a venue says is blocked (None: unknown)."""
        if amount is None:
            self._margin.pop(venue, None)
        else:
            self._margin[venue] = amount

    def roll_day(self) -> None:
        """Start a new trading day: today's P&L counts from now, carried positions from their close."""
        for (iid, _), book in self._books.items():
            book.day_realised, book.day_fees = book.ledger.realised, book.fees
            book.carried_quantity, book.carried_average = book.ledger.quantity, book.ledger.average_price
            book.reference, book.reference_is_close = self.mark(iid), False
            self._needs_close.add(iid)

    # reads

    def mark(self, instrument_id: InstrumentId) -> Decimal | None:
        """The price positions are marked at (see MarkMode), or None if there is none yet."""
        first, second = (self._last, self._mid) if self.mark_mode is MarkMode.LAST else (self._mid, self._last)
        return first.get(instrument_id, second.get(instrument_id))

    def position_quantity(self, instrument_id: InstrumentId) -> Decimal:
        """Net quantity across products."""
        return sum((b.ledger.quantity for (iid, _), b in self._books.items() if iid == instrument_id), ZERO)

    def positions(self, venue: Venue | None = None) -> list[Position]:
        """Open positions as domain Positions (for reconciliation)."""
        return [Position(iid, product, b.ledger.quantity, b.ledger.average_price, b.ledger.realised, b.fees)
                for (iid, product), b in self._books.items()
                if b.ledger.quantity != 0 and (venue is None or iid.venue is venue)]

    def views(self, venue: Venue | None = None) -> list[PositionView]:
        """Every position seen (flat ones too, for their realised P&L), sorted by instrument."""
        return self._views(venue, with_greeks=True)

    def totals(self, venue: Venue) -> PortfolioTotals:
        """Sums over a venue's positions (one currency per venue)."""
        views = self.views(venue)
        by_underlying: dict[str, Greeks] = {}
        for v in views:
            if v.greeks is not None:
                inst = self._instruments.find(v.instrument_id)
                name = (inst.underlying if inst is not None and inst.underlying else v.instrument_id.symbol)
                by_underlying[name] = by_underlying.get(name, Greeks()) + v.greeks
        return PortfolioTotals(
            venue=venue,
            realised_pnl=sum((v.realised_pnl for v in views), ZERO),
            unrealised_pnl=sum((v.unrealised_pnl for v in views), ZERO),
            fees=sum((v.fees for v in views), ZERO),
            day_pnl=sum((v.day_pnl for v in views), ZERO),
            gross_exposure=sum((abs(v.notional) for v in views), ZERO),
            net_exposure=sum((v.notional for v in views), ZERO),
            margin_used=self._margin.get(venue),
            greeks=total(by_underlying.values()),
            greeks_by_underlying=by_underlying,
        )

    def gross_exposure(self, venue: Venue) -> Decimal:
        """Sum of |quantity| x mark x multiplier over the venue's positions."""
        return sum((abs(v.notional) for v in self._views(venue, with_greeks=False)), ZERO)

    def day_pnl(self, venue: Venue) -> Decimal:
        """Today's P&L of the venue's positions (see the module docstring)."""
        return sum((v.day_pnl for v in self._views(venue, with_greeks=False)), ZERO)

    # internals

    def _views(self, venue: Venue | None, with_greeks: bool) -> list[PositionView]:
        keys = sorted((k for k in self._books if venue is None or k[0].venue is venue),
                      key=lambda k: (str(k[0]), k[1].value))
        return [self._view(iid, product, self._books[(iid, product)], self._instruments.find(iid), with_greeks)
                for iid, product in keys]

    def _apply(self, fill: Fill) -> tuple[_Book, Instrument | None]:
        inst = self._instruments.find(fill.instrument_id)
        book = self._book(fill.instrument_id, fill.product, inst)
        book.ledger.apply(fill.side.sign * fill.quantity, fill.price)
        book.fees += self._fee_value(fill, inst)
        return book, inst

    def _book(self, iid: InstrumentId, product: Product, inst: Instrument | None) -> _Book:
        book = self._books.get((iid, product))
        if book is None:
            multiplier = inst.multiplier if inst is not None else Decimal(1)
            book = self._books[(iid, product)] = _Book(PositionLedger(self.method, multiplier))
        return book

    def _fee_value(self, fill: Fill, inst: Instrument | None) -> Decimal:
        if not fill.fee:
            return ZERO
        currency = fill.fee_currency
        if not currency or inst is None or currency == inst.quote_currency:
            return fill.fee
        if currency == inst.base_currency:
            return fill.fee * fill.price
        key = (fill.instrument_id.venue, currency)
        self.other_fees[key] = self.other_fees.get(key, ZERO) + fill.fee
        return ZERO

    def _view(self, iid: InstrumentId, product: Product, book: _Book, inst: Instrument | None,
              with_greeks: bool = True) -> PositionView:
        ledger = book.ledger
        mark = self.mark(iid)
        unrealised = ledger.unrealised(mark) if mark is not None and ledger.quantity else ZERO
        reference = book.reference if book.reference is not None else book.carried_average
        carried = (reference - book.carried_average) * book.carried_quantity * ledger.multiplier
        day = (ledger.realised - book.day_realised) - (book.fees - book.day_fees) + unrealised - carried
        notional = ledger.quantity * (mark if mark is not None else ledger.average_price) * ledger.multiplier
        return PositionView(iid, product, ledger.quantity, ledger.average_price, mark, ledger.realised, unrealised,
                            book.fees, day, notional, self._position_greeks(inst, ledger) if with_greeks else None)

    def _position_greeks(self, inst: Instrument | None, ledger: PositionLedger) -> Greeks | None:
        if self._greeks is None or inst is None or ledger.quantity == 0:
            return None
        unit = self._greeks(inst)
        return None if unit is None else unit.scaled(float(ledger.quantity * ledger.multiplier))

