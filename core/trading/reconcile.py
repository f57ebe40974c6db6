"""Reconciliation as pure functions: the journal's orders against what the venue reports.

reconcile() takes what we know (orders, the trade ids we hold) and what the venue says (its open orders,
query answers for our orders it no longer lists, its fills) and returns every difference as a typed value;
compare_positions() does the same for positions. It decides nothing and changes nothing: the caller (recovery.Reconciler)
applies the differences through the OMS and reports them.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

from core.domain import ClientOrderId, Fill, InstrumentId, Order, OrderStatus, Position, Product, VenueOrderReport


@dataclass(frozen=True, slots=True)
class MissedFill:
    """The venue has a fill of our order that the journal does not."""

    fill: Fill
    client_order_id: ClientOrderId

    def describe(self) -> str:
        f = self.fill
        return f"missed fill {f.trade_id} of {self.client_order_id}: {f.side.value} {f.quantity} @ {f.price}"


@dataclass(frozen=True, slots=True)
class FillBeforeStatus:
    """A venue fill for an order the journal still has as PENDING_NEW: its acknowledgement was lost."""

    fill: Fill
    order: Order

    def describe(self) -> str:
        return f"fill {self.fill.trade_id} arrived before any status of {self.order.client_order_id}"


@dataclass(frozen=True, slots=True)
class UnknownOrder:
    """The venue has a working order the journal does not know (placed elsewhere, or not by us)."""

    report: VenueOrderReport

    def describe(self) -> str:
        r = self.report
        return f"order unknown to us at the venue: {r.venue_order_id or r.client_order_id} {r.status.value}"


@dataclass(frozen=True, slots=True)
class UnknownFill:
    """The venue has a fill of an order we do not know."""

    fill: Fill

    def describe(self) -> str:
        f = self.fill
        return f"fill {f.trade_id} of unknown order {f.venue_order_id}: {f.side.value} {f.quantity} {f.instrument_id}"


@dataclass(frozen=True, slots=True)
class OrderGone:
    """Our working order is not among the venue's open orders. report is the venue's answer to a query
    (its final state), or None when the venue does not know the order at all."""

    order: Order
    report: VenueOrderReport | None

    def describe(self) -> str:
        found = f"venue says {self.report.status.value}" if self.report else "venue does not know it"
        return f"{self.order.client_order_id} ({self.order.status.value} here) is gone at the venue: {found}"


@dataclass(frozen=True, slots=True)
class StatusMismatch:
    """The venue lists our order with a different status, filled quantity or working price/quantity."""

    order: Order
    report: VenueOrderReport

    def describe(self) -> str:
        o, r = self.order, self.report
        return (f"{o.client_order_id}: here {o.status.value} filled {o.filled_quantity}, "
                f"venue {r.status.value} filled {r.filled_quantity}")


@dataclass(frozen=True, slots=True)
class DuplicateReport:
    """The venue lists one order twice, or two venue orders carry one of our ids."""

    report: VenueOrderReport
    reason: str

    def describe(self) -> str:
        return f"duplicate report {self.report.venue_order_id or self.report.client_order_id}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PositionMismatch:
    instrument_id: InstrumentId
    product: Product
    local_quantity: Decimal
    venue_quantity: Decimal

    def describe(self) -> str:
        return (f"position {self.instrument_id} {self.product.value}: here {self.local_quantity}, "
                f"venue {self.venue_quantity}")


Difference = Union[MissedFill, FillBeforeStatus, UnknownOrder, UnknownFill, OrderGone, StatusMismatch, DuplicateReport,
                   PositionMismatch]


def reconcile(
    orders: Iterable[Order],
    known_trade_ids: Collection[str],
    open_reports: Sequence[VenueOrderReport],
    queried: Mapping[ClientOrderId, VenueOrderReport | None],
    fills: Sequence[Fill],
) -> list[Difference]:
    """Return every difference between our orders/fills/positions and the venue's, in a stable order.

    orders: every order of this venue we know (working ones at least, plus any the fills may refer to).
    queried: the venue's answer for each of our working orders missing from open_reports (None: unknown).
    """
    by_cid = {o.client_order_id: o for o in orders}
    by_venue_id = {o.venue_order_id: o for o in by_cid.values() if o.venue_order_id}
    diffs: list[Difference] = []
    matched: dict[ClientOrderId, VenueOrderReport] = {}
    seen_venue_ids: set[str] = set()
    for report in open_reports:
        if report.venue_order_id and report.venue_order_id in seen_venue_ids:
            diffs.append(DuplicateReport(report, "the venue lists this order twice"))
            continue
        seen_venue_ids.add(report.venue_order_id)
        order = by_cid.get(report.client_order_id) or by_venue_id.get(report.venue_order_id)
        if order is None:
            diffs.append(UnknownOrder(report))
        elif order.client_order_id in matched:
            diffs.append(DuplicateReport(report, f"a second venue order carries {order.client_order_id}"))
        else:
            matched[order.client_order_id] = report
            if _differs(order, report):
                diffs.append(StatusMismatch(order, report))
    for order in by_cid.values():
        if order.status.is_working and order.client_order_id not in matched:
            diffs.append(OrderGone(order, queried.get(order.client_order_id)))
    diffs.extend(_fill_differences(by_cid, by_venue_id, known_trade_ids, fills))
    return diffs


def _differs(order: Order, report: VenueOrderReport) -> bool:
    if order.status is not report.status:
        return True
    if report.filled_quantity is not None and report.filled_quantity != order.filled_quantity:
        return True
    return any(new is not None and new != old for new, old in
               ((report.price, order.price), (report.quantity, order.quantity), (report.trigger_price, order.trigger_price)))


def _fill_differences(by_cid: Mapping[ClientOrderId, Order], by_venue_id: Mapping[str, Order],
                      known_trade_ids: Collection[str], fills: Sequence[Fill]) -> list[Difference]:
    diffs: list[Difference] = []
    seen: set[str] = set()
    for fill in sorted(fills, key=lambda f: (f.ts_ns, f.trade_id)):
        if fill.trade_id in known_trade_ids or fill.trade_id in seen:
            continue
        seen.add(fill.trade_id)
        order = by_cid.get(fill.client_order_id) or by_venue_id.get(fill.venue_order_id)
        if order is None:
            diffs.append(UnknownFill(fill))
            continue
        diffs.append(MissedFill(fill, order.client_order_id))
        if order.status is OrderStatus.PENDING_NEW:
            diffs.append(FillBeforeStatus(fill, order))
    return diffs


def compare_positions(local: Sequence[Position], venue: Sequence[Position]) -> list[PositionMismatch]:
    """Return a PositionMismatch for every (instrument, product) whose net quantity differs."""
    ours = {(p.instrument_id, p.product): p.quantity for p in local}
    theirs = {(p.instrument_id, p.product): p.quantity for p in venue}
    diffs: list[PositionMismatch] = []
    for key in sorted(set(ours) | set(theirs), key=lambda k: (str(k[0]), k[1].value)):
        here, there = ours.get(key, Decimal(0)), theirs.get(key, Decimal(0))
        if here != there:
            diffs.append(PositionMismatch(key[0], key[1], here, there))
    return diffs
