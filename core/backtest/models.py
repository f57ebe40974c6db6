"""Cost models of a simulated venue: latency, fees and slippage.

All three are small frozen dataclasses (picklable, so a parameter sweep can ship them to worker
processes). Fees and slippage are exact Decimal arithmetic; a slipped price is rounded to the tick
against the taker (a buy rounds up, a sell down), so slippage never improves a fill.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.domain import Instrument, Rounding, Side

ZERO = Decimal(0)
_BPS = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Latency:
    """One-way delays: an order or cancel reaches the venue after to_venue_ns; the venue's reports
    (acks, fills, cancels) reach the strategy after to_strategy_ns."""

    to_venue_ns: int = 0
    to_strategy_ns: int = 0

    def __post_init__(self) -> None:
        if self.to_venue_ns < 0 or self.to_strategy_ns < 0:
            raise ValueError("latency cannot be negative")

    @classmethod
    def of(cls, latency: "int | Latency") -> "Latency":
        """Accept a Latency, or an int of nanoseconds applied in both directions."""
        return latency if isinstance(latency, Latency) else cls(latency, latency)


class FeeModel(Protocol):
    def fee(self, instrument: Instrument, side: Side, quantity: Decimal, price: Decimal, is_maker: bool) -> Decimal:
        """Return the fee of one fill, in the instrument's quote currency."""
        ...


class SlippageModel(Protocol):
    def price(self, instrument: Instrument, side: Side, quantity: Decimal, reference: Decimal) -> Decimal:
        """Return the price a taker gets against the reference price (on the tick, never better)."""
        ...


@dataclass(frozen=True, slots=True)
class RateFees:
    """Fees as rates of the notional (price x quantity x multiplier), maker and taker apart, plus a
    fixed amount per fill (Zerodha's flat brokerage, for example)."""

    maker: Decimal = ZERO
    taker: Decimal = ZERO
    per_fill: Decimal = ZERO

    def fee(self, instrument: Instrument, side: Side, quantity: Decimal, price: Decimal, is_maker: bool) -> Decimal:
        rate = self.maker if is_maker else self.taker
        return price * quantity * instrument.multiplier * rate + self.per_fill


@dataclass(frozen=True, slots=True)
class TickSlippage:
    """A taker pays a fixed number of ticks beyond the reference price (0: fills at the reference)."""

    ticks: int = 0

    def __post_init__(self) -> None:
        if self.ticks < 0:
            raise ValueError("slippage cannot be negative")

    def price(self, instrument: Instrument, side: Side, quantity: Decimal, reference: Decimal) -> Decimal:
        return against_taker(instrument, side, reference + side.sign * self.ticks * instrument.tick_size)


@dataclass(frozen=True, slots=True)
class BpsSlippage:
    """A taker pays basis points of the reference price, plus impact_bps for each unit of quantity
    (so bigger orders slip more), rounded to the tick against the taker."""

    bps: Decimal = ZERO
    impact_bps: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.bps < 0 or self.impact_bps < 0:
            raise ValueError("slippage cannot be negative")

    def price(self, instrument: Instrument, side: Side, quantity: Decimal, reference: Decimal) -> Decimal:
        fraction = (self.bps + self.impact_bps * quantity) * _BPS
        return against_taker(instrument, side, reference * (1 + side.sign * fraction))


def against_taker(instrument: Instrument, side: Side, price: Decimal) -> Decimal:
    """Round a taker's price to the tick against the taker (buys up, sells down), at least one tick."""
    rounded = instrument.round_price(price, Rounding.UP if side is Side.BUY else Rounding.DOWN)
    return max(rounded, instrument.tick_size)


NO_FEES = RateFees()
NO_SLIPPAGE = TickSlippage(0)
