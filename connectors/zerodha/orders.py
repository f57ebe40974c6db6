"""Orders on Kite: place, modify, cancel, look up; order postbacks and fills onto the bus.

Placement never resends. A placement that times out, gets a 5xx or a "timed out" answer is looked for
by its tag in the order book after resolve_grace_s (a few polls); found, its report is returned, else
OrderOutcomeUnknown is raised and the OMS keeps the order in flight.

Postbacks (the ticker's order messages) become VenueOrderReports at once; when an order's filled
quantity grows, its trades are fetched (/orders/:id/trades) and published as FillEvents under Kite's
own trade ids, the same ids fills() returns, so a fill is never counted twice.

An iceberg order is one OMS order but several Kite orders (its legs, with the same tag): its reports
add the legs up under the first leg's order id. A cover order's stop leg (parent_order_id set) is
reported without a client order id: the OMS did not place it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from core.bus import EventBus
from core.domain import (ClientOrderId, Fill, FillEvent, Instrument, InstrumentId, Order, OrderStatus, Venue, VenueOrderReport,
                         validate_order)
from core.errors import OrderOutcomeUnknown, ShrivenQuantError, ValidationError
from core.venue import RequestSent

from .errors import KiteOutcomeUnknown
from .ratelimit import ORDERS
from .rest import KiteRest
from .wire import fill_from, modify_params, order_params, report_from, tag_ok

log = logging.getLogger(__name__)
Resolve = Callable[[str, str], Instrument | None]  # (exchange, tradingsymbol) -> instrument


class OrderDesk:
    """The order side of the Zerodha connector (see the module docstring)."""

    def __init__(self, rest: KiteRest, bus: EventBus, resolve: Resolve, *, market_protection: Decimal = Decimal(-1),
                 resolve_grace_s: float = 2.0, resolve_attempts: int = 3, confirm: bool = True) -> None:
        self.rest = rest
        self.bus = bus
        self._resolve = resolve
        self.market_protection = market_protection
        self.resolve_grace_s = resolve_grace_s
        self.resolve_attempts = resolve_attempts
        self.confirm = confirm
        self._orders: dict[str, dict[str, Any]] = {}  # Kite order id -> latest order object seen
        self._filled: dict[str, Decimal] = {}  # Kite order id -> filled quantity whose trades were fetched
        self._trade_ids: set[str] = set()
        self._fetching: dict[str, asyncio.Task[None]] = {}

    async def close(self) -> None:
        """Stop fetching trades (at shutdown)."""
        tasks = list(self._fetching.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # commands -------------------------------------------------------------------------------------------
    async def place(self, order: Order, inst: Instrument, reference_price: Decimal | None = None,
                    sent: RequestSent | None = None) -> VenueOrderReport:
        """Send a new order tagged with its client order id; resolve an unknown outcome by the tag."""
        if not tag_ok(order.client_order_id):
            raise ValidationError(f"client order id {order.client_order_id!r} cannot be a Kite tag (1-20 letters and digits)")
        if not inst.tradable:
            raise ValidationError(f"{inst.symbol} is an index and cannot be traded")
        validate_order(inst, order.request, reference_price)
        variety, form = order_params(order, inst.exchange, inst.extra.get("tradingsymbol", inst.symbol), self.market_protection)
        try:
            data = await self.rest.request("POST", f"/orders/{variety}", form=form, kind=ORDERS, is_order=True,
                                           sent=sent)
        except KiteOutcomeUnknown as exc:
            return await self._resolve_unknown(order, exc)
        order_id = str(data["order_id"])
        pending = VenueOrderReport(Venue.ZERODHA, order.client_order_id, order_id, OrderStatus.PENDING_NEW, inst.id,
                                   quantity=order.request.quantity, price=order.price, trigger_price=order.trigger_price,
                                   side=order.side)
        return await self._confirmed(order_id, pending)

    async def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                     trigger_price: Decimal | None) -> VenueOrderReport:
        """Modify the order (an iceberg's live leg) and return its state after."""
        order_id = self._working_leg(order)
        variety = order.extra.get("variety", "regular")
        await self.rest.request("PUT", f"/orders/{variety}/{order_id}", form=modify_params(order, price, quantity, trigger_price),
                                is_order=True)
        return await self._confirmed(order_id, self._assumed(order, OrderStatus.OPEN))

    async def cancel(self, order: Order) -> VenueOrderReport:
        """Cancel the order (an iceberg's live leg) and return its state after."""
        order_id = self._working_leg(order)
        variety = order.extra.get("variety", "regular")
        await self.rest.request("DELETE", f"/orders/{variety}/{order_id}", is_order=True)
        return await self._confirmed(order_id, self._assumed(order, OrderStatus.CANCEL_PENDING))

    # queries --------------------------------------------------------------------------------------------
    async def order_book(self) -> list[dict[str, Any]]:
        """Today's orders (GET /orders), remembered for postback bookkeeping."""
        book = await self.rest.request("GET", "/orders")
        for data in book:
            self._orders[str(data["order_id"])] = data
        return list(book)

    async def query(self, order: Order) -> VenueOrderReport | None:
        """The order by its Kite order id or its tag; None if the order book has no such order."""
        book = await self.order_book()
        mine = [d for d in book if (order.venue_order_id and str(d["order_id"]) == order.venue_order_id)
                or (d.get("tag") == order.client_order_id and not d.get("parent_order_id"))]
        return self._report(mine[-1]) if mine else None

    async def history(self, order_id: str) -> list[VenueOrderReport]:
        """Every state of one Kite order, oldest first (GET /orders/:order_id)."""
        return [report_from(d, self._instrument_id(d)) for d in await self.rest.request("GET", f"/orders/{order_id}")]

    async def open_orders(self) -> list[VenueOrderReport]:
        """Reports of every working order, ours or not (iceberg legs added up)."""
        reports: dict[str, VenueOrderReport] = {}
        for data in await self.order_book():
            report = self._report(data)
            reports[report.venue_order_id] = report
        return [r for r in reports.values() if r.status.is_working]

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        """Today's trades since a time, as core Fills under Kite's trade ids."""
        book = {str(d["order_id"]): d for d in await self.order_book()}
        out = []
        for trade in await self.rest.request("GET", "/trades"):
            fill = self._fill(trade, book.get(str(trade["order_id"])))
            if fill is not None and fill.ts_ns >= since_ns:
                out.append(fill)
        return out

    async def refresh(self) -> None:
        """Re-read the order book (after a reconnect): publish every order's report and any new fills."""
        for data in await self.order_book():
            self.on_postback(data)

    # postbacks ------------------------------------------------------------------------------------------
    def on_postback(self, data: Mapping[str, Any]) -> None:
        """An order update (ticker text message, or an order book row): report it; fetch new trades."""
        if not data.get("order_id"):
            return
        self._note(data)
        self.bus.publish(self._report(data))

    def _note(self, data: Mapping[str, Any]) -> None:
        """Remember an order object; fetch its trades if its filled quantity grew."""
        order_id = str(data["order_id"])
        self._orders[order_id] = dict(data)
        filled = Decimal(str(data.get("filled_quantity") or 0))
        if filled > self._filled.get(order_id, Decimal(0)) and order_id not in self._fetching:
            task = asyncio.get_running_loop().create_task(self._fetch_trades(order_id, filled))
            self._fetching[order_id] = task
            task.add_done_callback(lambda _t: self._fetching.pop(order_id, None))

    async def _fetch_trades(self, order_id: str, filled: Decimal) -> None:
        try:
            trades = await self.rest.request("GET", f"/orders/{order_id}/trades")
        except ShrivenQuantError as exc:
            log.warning("Kite: trades of order %s not fetched (%s); reconciliation will pick them up", order_id, exc)
            return
        got = sum((Decimal(str(t["quantity"])) for t in trades), Decimal(0))
        self._filled[order_id] = max(self._filled.get(order_id, Decimal(0)), min(got, filled))
        data = self._orders.get(order_id)
        for trade in trades:
            fill = self._fill(trade, data)
            if fill is not None and fill.trade_id not in self._trade_ids:
                self._trade_ids.add(fill.trade_id)
                self.bus.publish(FillEvent(fill))

    # internals ------------------------------------------------------------------------------------------
    async def _resolve_unknown(self, order: Order, exc: Exception) -> VenueOrderReport:
        log.warning("Kite placement of %s: %s; looking it up by tag instead of sending it again", order.client_order_id, exc)
        for _ in range(self.resolve_attempts):
            await asyncio.sleep(self.resolve_grace_s)
            try:
                found = await self.query(order)
            except ShrivenQuantError as err:
                log.info("looking up %s failed: %s", order.client_order_id, err)
                continue
            if found is not None:
                return found
        raise OrderOutcomeUnknown(f"{order.client_order_id}: {exc}; the order book does not show it yet") from None

    async def _confirmed(self, order_id: str, fallback: VenueOrderReport) -> VenueOrderReport:
        """The order's latest state from its history, or the fallback if that cannot be read now."""
        if not self.confirm:
            return fallback
        try:
            history = await self.rest.request("GET", f"/orders/{order_id}")
        except ShrivenQuantError as exc:
            log.info("Kite: order %s acknowledged; its state is not readable now (%s)", order_id, exc)
            return fallback
        if not history:
            return fallback
        self._note(history[-1])
        return self._report(history[-1])

    def _assumed(self, order: Order, status: OrderStatus) -> VenueOrderReport:
        return VenueOrderReport(Venue.ZERODHA, order.client_order_id, order.venue_order_id,
                                status if order.status.is_working else order.status, order.instrument_id, side=order.side)

    def _working_leg(self, order: Order) -> str:
        """The Kite order to modify or cancel: the order itself, or an iceberg's live leg."""
        if not order.venue_order_id:
            raise ValidationError(f"{order.client_order_id} is not acknowledged by Kite yet")
        legs = [oid for oid, d in self._orders.items() if d.get("tag") == order.client_order_id and "iceberg" in (d.get("meta") or {})
                and not d.get("parent_order_id")]
        live = [oid for oid in legs if str(self._orders[oid].get("status")) not in ("COMPLETE", "CANCELLED", "REJECTED")]
        return live[-1] if live else order.venue_order_id

    def _instrument_id(self, data: Mapping[str, Any]) -> InstrumentId | None:
        inst = self._resolve(str(data.get("exchange")), str(data.get("tradingsymbol")))
        return inst.id if inst is not None else None

    def _report(self, data: Mapping[str, Any]) -> VenueOrderReport:
        iid = self._instrument_id(data)
        if data.get("parent_order_id"):
            report = report_from(data, iid)
            return VenueOrderReport(report.venue, ClientOrderId(""), report.venue_order_id, report.status, iid,
                                    report.filled_quantity, report.average_price, report.price, report.quantity,
                                    report.trigger_price, report.reason, report.ts_ns, 0, report.side)
        if "iceberg" in (data.get("meta") or {}):
            return self._iceberg(data, iid)
        return report_from(data, iid)

    def _iceberg(self, data: Mapping[str, Any], iid: InstrumentId | None) -> VenueOrderReport:
        """Add up an iceberg's legs (the known ones with this tag) into one report under the first leg's id."""
        tag = data.get("tag")
        legs = sorted((d for d in self._orders.values() if d.get("tag") == tag and "iceberg" in (d.get("meta") or {})),
                      key=lambda d: int(d["meta"]["iceberg"]["leg"]))
        info = data["meta"]["iceberg"]
        leg = report_from(data, iid)
        filled = sum((Decimal(str(d.get("filled_quantity") or 0)) for d in legs), Decimal(0))
        value = sum((Decimal(str(d.get("average_price") or 0)) * Decimal(str(d.get("filled_quantity") or 0)) for d in legs),
                    Decimal(0))
        total = Decimal(str(info["total_quantity"]))
        status = leg.status
        if status is OrderStatus.FILLED and filled < total:
            status = OrderStatus.PARTIALLY_FILLED  # this leg is done, the next one is coming
        elif status in (OrderStatus.OPEN, OrderStatus.PENDING_NEW) and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        first = str(legs[0]["order_id"]) if legs else leg.venue_order_id
        return VenueOrderReport(Venue.ZERODHA, leg.client_order_id, first, status, iid, filled, value / filled if filled else None,
                                leg.price, total, leg.trigger_price, leg.reason, leg.ts_ns, 0, leg.side)

    def _fill(self, trade: Mapping[str, Any], order: Mapping[str, Any] | None) -> Fill | None:
        inst = self._resolve(str(trade.get("exchange")), str(trade.get("tradingsymbol")))
        if inst is None:
            return None
        order = order or {}
        if order.get("parent_order_id"):
            tag, venue_order_id = "", str(trade["order_id"])
        else:
            tag = str(order.get("tag") or "")
            venue_order_id = str(trade["order_id"])
            if "iceberg" in (order.get("meta") or {}):
                legs = [d for d in self._orders.values() if d.get("tag") == tag and "iceberg" in (d.get("meta") or {})]
                first = min(legs, key=lambda d: int(d["meta"]["iceberg"]["leg"]), default=order)
                venue_order_id = str(first["order_id"])
        return fill_from(trade, tag, venue_order_id, inst.id, str(trade.get("product") or order.get("product") or "MIS"))
