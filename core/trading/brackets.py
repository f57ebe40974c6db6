"""Local brackets: a stop and a target placed once the entry has filled, linked one-cancels-other.

Neither Kite (bracket orders discontinued) nor Binance USD-M offers a bracket we can rely on, so the
terminal runs them itself. The whole bracket lives in the journal, so a restart picks it up where it was:
the entry order carries the spec in its extra (bracket.stop, bracket.target, ...), each leg carries
bracket.of (the entry's id) and bracket.leg (stop | target). When the entry is terminal with a fill, both
legs go out for the filled quantity on the other side. When one leg fills or is cancelled, the other is
cancelled; when one fills partly, the other's quantity is cut to what is left.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, Protocol

from core.bus import EventBus, Subscription
from core.domain import (ClientOrderId, Order, OrderRequest, OrderStatus, OrderType, OrderUpdated, Product, TimeInForce,
                         Venue)

from .handle import OrderHandle

log = logging.getLogger(__name__)

STOP, STOP_LIMIT, TARGET, PROTECTION = "bracket.stop", "bracket.stop_limit", "bracket.target", "bracket.protection"
LEG_OF, LEG = "bracket.of", "bracket.leg"
_RESTING = (TimeInForce.DAY, TimeInForce.GTC)


class LegPlacer(Protocol):
    async def place(self, request: OrderRequest, *, market_protection: Decimal | None = None,
                    extra: dict[str, str] | None = None) -> OrderHandle: ...
    async def cancel(self, client_order_id: str) -> Order: ...
    async def modify(self, client_order_id: str, price: Decimal | None = None, quantity: Decimal | None = None,
                     trigger_price: Decimal | None = None) -> Order: ...


class OrderList(Protocol):
    def order(self, client_order_id: str) -> Order | None: ...
    def orders(self) -> list[Order]: ...


def entry_extra(stop_trigger: Decimal, target_price: Decimal, stop_limit_price: Decimal | None,
                market_protection: Decimal | None) -> dict[str, str]:
    """The extra fields that make an entry order a bracket."""
    extra = {STOP: str(stop_trigger), TARGET: str(target_price)}
    if stop_limit_price is not None:
        extra[STOP_LIMIT] = str(stop_limit_price)
    if market_protection is not None:
        extra[PROTECTION] = str(market_protection)
    return extra


def leg_requests(entry: Order) -> dict[str, OrderRequest]:
    """The stop and target orders for an entry's filled quantity."""
    req, extra = entry.request, entry.extra
    tif = req.time_in_force if req.time_in_force in _RESTING else (
        TimeInForce.DAY if entry.instrument_id.venue is Venue.ZERODHA else TimeInForce.GTC)
    common: dict[str, Any] = dict(instrument_id=req.instrument_id, side=req.side.opposite, quantity=entry.filled_quantity,
                                  time_in_force=tif, product=req.product, reduce_only=req.product is Product.FUTURES,
                                  source=req.source, tag=req.tag)
    stop_limit = extra.get(STOP_LIMIT)
    stop = (OrderRequest(order_type=OrderType.STOP_LIMIT, price=Decimal(stop_limit), trigger_price=Decimal(extra[STOP]),
                         **common) if stop_limit else
            OrderRequest(order_type=OrderType.STOP_MARKET, trigger_price=Decimal(extra[STOP]), **common))
    target = OrderRequest(order_type=OrderType.LIMIT, price=Decimal(extra[TARGET]), **common)
    return {"stop": stop, "target": target}


class BracketManager:
    """Watches OrderUpdated and runs every bracket. start() also resumes brackets from the journal."""

    def __init__(self, bus: EventBus, oms: OrderList, placer: LegPlacer) -> None:
        self._bus = bus
        self._oms = oms
        self._placer = placer
        self._legs: dict[ClientOrderId, dict[str, ClientOrderId]] = {}
        self._started: set[ClientOrderId] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sub: Subscription[OrderUpdated] | None = None

    def start(self) -> None:
        """Follow order updates and resume brackets the OMS loaded."""
        self._sub = self._bus.subscribe(OrderUpdated, lambda e: self.on_order(e.order))
        orders = self._oms.orders()
        for order in orders:
            if LEG_OF in order.extra:
                self._register_leg(order)
        for order in orders:
            self.on_order(order)

    async def stop(self) -> None:
        if self._sub is not None:
            self._sub.close()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def legs(self, entry_id: str) -> dict[str, Order]:
        """The legs of a bracket placed so far, by name (stop, target)."""
        found = {name: self._oms.order(cid) for name, cid in self._legs.get(ClientOrderId(entry_id), {}).items()}
        return {name: order for name, order in found.items() if order is not None}

    def on_order(self, order: Order) -> None:
        """React to an order's new state (entry filled, leg filled or cancelled)."""
        if STOP in order.extra:
            self._on_entry(order)
        elif LEG_OF in order.extra:
            self._register_leg(order)
            self._on_leg(order)

    def _register_leg(self, leg: Order) -> None:
        entry = ClientOrderId(leg.extra[LEG_OF])
        self._legs.setdefault(entry, {})[leg.extra[LEG]] = leg.client_order_id
        self._started.add(entry)

    def _on_entry(self, entry: Order) -> None:
        cid = entry.client_order_id
        if entry.status.is_terminal and entry.filled_quantity > 0 and cid not in self._started:
            self._started.add(cid)
            self._spawn(self._place_legs(entry))

    def _on_leg(self, leg: Order) -> None:
        entry = self._oms.order(leg.extra[LEG_OF])
        other_name = "target" if leg.extra[LEG] == "stop" else "stop"
        other_id = self._legs.get(ClientOrderId(leg.extra[LEG_OF]), {}).get(other_name)
        other = self._oms.order(other_id) if other_id else None
        if entry is None or other is None or other.status.is_terminal:
            return
        if leg.status in (OrderStatus.FILLED, OrderStatus.CANCELLED) or leg.filled_quantity >= entry.filled_quantity:
            if other.status is not OrderStatus.CANCEL_PENDING:
                self._spawn(self._placer.cancel(other.client_order_id))
        elif leg.status is OrderStatus.REJECTED:
            log.error("bracket %s: %s leg rejected (%s); that side is unprotected", entry.client_order_id,
                      leg.extra[LEG], leg.reject_reason)
        elif leg.filled_quantity > 0 and other.venue_order_id and other.status is not OrderStatus.CANCEL_PENDING:
            wanted = entry.filled_quantity - leg.filled_quantity
            if other.quantity != wanted and wanted > other.filled_quantity:
                self._spawn(self._placer.modify(other.client_order_id, quantity=wanted))

    async def _place_legs(self, entry: Order) -> None:
        protection = entry.extra.get(PROTECTION)
        for name, request in leg_requests(entry).items():
            extra = {LEG_OF: entry.client_order_id, LEG: name}
            try:
                handle = await self._placer.place(request, market_protection=Decimal(protection) if protection else None,
                                                  extra=extra)
            except Exception as exc:
                log.error("bracket %s: placing the %s leg failed (%s); that side is unprotected",
                          entry.client_order_id, name, exc)
                continue
            self._legs.setdefault(entry.client_order_id, {})[name] = handle.client_order_id

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:
                log.warning("bracket action failed: %s", exc)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
