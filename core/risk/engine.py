"""The risk engine: every order passes here before the OMS sees it.

check() runs, in order: the venue gate (reconciled since it connected), the kill switch, the rules of
rules.py, F&O freeze-quantity splitting (or rejection), max open orders and the order rate. It returns
the request(s) to send (several when split) and counts them against the rate limits. A rejection raises
core.errors.RiskRejected, is written to the audit log, published as a RiskRejection event, and kept in
recent_rejections for the risk panel. Nothing here talks to a venue.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NoReturn, Protocol

from core.bus import EventBus
from core.domain import Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, Position, Side, Venue
from core.errors import RiskRejected

from .limits import FreezeMode, RiskLimits, RiskProfile
from .rate import OrderRateLimiter
from .rules import ENTRY_RULES, EXIT_RULES, MODIFY_RULES, OrderContext, Rule, first_violation, qty

log = logging.getLogger(__name__)


class MarketView(Protocol):
    """What risk reads of the market (core.marketdata.MarketState fits)."""

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None: ...
    def age_s(self, instrument_id: InstrumentId) -> float | None: ...
    def is_stale(self, instrument_id: InstrumentId, max_age_s: float = 2.0) -> bool: ...


class PositionSource(Protocol):
    """What risk reads of the portfolio (core.portfolio.Portfolio fits)."""

    def position_quantity(self, instrument_id: InstrumentId) -> Decimal: ...
    def positions(self, venue: Venue | None = None) -> list[Position]: ...
    def gross_exposure(self, venue: Venue) -> Decimal: ...
    def day_pnl(self, venue: Venue) -> Decimal: ...


class OrderSource(Protocol):
    """What risk reads of the OMS (core.trading.oms.OrderManager fits)."""

    def open_orders(self, venue: Venue | None = None, instrument_id: InstrumentId | None = None) -> list[Order]: ...
    def working_quantity(self, instrument_id: InstrumentId, side: Side) -> Decimal: ...
    def working_count(self, venue: Venue | None = None) -> int: ...
    def is_ready(self, venue: Venue) -> bool: ...


class KillSwitchState(Protocol):
    engaged: bool
    reason: str


class AuditLog(Protocol):
    def audit(self, kind: str, detail: dict[str, Any]) -> int: ...


@dataclass(frozen=True, slots=True)
class Rejection:
    ts_ns: int
    rule: str
    message: str
    instrument_id: InstrumentId
    side: str
    quantity: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class RiskRejection:
    """Published on the bus for every rejection."""

    rejection: Rejection

    @property
    def instrument_id(self) -> InstrumentId:
        return self.rejection.instrument_id


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """One bar of the risk panel: value against limit (limit None: off)."""

    name: str
    value: Decimal
    limit: Decimal | None
    unit: str


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    venue: Venue
    usages: tuple[LimitUsage, ...]
    ready: bool
    kill_switch_engaged: bool
    halted: bool  # the daily loss limit is breached
    recent_rejections: tuple[Rejection, ...]


class RiskEngine:
    """Pre-trade checks. See the module docstring."""

    def __init__(self, profile: RiskProfile, market: MarketView, positions: PositionSource, orders: OrderSource, *,
                 kill_switch: KillSwitchState | None = None, freeze_limits: Mapping[str, Decimal] | None = None,
                 audit: AuditLog | None = None, bus: EventBus | None = None, clock_ns: Callable[[], int] = time.time_ns,
                 monotonic: Callable[[], float] = time.monotonic, rejections_kept: int = 100) -> None:
        self.profile = profile
        self._market = market
        self._positions = positions
        self._orders = orders
        self._kill = kill_switch
        self.freeze_limits = dict(freeze_limits or {})
        self._audit = audit
        self._bus = bus
        self._clock_ns = clock_ns
        self.rate = OrderRateLimiter(monotonic, clock_ns)
        self.recent_rejections: deque[Rejection] = deque(maxlen=rejections_kept)

    def check(self, request: OrderRequest, instrument: Instrument, *, exit: bool = False,
              market_protection: Decimal | None = None) -> list[OrderRequest]:
        """Approve a new order: return the request(s) to send, or raise RiskRejected."""
        venue = instrument.venue
        limits = self.profile.for_venue(venue)
        self._gate(request, venue, blocked_by_kill_switch=not exit)
        ctx = self._context(request, instrument, limits, exit, market_protection)
        self._enforce(ctx, EXIT_RULES if exit else ENTRY_RULES)
        slices = self._freeze_slices(request, instrument, limits)
        if not exit and limits.max_open_orders is not None:
            working = self._orders.working_count(venue)
            if working + len(slices) > limits.max_open_orders:
                self._reject(request, "max_open_orders",
                             f"{working + len(slices)} working orders on {venue.value} > limit {limits.max_open_orders}")
        self._take_rate(request, instrument, limits, len(slices))
        return slices

    def preview(self, request: OrderRequest, instrument: Instrument, *,
                market_protection: Decimal | None = None) -> list[str]:
        """What check() would say now, as 'rule: message' lines, recording nothing (no rate used, no audit).

        For the order ticket's verdict before sending; check() still decides when the order is sent.
        """
        venue = instrument.venue
        limits = self.profile.for_venue(venue)
        gate = self._gate_problem(venue, blocked_by_kill_switch=True)
        if gate is not None:
            return [f"{gate[0]}: {gate[1]}"]
        violation = first_violation(self._context(request, instrument, limits, False, market_protection), tuple(ENTRY_RULES))
        if violation is not None:
            return [f"{violation.rule}: {violation.message}"]
        rate = self.rate.problem(venue, instrument.exchange, 1, limits.orders_per_second, limits.orders_per_minute,
                                 limits.orders_per_day)
        return [f"order_rate: {rate}"] if rate is not None else []

    def check_modify(self, order: Order, instrument: Instrument, price: Decimal | None, quantity: Decimal | None,
                     trigger_price: Decimal | None) -> None:
        """Approve a modification of a working order, or raise RiskRejected."""
        venue = instrument.venue
        limits = self.profile.for_venue(venue)
        changes: dict[str, Any] = {"price": price if price is not None else order.price,
                                   "quantity": quantity if quantity is not None else order.quantity,
                                   "trigger_price": trigger_price if trigger_price is not None else order.trigger_price}
        request = replace(order.request, **changes)
        self._gate(request, venue, blocked_by_kill_switch=True)
        self._enforce(self._context(request, instrument, limits, False, None), MODIFY_RULES)
        freeze = self._freeze_limit(instrument)
        if freeze is not None and request.quantity > freeze:
            self._reject(request, "freeze_quantity", f"modified quantity {qty(request.quantity)} > freeze limit "
                                                     f"{qty(freeze)} for {instrument.underlying or instrument.symbol}")
        self._take_rate(request, instrument, limits, 1)

    def wait_s(self, instrument: Instrument, n: int = 1) -> float:
        """Seconds until n more orders fit the rate limits of the instrument's venue and exchange."""
        limits = self.profile.for_venue(instrument.venue)
        return self.rate.wait_s(instrument.venue, instrument.exchange, limits.orders_per_second,
                                limits.orders_per_minute, n)

    def snapshot(self, venue: Venue) -> RiskSnapshot:
        """The risk panel's read model: each limit's usage, the gates, and the latest rejections."""
        limits = self.profile.for_venue(venue)
        rate = self.rate.usage(venue)
        day_pnl = self._positions.day_pnl(venue)
        largest = max((abs(p.quantity) for p in self._positions.positions(venue)), default=Decimal(0))
        loss = max(Decimal(0), -day_pnl)

        def dec(value: int | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        usages = (
            LimitUsage("open_orders", Decimal(self._orders.working_count(venue)), dec(limits.max_open_orders), "orders"),
            LimitUsage("orders_per_second", Decimal(rate.per_second), dec(limits.orders_per_second), "orders/s"),
            LimitUsage("orders_per_minute", Decimal(rate.per_minute), dec(limits.orders_per_minute), "orders/min"),
            LimitUsage("orders_per_day", Decimal(rate.per_day), dec(limits.orders_per_day), "orders/day"),
            LimitUsage("gross_exposure", self._positions.gross_exposure(venue), limits.max_gross_exposure, "value"),
            LimitUsage("daily_loss", loss, limits.daily_loss_limit, "value"),
            LimitUsage("max_position", largest, limits.max_position_quantity, "quantity"),
        )
        halted = limits.daily_loss_limit is not None and day_pnl <= -limits.daily_loss_limit
        return RiskSnapshot(venue, usages, self._orders.is_ready(venue), bool(self._kill and self._kill.engaged), halted,
                            tuple(r for r in self.recent_rejections if r.instrument_id.venue is venue))

    # internals

    def _gate(self, request: OrderRequest, venue: Venue, blocked_by_kill_switch: bool) -> None:
        problem = self._gate_problem(venue, blocked_by_kill_switch)
        if problem is not None:
            self._reject(request, *problem)

    def _gate_problem(self, venue: Venue, blocked_by_kill_switch: bool) -> tuple[str, str] | None:
        if not self._orders.is_ready(venue):
            return ("venue_not_reconciled", f"{venue.value} is not reconciled since it connected; "
                                            f"new orders wait until it is (cancels still go through)")
        if blocked_by_kill_switch and self._kill is not None and self._kill.engaged:
            return ("kill_switch", f"engaged ({self._kill.reason or 'no reason given'}); new orders are "
                                   f"blocked until it is re-armed")
        return None

    def _context(self, request: OrderRequest, instrument: Instrument, limits: RiskLimits, exit: bool,
                 market_protection: Decimal | None) -> OrderContext:
        iid, venue = instrument.id, instrument.venue
        same_side = request.side.sign * self._orders.working_quantity(iid, request.side)
        return OrderContext(
            request=request, instrument=instrument, limits=limits, reference_price=self._market.last_price(iid),
            position=self._positions.position_quantity(iid), working_same_side=same_side,
            gross_exposure=self._positions.gross_exposure(venue), day_pnl=self._positions.day_pnl(venue),
            feed_age_s=self._market.age_s(iid), feed_stale=self._market.is_stale(iid, limits.max_feed_age_s),
            market_protection=market_protection, exit=exit,
        )

    def _enforce(self, ctx: OrderContext, rules: Sequence[Rule]) -> None:
        violation = first_violation(ctx, tuple(rules))
        if violation is not None:
            self._reject(ctx.request, violation.rule, violation.message)

    def _freeze_limit(self, instrument: Instrument) -> Decimal | None:
        if instrument.kind not in (InstrumentKind.FUTURE, InstrumentKind.OPTION):
            return None
        name = instrument.underlying or instrument.symbol
        return self.freeze_limits.get(name, instrument.freeze_quantity)

    def _freeze_slices(self, request: OrderRequest, instrument: Instrument, limits: RiskLimits) -> list[OrderRequest]:
        freeze = self._freeze_limit(instrument)
        if freeze is None or request.quantity <= freeze:
            return [request]
        name = instrument.underlying or instrument.symbol
        if limits.freeze_mode is FreezeMode.REJECT:
            self._reject(request, "freeze_quantity", f"{qty(request.quantity)} > freeze limit {qty(freeze)} for {name}")
        step = instrument.round_quantity(freeze)
        if step <= 0:
            self._reject(request, "freeze_quantity", f"freeze limit {qty(freeze)} for {name} is below one lot "
                                                     f"{qty(instrument.lot_size)}")
        full, rest = divmod(request.quantity, step)
        sizes = [step] * int(full) + ([rest] if rest else [])
        return [replace(request, quantity=size, disclosed_quantity=_capped(request.disclosed_quantity, size))
                for size in sizes]

    def _take_rate(self, request: OrderRequest, instrument: Instrument, limits: RiskLimits, n: int) -> None:
        problem = self.rate.problem(instrument.venue, instrument.exchange, n, limits.orders_per_second,
                                    limits.orders_per_minute, limits.orders_per_day)
        if problem is not None:
            self._reject(request, "order_rate", problem)
        self.rate.record(instrument.venue, instrument.exchange, n)

    def _reject(self, request: OrderRequest, rule: str, message: str) -> NoReturn:
        rejection = Rejection(self._clock_ns(), rule, message, request.instrument_id, request.side.value,
                              request.quantity, request.source)
        self.recent_rejections.append(rejection)
        log.warning("risk rejected %s %s %s: %s: %s", request.side.value, qty(request.quantity), request.instrument_id,
                    rule, message)
        if self._audit is not None:
            self._audit.audit("risk_reject", {"rule": rule, "message": message, "instrument": str(request.instrument_id),
                                              "side": request.side.value, "quantity": str(request.quantity),
                                              "price": str(request.price), "source": request.source})
        if self._bus is not None:
            self._bus.publish(RiskRejection(rejection))
        raise RiskRejected(rule, message)


def _capped(disclosed: Decimal | None, size: Decimal) -> Decimal | None:
    return None if disclosed is None else min(disclosed, size)

