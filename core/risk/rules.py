"""Pre-trade rules as pure functions of an OrderContext. Each returns None (pass) or a Violation naming the
rule and the numbers, e.g. "max_order_value: 1,250,000.00 INR > limit 1,000,000.00 INR".

Orders that only reduce a position (reducing) pass the limits that guard against adding risk
(max_position, gross_exposure, daily_loss); exit orders (flatten) also skip the per-order size and price
checks, since their size and price are computed, not typed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.domain import Instrument, OrderRequest, OrderType

from .limits import RiskLimits


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class OrderContext:
    """Everything a rule may look at, gathered once per order."""

    request: OrderRequest
    instrument: Instrument
    limits: RiskLimits
    reference_price: Decimal | None  # last price (else mid) of the instrument
    position: Decimal  # current net position
    working_same_side: Decimal  # signed leaves of working orders on the same side
    gross_exposure: Decimal
    day_pnl: Decimal
    feed_age_s: float | None  # None: no update ever
    feed_stale: bool
    market_protection: Decimal | None
    exit: bool = False

    @property
    def signed_quantity(self) -> Decimal:
        return self.request.side.sign * self.request.quantity

    @property
    def reducing(self) -> bool:
        """True if the order only reduces the current position (never opens or flips it)."""
        pos = self.position
        return pos != 0 and (pos > 0) != (self.signed_quantity > 0) and self.request.quantity <= abs(pos)

    @property
    def valuation_price(self) -> Decimal | None:
        r = self.request
        if r.order_type.has_price:
            return r.price
        if r.order_type is OrderType.STOP_MARKET:
            return r.trigger_price
        return self.reference_price

    @property
    def value(self) -> Decimal | None:
        if self.request.quote_quantity is not None:
            return self.request.quote_quantity
        price = self.valuation_price
        return None if price is None else price * self.request.quantity * self.instrument.multiplier


def money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def qty(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def max_order_quantity(ctx: OrderContext) -> Violation | None:
    limit = ctx.limits.max_order_quantity
    if limit is None or ctx.request.quantity <= limit:
        return None
    return Violation("max_order_quantity", f"{qty(ctx.request.quantity)} > limit {qty(limit)}")


def max_order_value(ctx: OrderContext) -> Violation | None:
    limit = ctx.limits.max_order_value
    if limit is None:
        return None
    ccy = ctx.instrument.quote_currency
    value = ctx.value
    if value is None:
        return Violation("max_order_value", f"no price to value a market order for {ctx.instrument.symbol}")
    if value <= limit:
        return None
    return Violation("max_order_value", f"{money(value, ccy)} > limit {money(limit, ccy)}")


def price_band(ctx: OrderContext) -> Violation | None:
    band = ctx.limits.price_band_pct
    price = ctx.request.price
    if band is None or price is None:
        return None
    ref = ctx.reference_price
    if ref is None or ref <= 0:
        return Violation("price_band", f"no last price for {ctx.instrument.symbol} to check {price} against "
                                       f"(is its feed subscribed?)")
    off = abs(price - ref) / ref * 100
    if off <= band:
        return None
    return Violation("price_band", f"price {price} is {off:.2f}% from the last price {ref} > band {band:.2f}%")


def max_position(ctx: OrderContext) -> Violation | None:
    limit = ctx.limits.max_position_quantity
    if limit is None or ctx.reducing:
        return None
    projected = ctx.position + ctx.working_same_side + ctx.signed_quantity
    if abs(projected) <= limit:
        return None
    held, working = qty(ctx.position), qty(ctx.working_same_side)
    return Violation("max_position", f"{ctx.instrument.symbol} position would be {qty(projected)} "
                                     f"(held {held}, working {working}) > limit {qty(limit)}")


def gross_exposure(ctx: OrderContext) -> Violation | None:
    limit = ctx.limits.max_gross_exposure
    if limit is None or ctx.reducing:
        return None
    ccy = ctx.instrument.quote_currency
    value = ctx.value
    if value is None:
        return Violation("gross_exposure", f"no price to value a market order for {ctx.instrument.symbol}")
    after = ctx.gross_exposure + value
    if after <= limit:
        return None
    return Violation("gross_exposure", f"{money(after, ccy)} after this order > limit {money(limit, ccy)}")


def daily_loss(ctx: OrderContext) -> Violation | None:
    limit = ctx.limits.daily_loss_limit
    if limit is None or ctx.reducing or ctx.day_pnl > -limit:
        return None
    ccy = ctx.instrument.quote_currency
    return Violation("daily_loss", f"day P&L {money(ctx.day_pnl, ccy)} breached the limit {money(-limit, ccy)}; "
                                   f"new orders are halted (orders that reduce a position still pass)")


def market_protection(ctx: OrderContext) -> Violation | None:
    if not ctx.limits.require_market_protection or ctx.request.order_type not in (OrderType.MARKET, OrderType.STOP_MARKET):
        return None
    venue = ctx.instrument.venue.value
    value = ctx.market_protection if ctx.market_protection is not None else ctx.limits.market_protection_pct
    if value is None or value == 0:
        return Violation("market_protection", f"{venue} needs market protection on {ctx.request.order_type.value} orders "
                                              f"(give a percentage, e.g. 2, or -1 for automatic)")
    if value != -1 and not 0 < value <= 100:
        return Violation("market_protection", f"{value} is not a valid protection (1-100 percent, or -1 for automatic)")
    return None


def stale_feed(ctx: OrderContext) -> Violation | None:
    if ctx.request.order_type is not OrderType.MARKET or not ctx.feed_stale:
        return None
    age = "no update yet" if ctx.feed_age_s is None else f"last update {ctx.feed_age_s:.1f} s ago"
    return Violation("stale_feed", f"no market order while the {ctx.instrument.symbol} feed is stale "
                                   f"({age}; limit {ctx.limits.max_feed_age_s:.1f} s)")


def exit_only(ctx: OrderContext) -> Violation | None:
    if not ctx.exit or ctx.reducing:
        return None
    return Violation("exit_only", f"an exit order of {qty(ctx.signed_quantity)} would not reduce the "
                                  f"{ctx.instrument.symbol} position {qty(ctx.position)}")


Rule = Callable[[OrderContext], "Violation | None"]
ENTRY_RULES: tuple[Rule, ...] = (market_protection, stale_feed, max_order_quantity, max_order_value, price_band,
                                 daily_loss, max_position, gross_exposure)
EXIT_RULES: tuple[Rule, ...] = (exit_only, market_protection, stale_feed)
MODIFY_RULES: tuple[Rule, ...] = (max_order_quantity, max_order_value, price_band)


def first_violation(ctx: OrderContext, rules: tuple[Rule, ...]) -> Violation | None:
    """Run rules in order and return the first violation."""
    for rule in rules:
        violation = rule(ctx)
        if violation is not None:
            return violation
    return None
