"""The order state machine driven by venue reports and fills, as pure functions.

Venue updates arrive late, twice and out of order, so applying them is:
- idempotent: a report with a seq at or below the order's last applied seq changes nothing; a fill is
  applied once (the OMS dedupes trade ids before calling apply_fill);
- monotonic: cumulative filled quantity never decreases, a terminal status is never left, and a stale
  OPEN never undoes PARTIALLY_FILLED;
- cancel-aware: while our cancel is pending, a non-terminal report keeps CANCEL_PENDING (it may predate
  the cancel) unless the caller knows the cancel failed (resolve_cancel=True); fills still count.

When the venue reports a status the transition table does not allow from ours (a REJECTED after we saw
OPEN, or while our cancel was pending), the order ends CANCELLED with the venue's reason: it is dead
either way, and the table stays the single authority on transitions.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from core.domain import Fill, Order, OrderStatus, VenueOrderReport

log = logging.getLogger(__name__)

S = OrderStatus
_RANK = {S.PENDING_NEW: 0, S.OPEN: 1, S.PARTIALLY_FILLED: 2}


def apply_report(order: Order, report: VenueOrderReport, resolve_cancel: bool = False) -> Order:
    """Return the order after a venue report (the same object if the report changes nothing)."""
    if report.seq and (report.seq < order.venue_seq or (report.seq == order.venue_seq and not resolve_cancel)):
        return order  # stale or duplicate (the same report may still settle a cancel we know has failed)
    changes: dict[str, object] = {}
    if report.seq:
        changes["venue_seq"] = report.seq
    if report.venue_order_id and report.venue_order_id != order.venue_order_id:
        changes["venue_order_id"] = report.venue_order_id
    filled, average = _cumulative(order, report)
    if filled != order.filled_quantity:
        changes.update(filled_quantity=filled, average_price=average)
    quantity = order.quantity
    if not order.status.is_terminal:
        for name in ("price", "quantity", "trigger_price"):
            value = getattr(report, name)
            if value is not None and value != getattr(order, name):
                changes[name] = value
        quantity = changes.get("quantity", order.quantity)  # type: ignore[assignment]
    assert quantity is not None
    if quantity < filled:
        changes["quantity"] = quantity = filled
    if report.reason and report.status in (S.REJECTED, S.CANCELLED, S.EXPIRED) and not order.status.is_terminal:
        changes["reject_reason"] = report.reason
    if report.ts_ns:
        changes["updated_ns"] = max(order.updated_ns, report.ts_ns)
    target = _target_status(order.status, report.status, filled, quantity, resolve_cancel)
    return _move(order, target, changes)


def apply_fill(order: Order, fill: Fill, applied_before: Decimal) -> Order:
    """Return the order after a new fill, given the quantity of fills applied to it before this one.

    A report may already have counted the fill in its cumulative quantity; then only the sum of fills
    catches up and the order does not change.
    """
    total = applied_before + fill.quantity
    if total <= order.filled_quantity:
        return order
    counted = order.filled_quantity
    value = (order.average_price or Decimal(0)) * counted + fill.price * (total - counted)
    changes: dict[str, object] = {"filled_quantity": total, "average_price": value / total}
    assert order.quantity is not None
    quantity = order.quantity
    if total > quantity:
        log.warning("%s: fills total %s exceed the order quantity %s; the venue's fills win",
                    order.client_order_id, total, quantity)
        changes["quantity"] = quantity = total
    if fill.ts_ns:
        changes["updated_ns"] = max(order.updated_ns, fill.ts_ns)
    return _move(order, _fill_status(order.status, total, quantity), changes)


def _cumulative(order: Order, report: VenueOrderReport) -> tuple[Decimal, Decimal | None]:
    reported = report.filled_quantity
    if reported is None and report.status is S.FILLED and order.quantity is not None:
        reported = report.quantity if report.quantity is not None else order.quantity
    if reported is None or reported <= order.filled_quantity:
        return order.filled_quantity, order.average_price
    return reported, report.average_price if report.average_price is not None else order.average_price


def _target_status(current: OrderStatus, reported: OrderStatus, filled: Decimal, quantity: Decimal,
                   resolve_cancel: bool) -> OrderStatus:
    if current.is_terminal:
        return current
    if reported.is_terminal:
        return reported
    if filled >= quantity > 0:
        return S.FILLED
    if current is S.CANCEL_PENDING and not resolve_cancel:
        return current
    if reported is S.CANCEL_PENDING:
        return reported
    if filled > 0:
        return S.PARTIALLY_FILLED
    if current is S.CANCEL_PENDING:
        return reported if reported is not S.PENDING_NEW else S.OPEN
    return max(current, reported, key=lambda s: _RANK.get(s, 0))


def _fill_status(current: OrderStatus, filled: Decimal, quantity: Decimal) -> OrderStatus:
    if current.is_terminal:
        return current
    if filled >= quantity:
        return S.FILLED
    if current is S.CANCEL_PENDING:
        return current
    return S.PARTIALLY_FILLED


def _move(order: Order, target: OrderStatus, changes: dict[str, object]) -> Order:
    if target is order.status:
        return replace(order, **changes) if _changes_anything(order, changes) else order  # type: ignore[arg-type]
    if not order.can_transition(target):
        log.warning("%s: venue reported %s while %s here; ending it CANCELLED", order.client_order_id, target.value,
                    order.status.value)
        changes.setdefault("reject_reason", f"venue reported {target.value}")
        target = S.CANCELLED
    return order.transition(target, **changes)


def _changes_anything(order: Order, changes: dict[str, object]) -> bool:
    return any(getattr(order, name) != value for name, value in changes.items() if name != "updated_ns")


def settle(order: Order, status: OrderStatus, reason: str, ts_ns: int) -> Order:
    """Return the order ended in a terminal status decided here (not reported), e.g. never placed."""
    if order.status.is_terminal:
        return order
    return _move(order, status, {"reject_reason": reason, "updated_ns": ts_ns})
