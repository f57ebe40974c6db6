"""Reconciliation runs: on start-up and after every reconnect of a venue's order channel.

While a venue is being reconciled (and until a run succeeds) the OMS refuses new orders to it; cancels
still go through. A run fetches the venue's open orders, asks about each of our working orders it does not
list, fetches its fills since our oldest working order (at least lookback_s back) and its positions,
diffs them with reconcile.reconcile(), applies what can be applied (missed fills, final states, orders
proven never placed, venue positions where we hold none) and reports every difference in the log, the
audit table and a ReconciliationReport on the bus. A failed run is retried every retry_s.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from core.bus import EventBus, Subscription
from core.domain import ConnectionChanged, ConnectionStatus, Fill, Order, Position, Venue
from core.journal import Journal

from .events import ReconciliationReport
from .oms import OrderManager
from .reconcile import (Difference, MissedFill, OrderGone, PositionMismatch, StatusMismatch, compare_positions,
                        reconcile)

log = logging.getLogger(__name__)

_DOWN = (ConnectionStatus.DISCONNECTED, ConnectionStatus.RECONNECTING, ConnectionStatus.FAILED)


class PositionBook(Protocol):
    def positions(self, venue: Venue | None = None) -> list[Position]: ...
    def adopt(self, position: Position) -> None: ...


class Reconciler:
    """Drives reconciliation per venue. start() subscribes to ConnectionChanged; reconcile_all() at start-up."""

    def __init__(self, bus: EventBus, journal: Journal, oms: OrderManager, portfolio: PositionBook | None = None, *,
                 clock_ns: Callable[[], int] = time.time_ns, lookback_s: float = 86_400.0, retry_s: float = 5.0,
                 order_channels: Iterable[str] = ("user",)) -> None:
        self._bus = bus
        self._journal = journal
        self._oms = oms
        self._portfolio = portfolio
        self._clock_ns = clock_ns
        self.lookback_ns = int(lookback_s * 1e9)
        self.retry_s = retry_s
        self.order_channels = frozenset(order_channels)
        self.last_reports: dict[Venue, ReconciliationReport] = {}
        self._running: dict[Venue, asyncio.Task[ReconciliationReport]] = {}
        self._retries: dict[Venue, asyncio.TimerHandle] = {}
        self._triggered: set[asyncio.Task[ReconciliationReport]] = set()
        self._sub: Subscription[Any] | None = None

    def start(self) -> None:
        """Reconcile a venue whenever its order channel (re)connects; block it while the channel is down."""
        self._sub = self._bus.subscribe(ConnectionChanged, self._on_connection)

    async def stop(self) -> None:
        if self._sub is not None:
            self._sub.close()
        for handle in self._retries.values():
            handle.cancel()
        await asyncio.gather(*self._running.values(), *self._triggered, return_exceptions=True)

    async def reconcile_all(self) -> list[ReconciliationReport]:
        """Reconcile every venue the OMS has a connector for."""
        return [await self.reconcile(venue) for venue in self._oms.venues]

    async def reconcile(self, venue: Venue) -> ReconciliationReport:
        """Reconcile one venue (joining a run already in progress) and report the outcome."""
        running = self._running.get(venue)
        if running is None or running.done():
            running = self._running[venue] = asyncio.get_running_loop().create_task(self._run(venue))
        return await asyncio.shield(running)

    def _on_connection(self, event: ConnectionChanged) -> None:
        if event.channel not in self.order_channels or event.venue not in self._oms.venues:
            return
        if event.status in _DOWN:
            self._oms.set_ready(event.venue, False)
        elif event.status is ConnectionStatus.CONNECTED:
            self._oms.set_ready(event.venue, False)
            self._trigger(event.venue)

    async def _run(self, venue: Venue) -> ReconciliationReport:
        self._oms.set_ready(venue, False)
        handle = self._retries.pop(venue, None)
        if handle is not None:
            handle.cancel()
        try:
            differences = await self._reconcile(venue)
        except Exception as exc:
            log.warning("reconciliation of %s failed (%s); new orders stay blocked, retrying in %.0fs",
                        venue.value, exc, self.retry_s)
            report = ReconciliationReport(venue, False, (), self._clock_ns(), f"{type(exc).__name__}: {exc}")
            self._retries[venue] = asyncio.get_running_loop().call_later(self.retry_s, self._retry, venue)
        else:
            report = ReconciliationReport(venue, True, tuple(differences), self._clock_ns())
            self._oms.set_ready(venue, True)
        self._report(report)
        return report

    def _retry(self, venue: Venue) -> None:
        self._retries.pop(venue, None)
        if not self._oms.is_ready(venue):
            self._trigger(venue)

    def _trigger(self, venue: Venue) -> None:
        task = asyncio.get_running_loop().create_task(self.reconcile(venue))
        self._triggered.add(task)
        task.add_done_callback(self._triggered.discard)

    async def _reconcile(self, venue: Venue) -> list[Difference]:
        client = self._oms.venues[venue]
        now = self._clock_ns()
        open_reports = await client.open_orders()
        listed = {r.client_order_id for r in open_reports} | {r.venue_order_id for r in open_reports if r.venue_order_id}
        working = self._oms.open_orders(venue)
        queried = {o.client_order_id: await client.query_order(o) for o in working
                   if o.client_order_id not in listed and o.venue_order_id not in listed}
        since = min([o.created_ns for o in working] + [now - self.lookback_ns])
        fills = await client.fills(since)
        venue_positions = await client.positions() if self._portfolio is not None else None
        orders = self._orders_for(venue, working, fills)
        known = {f.trade_id for f in fills if self._journal.has_fill(venue, f.trade_id)}
        differences = reconcile(orders, known, open_reports, queried, fills)
        self._apply(differences)
        if self._portfolio is not None and venue_positions is not None:
            mismatches = compare_positions(self._portfolio.positions(venue), venue_positions)
            self._adopt(mismatches, venue_positions)
            differences.extend(mismatches)
        return differences

    def _orders_for(self, venue: Venue, working: Sequence[Order], fills: Sequence[Fill]) -> list[Order]:
        orders = {o.client_order_id: o for o in working}
        for fill in fills:
            cid = fill.client_order_id or self._journal.client_order_id_for(venue, fill.venue_order_id) or ""
            order = self._oms.order(cid) if cid else None
            if order is not None and order.instrument_id.venue is venue:
                orders.setdefault(order.client_order_id, order)
        return list(orders.values())

    def _apply(self, differences: Sequence[Difference]) -> None:
        for diff in differences:
            if isinstance(diff, MissedFill):
                self._oms.apply_fill(diff.fill)
        for diff in differences:
            if isinstance(diff, StatusMismatch):
                cid = diff.order.client_order_id
                self._oms.apply_report(diff.report, resolve_cancel=not self._oms.cancel_in_progress(cid))
            elif isinstance(diff, OrderGone):
                self._settle_gone(diff)

    def _settle_gone(self, diff: OrderGone) -> None:
        order = self._oms.order(diff.order.client_order_id) or diff.order
        if diff.report is not None:
            self._oms.apply_report(diff.report, resolve_cancel=True)
        elif self._oms.unplaced_due(order):
            self._oms.settle_not_placed(order.client_order_id, "the venue has no record of it (reconciliation)")

    def _adopt(self, mismatches: Sequence[PositionMismatch], venue_positions: Sequence[Position]) -> None:
        assert self._portfolio is not None
        theirs = {(p.instrument_id, p.product): p for p in venue_positions}
        for diff in mismatches:
            if diff.local_quantity == 0 and (diff.instrument_id, diff.product) in theirs:
                self._portfolio.adopt(theirs[(diff.instrument_id, diff.product)])

    def _report(self, report: ReconciliationReport) -> None:
        self.last_reports[report.venue] = report
        for diff in report.differences:
            log.warning("reconciliation %s: %s", report.venue.value, diff.describe())
        if report.ok:
            log.info("reconciliation of %s done: %d difference(s)", report.venue.value, len(report.differences))
        self._journal.audit("reconciliation", {
            "venue": report.venue.value, "ok": report.ok, "error": report.error,
            "differences": [d.describe() for d in report.differences]})
        self._bus.publish(report)
