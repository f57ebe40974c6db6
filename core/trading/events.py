"""Events the trading engine publishes on the bus (frozen; routed by instrument_id where they have one)."""
from __future__ import annotations

from dataclasses import dataclass

from core.domain import Fill, InstrumentId, Order, Venue

from .reconcile import Difference


@dataclass(frozen=True, slots=True)
class FillApplied:
    """A fill the OMS accepted: new (deduplicated by trade id), journaled, and linked to its order.

    The portfolio listens to this, never to the connectors' raw FillEvent, so a fill reported twice
    moves a position once.
    """

    fill: Fill
    order: Order

    @property
    def instrument_id(self) -> InstrumentId:
        return self.fill.instrument_id


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """The outcome of reconciling the journal with a venue. ok=False means it could not finish (error says
    why) and new orders to the venue stay blocked."""

    venue: Venue
    ok: bool
    differences: tuple[Difference, ...]
    ts_ns: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class KillSwitchChanged:
    engaged: bool
    reason: str
    ts_ns: int
