"""Basket margin: what a set of option/futures legs would block together, as the venue computes it.

The venue knows its own margin rules (Kite: SPAN + exposure with spread benefits), so the terminal
asks it rather than guessing: a connector implements a MarginQuote, the strategy builder shows the
answer. "initial" is the sum of the legs' own margins, "final" what the basket blocks after hedges
(Kite's names); the difference is the hedge benefit.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.domain import InstrumentId, Side


@dataclass(frozen=True)
class MarginLeg:
    """One leg to quote: quantity in units (lots x lot size); price None for a market order."""

    instrument_id: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal | None = None


@dataclass(frozen=True)
class BasketMargin:
    """A basket's margin in the account currency: without (initial) and with (final) hedge benefits."""

    initial: Decimal
    final: Decimal
    option_premium: Decimal = Decimal(0)  # premium paid for the bought options, included in both totals
    legs: tuple[Decimal, ...] = ()  # each leg's own margin, in the order asked

    @property
    def benefit(self) -> Decimal:
        """How much less the basket blocks than its legs one by one."""
        return self.initial - self.final


MarginQuote = Callable[[Sequence[MarginLeg]], Awaitable[BasketMargin]]
