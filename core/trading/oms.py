"""The order management system: ids, the journal-before-send path, and the order state machine.

Every order is journaled before its connector is called (its intent is written to the journal's intent
log, which survives a crash; its rows are inserted, and everything fsynced on a worker thread, once the
request is written: see core.journal.journal), then sent from a task so the caller gets the live order at
once. Its first OrderUpdated is published once the request is written too, and until then market-data
readers let the send go first (core.order_priority), so nothing else runs ahead of it. Venue updates (the
place/cancel/modify answers, VenueOrderReport and FillEvent from the bus, query answers) go through
core.trading.state, so they may arrive late, twice or out of order. New fills are journaled once per trade id and published as FillApplied for the portfolio.

Unknown outcomes: OrderOutcomeUnknown (or any unexpected connector error) after sending leaves the order
PENDING_NEW and in flight. A stream update, a query from the in-flight check, or reconciliation settles
it. An order is declared never placed only when the venue has no record of it after not_found_grace_s
(or it refused the request outright). Nothing is ever resent. A cancel asked for while the placement is
unsettled is sent once the venue knows the order; a pending cancel is never assumed done.

Threading: everything runs on the event loop thread.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.bus import EventBus, Subscription
from core.domain import (ClientOrderId, Fill, FillEvent, InstrumentId, Order, OrderRequest, OrderStatus, OrderUpdated,
                         Side, Venue, VenueOrderReport)
from core.errors import OrderOutcomeUnknown, TransportError, ValidationError, VenueError
from core.journal import Journal
from core.order_priority import ORDER_PRIORITY, OrderPriority
from core.venue import VenueClient

from . import state
from .events import FillApplied
from .ids import ClientOrderIdGenerator
from .index import OrderIndex

log = logging.getLogger(__name__)

_REFUSED = (VenueError, TransportError, ValidationError)  # the request is known not to have taken effect
ANNOUNCE_WITHIN_S = 0.01  # a submitted order's first OrderUpdated at the latest, should its request not be written


class OrderManager:
    """Owns every order's state. Construct, load(), start(); stop() at shutdown."""

    def __init__(self, bus: EventBus, journal: Journal, venues: Mapping[Venue, VenueClient], *, id_prefix: str = "SQ",
                 clock_ns: Callable[[], int] = time.time_ns, check_interval_s: float = 2.0,
                 not_found_grace_s: float = 10.0, priority: OrderPriority = ORDER_PRIORITY) -> None:
        self._bus = bus
        self._journal = journal
        self._priority = priority  # market-data readers let an order go first until its request is written
        self.venues = dict(venues)
        self.ids = ClientOrderIdGenerator(journal, id_prefix)
        self._clock_ns = clock_ns
        self.check_interval_s = check_interval_s
        self.not_found_grace_ns = int(not_found_grace_s * 1e9)
        self._orders = OrderIndex(journal)
        self._fill_sums: dict[ClientOrderId, Decimal] = {}
        self._trade_ids: set[tuple[Venue, str]] = set()
        self._orphan_fills: dict[tuple[Venue, str], list[Fill]] = {}
        self._sending: set[ClientOrderId] = set()
        self._unannounced: dict[ClientOrderId, Order] = {}  # submitted; their OrderUpdated waits for the send
        self._unknown: set[ClientOrderId] = set()
        self._needs_query: set[ClientOrderId] = set()
        self._cancelling: set[ClientOrderId] = set()
        self._cancel_wanted: set[ClientOrderId] = set()
        self._cancel_asked_ns: dict[ClientOrderId, int] = {}
        self._ready: set[Venue] = set()
        self._waiters: dict[ClientOrderId, list[tuple[Callable[[Order], bool], asyncio.Future[Order]]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._subs: list[Subscription[Any]] = []
        self._timer: asyncio.Task[None] | None = None

    # life cycle

    def load(self, recent_s: float = 86_400.0) -> None:
        """Load working orders and those of the last recent_s from the journal (brackets resume from them).

        Working orders the venue never acknowledged are unknown outcomes until the venue settles them."""
        recent = self._journal.orders_between(self._clock_ns() - int(recent_s * 1e9), 2**63 - 1)
        for order in recent:
            self._orders.remember(order)
        for order in self._journal.open_orders():
            self._orders.remember(order)
            if not order.venue_order_id:
                self._unknown.add(order.client_order_id)
            if order.status is OrderStatus.CANCEL_PENDING:
                self._cancel_asked_ns[order.client_order_id] = order.updated_ns
        self._fill_sums.update(self._journal.fill_totals(o.client_order_id for o in self._orders.values()))

    def start(self) -> None:
        """Subscribe to venue updates and start the in-flight check timer."""
        self._subs = [self._bus.subscribe(VenueOrderReport, self._on_report),
                      self._bus.subscribe(FillEvent, self._on_fill)]
        self._timer = asyncio.get_running_loop().create_task(self._check_loop())

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the timer and wait up to timeout_s for requests in progress (then abandon them: their
        outcome is unknown, which the next start-up's reconciliation settles)."""
        for sub in self._subs:
            sub.close()
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # reads

    def order(self, client_order_id: str) -> Order | None:
        """Return the current state of an order (from memory, else the journal)."""
        return self._orders.get(client_order_id)

    def orders(self) -> list[Order]:
        """Every order this session knows (working ones and those seen since start)."""
        return self._orders.values()

    def open_orders(self, venue: Venue | None = None, instrument_id: InstrumentId | None = None) -> list[Order]:
        """Working orders, optionally of one venue or instrument."""
        return self._orders.working(venue, instrument_id)

    def working_quantity(self, instrument_id: InstrumentId, side: Side) -> Decimal:
        """Leaves quantity of the working orders on one side of an instrument (a running total)."""
        return self._orders.working_quantity(instrument_id, side)

    def working_count(self, venue: Venue | None = None) -> int:
        """How many orders are working (a running count)."""
        return self._orders.working_count(venue)

    def is_unknown(self, client_order_id: str) -> bool:
        """True while an order's placement outcome is unknown (shown as such, never as rejected)."""
        return client_order_id in self._unknown

    def is_ready(self, venue: Venue) -> bool:
        """True once the venue has been reconciled since it (re)connected."""
        return venue in self._ready

    def set_ready(self, venue: Venue, ready: bool) -> None:
        """Allow (after reconciliation) or block new orders to a venue. Cancels are never blocked."""
        if ready:
            self._ready.add(venue)
        else:
            self._ready.discard(venue)

    async def wait_for(self, client_order_id: str, predicate: Callable[[Order], bool],
                       timeout: float | None = None) -> Order:
        """Wait until the order satisfies predicate (checked now and on every change)."""
        cid = ClientOrderId(client_order_id)
        current = self.order(cid)
        if current is None:
            raise ValidationError(f"unknown order {cid}")
        if predicate(current):
            return current
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(cid, []).append((predicate, future))
        return await asyncio.wait_for(future, timeout)

    # commands

    def submit(self, request: OrderRequest, extra: Mapping[str, str] | None = None) -> Order:
        """Journal a new order, then send it from a task; return the order (PENDING_NEW) at once.

        Its OrderUpdated is published once the request is written (or has failed), ahead of any later
        event of the order: subscribers' work (the UI, the engine channel's pushes) then runs while the
        venue answers instead of while httpcore yields on the way to the socket. An order held up on its
        way (a connector waiting out a rate limit) is announced after ANNOUNCE_WITHIN_S all the same.
        """
        venue = request.instrument_id.venue
        client = self.venues.get(venue)
        if client is None:
            raise ValidationError(f"no connector for {venue.value}")
        cid = self.ids.next()
        if not client.client_order_id_ok(cid):
            raise ValidationError(f"{venue.value} does not accept the client order id {cid}")
        now = self._clock_ns()
        order = Order(cid, request, created_ns=now, updated_ns=now, extra=dict(extra or {}))
        self._journal.record_intent(order)
        self._orders.remember(order)
        self._sending.add(cid)
        self._unannounced[cid] = order
        self._priority.begin()
        loop = asyncio.get_running_loop()  # once: in Python 3.11 each call is a getpid() system call
        self._spawn(self._send(cid, client), loop)
        loop.call_later(ANNOUNCE_WITHIN_S, self._announce, cid)
        return order

    async def cancel(self, client_order_id: str) -> Order:
        """Ask the venue to cancel; return the order (CANCEL_PENDING until the venue confirms)."""
        order = self._working(client_order_id, "cancel")
        cid = order.client_order_id
        if order.status is not OrderStatus.CANCEL_PENDING:
            pending = order.transition(OrderStatus.CANCEL_PENDING, updated_ns=self._clock_ns())
            order = self._store(pending, order, "cancel_request")
        elif cid in self._cancelling or cid in self._cancel_wanted:
            return order
        self._cancel_asked_ns[cid] = self._clock_ns()
        if cid in self._sending or cid in self._unknown:
            self._cancel_wanted.add(cid)
            return order
        await self._send_cancel(cid)
        return self._orders[cid]

    async def cancel_all(self, venue: Venue | None = None, instrument_id: InstrumentId | None = None) -> list[Order]:
        """Cancel every working order (of a venue / instrument); failures are logged, not raised."""
        targets = [o.client_order_id for o in self.open_orders(venue, instrument_id)]
        results = await asyncio.gather(*(self.cancel(cid) for cid in targets), return_exceptions=True)
        for cid, result in zip(targets, results):
            if isinstance(result, BaseException):
                log.warning("cancel of %s failed: %s", cid, result)
        return [self._orders[cid] for cid in targets]

    async def modify(self, client_order_id: str, price: Decimal | None = None, quantity: Decimal | None = None,
                     trigger_price: Decimal | None = None) -> Order:
        """Change a working, acknowledged order; a venue refusal re-reads the order and re-raises."""
        order = self.modifiable(client_order_id, quantity)
        cid = order.client_order_id
        client = self.venues[order.instrument_id.venue]
        try:
            report = await client.modify_order(order, price, quantity, trigger_price)
        except OrderOutcomeUnknown:
            log.warning("modify of %s: outcome unknown; the order will be queried", cid)
            self._needs_query.add(cid)
            return self._orders[cid]
        except _REFUSED:
            await self._query_and_apply(cid, resolve_cancel=False)
            raise
        return self.apply_report(report) or self._orders[cid]

    def modifiable(self, client_order_id: str, quantity: Decimal | None = None) -> Order:
        """Return the order if it may be modified now, else raise ValidationError saying why."""
        order = self._working(client_order_id, "modify")
        cid = order.client_order_id
        if order.status is OrderStatus.CANCEL_PENDING:
            raise ValidationError(f"{cid} has a cancel pending; it cannot be modified")
        if cid in self._sending or cid in self._unknown or not order.venue_order_id:
            raise ValidationError(f"{cid} is not acknowledged by the venue yet; it cannot be modified")
        if quantity is not None and quantity <= order.filled_quantity:
            raise ValidationError(f"{cid}: new quantity {quantity} is not above the filled {order.filled_quantity}")
        return order

    # venue input

    def apply_report(self, report: VenueOrderReport, resolve_cancel: bool = False) -> Order | None:
        """Apply a venue's report about one of our orders; None if the order is not ours."""
        order = self._orders.find(report.venue, report.client_order_id, report.venue_order_id)
        if order is None:
            log.info("report for an order unknown to us: %s %s", report.venue.value,
                     report.venue_order_id or report.client_order_id)
            return None
        if report.venue_order_id and not self._orders.link(order, report.venue_order_id):
            return None
        cid = order.client_order_id
        self._unknown.discard(cid)
        self._store(state.apply_report(self._orders[cid], report, resolve_cancel), self._orders[cid], "report")
        for fill in self._orphan_fills.pop((report.venue, report.venue_order_id), []):
            self.apply_fill(fill)
        return self._orders[cid]

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill once per trade id; True if it was new. Fills of orders not yet linked wait."""
        venue = fill.instrument_id.venue
        if (venue, fill.trade_id) in self._trade_ids:
            return False
        order = self._orders.find(venue, fill.client_order_id, fill.venue_order_id)
        if order is None:
            if fill.venue_order_id:
                self._orphan_fills.setdefault((venue, fill.venue_order_id), []).append(fill)
            log.info("fill %s of an order not known (yet): %s", fill.trade_id, fill.venue_order_id)
            return False
        cid = order.client_order_id
        if fill.venue_order_id and not order.venue_order_id and not self._orders.link(order, fill.venue_order_id):
            return False
        fill = replace(fill, client_order_id=cid, venue_order_id=fill.venue_order_id or order.venue_order_id,
                       product=order.request.product)
        self._trade_ids.add((venue, fill.trade_id))
        try:
            if not self._journal.record_fill(fill):
                return False
        except sqlite3.Error:
            log.exception("journaling fill %s failed; applying it anyway", fill.trade_id)
        before = self._fill_sums.get(cid, Decimal(0))
        self._fill_sums[cid] = before + fill.quantity
        self._unknown.discard(cid)
        updated = self._store(state.apply_fill(self._orders[cid], fill, before), self._orders[cid], "fill")
        self._bus.publish(FillApplied(fill, updated))
        return True

    def settle_not_placed(self, client_order_id: str, reason: str) -> Order | None:
        """End an unacknowledged order as REJECTED because the venue proved it was never placed."""
        order = self._orders.get(client_order_id)
        if order is None or order.status.is_terminal or order.venue_order_id:
            return order
        self._unknown.discard(order.client_order_id)
        settled = state.settle(order, OrderStatus.REJECTED, reason, self._clock_ns())
        log.warning("%s was never placed: %s", order.client_order_id, reason)
        return self._store(settled, order, "not_placed")

    def unplaced_due(self, order: Order) -> bool:
        """True if an unacknowledged order is old enough for 'the venue does not know it' to be proof."""
        return (not order.venue_order_id and order.client_order_id not in self._sending
                and self._clock_ns() - order.created_ns >= self.not_found_grace_ns)

    def cancel_in_progress(self, client_order_id: str) -> bool:
        """True while a cancel request is outstanding or was asked for less than the grace period ago."""
        cid = ClientOrderId(client_order_id)
        asked = self._cancel_asked_ns.get(cid)
        recent = asked is not None and self._clock_ns() - asked < self.not_found_grace_ns
        return cid in self._cancelling or cid in self._cancel_wanted or recent

    async def check_in_flight(self) -> None:
        """Query every order whose state is in doubt and apply the answers (called on a timer)."""
        now = self._clock_ns()
        interval = int(self.check_interval_s * 1e9)
        for order in self.open_orders():
            cid = order.client_order_id
            if cid in self._sending or cid in self._cancelling:
                continue
            asked = self._cancel_asked_ns.get(cid, now)
            doubtful = (cid in self._unknown or cid in self._needs_query or not order.venue_order_id
                        or (order.status is OrderStatus.CANCEL_PENDING and now - asked >= interval))
            if not doubtful:
                continue
            found = await self._query_and_apply(cid, resolve_cancel=not self.cancel_in_progress(cid))
            if found is None and self.unplaced_due(self._orders[cid]):
                self.settle_not_placed(cid, "the venue has no record of it")
        self._send_wanted_cancels()

    # internals

    def _on_report(self, report: VenueOrderReport) -> None:
        self.apply_report(report)

    def _on_fill(self, event: FillEvent) -> None:
        self.apply_fill(event.fill)

    def _working(self, client_order_id: str, action: str) -> Order:
        order = self.order(client_order_id)
        if order is None:
            raise ValidationError(f"unknown order {client_order_id}")
        if order.status.is_terminal:
            raise ValidationError(f"{client_order_id} is {order.status.value}; nothing to {action}")
        return order

    def _store(self, new: Order, old: Order, kind: str) -> Order:
        if new is old:
            return old
        try:
            self._journal.record_update(new, kind)
        except sqlite3.Error:
            log.exception("journaling %s of %s failed", kind, new.client_order_id)
        self._orders.remember(new)
        cid = new.client_order_id
        if new.status.is_terminal:
            for pending in (self._unknown, self._needs_query, self._cancel_wanted):
                pending.discard(cid)
            self._cancel_asked_ns.pop(cid, None)
        self._announce(cid)  # its first event before this one
        self._bus.publish(OrderUpdated(new, old.status))
        self._wake(new)
        self._send_wanted_cancels()
        return new

    def _wake(self, order: Order) -> None:
        waiters = self._waiters.get(order.client_order_id)
        if not waiters:
            return
        keep = []
        for predicate, future in waiters:
            if future.done():
                continue
            if predicate(order):
                future.set_result(order)
            else:
                keep.append((predicate, future))
        self._waiters[order.client_order_id] = keep

    def _send_wanted_cancels(self) -> None:
        for cid in list(self._cancel_wanted):
            order = self._orders[cid]
            if cid not in self._sending and cid not in self._unknown and order.venue_order_id:
                self._cancel_wanted.discard(cid)
                self._spawn(self._send_cancel(cid))

    def _flush_intents(self) -> None:
        try:
            self._journal.flush_intents()
        except (sqlite3.Error, OSError):
            log.exception("inserting order intents into the journal failed; they stay in its intent log")

    def _spawn(self, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
        task = (loop or asyncio.get_running_loop()).create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, cid: ClientOrderId, client: VenueClient) -> None:
        try:
            report = await self._place(cid, client)
        except OrderOutcomeUnknown as exc:
            self._sending.discard(cid)
            self._mark_unknown(cid, str(exc))
            return
        except _REFUSED as exc:
            self._sending.discard(cid)
            self.settle_not_placed(cid, f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:  # a connector bug: it may have sent, so never assume it did not
            log.exception("place_order of %s failed unexpectedly", cid)
            self._sending.discard(cid)
            self._mark_unknown(cid, repr(exc))
            return
        self._sending.discard(cid)
        self.apply_report(report)
        self._send_wanted_cancels()

    async def _place(self, cid: ClientOrderId, client: VenueClient) -> VenueOrderReport:
        """place_order; what submit deferred (the journal rows, the order's first event) follows the request
        onto the wire (the connector calls sent), or its failure."""
        def sent() -> None:
            self._flush_intents()
            self._announce(cid)

        try:
            return await client.place_order(self._orders[cid], sent=sent)
        finally:
            self._announce(cid)  # a no-op once sent() has run; the rows go in with the next journal write

    def _announce(self, cid: ClientOrderId) -> None:
        """Publish a submitted order's first OrderUpdated, if it is still held back."""
        order = self._unannounced.pop(cid, None)
        if order is not None:
            self._priority.end()
            self._bus.publish(OrderUpdated(order, None))

    def _mark_unknown(self, cid: ClientOrderId, detail: str) -> None:
        order = self._orders[cid]
        if order.status.is_terminal or order.venue_order_id:
            return  # the stream answered first
        log.warning("%s: outcome unknown (%s); in flight until the venue settles it", cid, detail)
        self._unknown.add(cid)
        try:
            self._journal.record_update(order, "outcome_unknown")
        except sqlite3.Error:
            log.exception("journaling the unknown outcome of %s failed", cid)

    async def _send_cancel(self, cid: ClientOrderId) -> None:
        order = self._orders[cid]
        client = self.venues[order.instrument_id.venue]
        self._cancelling.add(cid)
        try:
            report = await client.cancel_order(order)
        except OrderOutcomeUnknown:
            self._cancelling.discard(cid)
            log.warning("cancel of %s: outcome unknown; it stays CANCEL_PENDING until the venue says", cid)
            return
        except _REFUSED as exc:
            self._cancelling.discard(cid)
            log.warning("cancel of %s refused (%s); asking the venue for its state", cid, exc)
            await self._query_and_apply(cid, resolve_cancel=True)
            return
        except Exception:
            self._cancelling.discard(cid)
            log.exception("cancel_order of %s failed unexpectedly", cid)
            return
        self._cancelling.discard(cid)
        self.apply_report(report)

    async def _query_and_apply(self, cid: ClientOrderId, resolve_cancel: bool) -> Order | None:
        order = self._orders[cid]
        try:
            report = await self.venues[order.instrument_id.venue].query_order(order)
        except Exception as exc:
            log.warning("query of %s failed: %s", cid, exc)
            self._needs_query.add(cid)
            return None
        self._needs_query.discard(cid)
        return None if report is None else self.apply_report(report, resolve_cancel)

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                await self.check_in_flight()
            except Exception:
                log.exception("in-flight check failed")
