"""Greeks of option positions, aggregated from per-unit Greeks the caller supplies.

The pricing maths lives elsewhere (core.options); the portfolio only takes a callable that returns the
per-unit Greeks of an instrument (or None when it cannot price it), so it depends on no model. A position's
Greeks are per-unit x signed quantity x multiplier. Floats: Greeks are for display and hedging, not money.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.domain import Instrument


@dataclass(frozen=True, slots=True)
class Greeks:
    delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0

    def scaled(self, factor: float) -> "Greeks":
        """Return these Greeks times factor (per-unit to position)."""
        return Greeks(self.delta * factor, self.gamma * factor, self.vega * factor, self.theta * factor)

    def __add__(self, other: "Greeks") -> "Greeks":
        return Greeks(self.delta + other.delta, self.gamma + other.gamma, self.vega + other.vega,
                      self.theta + other.theta)


GreeksFn = Callable[[Instrument], "Greeks | None"]


def total(greeks: Iterable[Greeks]) -> Greeks:
    """Sum Greeks."""
    result = Greeks()
    for g in greeks:
        result = result + g
    return result
