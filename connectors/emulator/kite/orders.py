"""The Kite order book of the emulator: varieties, modifications and cancels over the exchange.

Each Kite order is carried by an exchange order whose client id names it; the exchange's order events
come back through on_order() and move the Kite order through Kite's statuses (OPEN, TRIGGER PENDING,
COMPLETE, CANCELLED, REJECTED), record its trades and its history, and are handed to the update
listeners (the ticker sends them as order postbacks: UPDATE for a partial fill or a modification).

Varieties: regular; amo (held as AMO REQ RECEIVED while the market is closed, sent when it opens,
refused during market hours); co (a MARKET/LIMIT entry, then a SL-M stop leg on the other side once the
entry completes; cancelling the leg exits it at market); iceberg (legs of iceberg_quantity placed one
after another, each its own order with meta.iceberg). TTL validity cancels after validity_ttl minutes.
Follow-up orders (the next leg, the stop leg) are sent on the next loop turn, never from inside the
exchange's callback.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from core.domain import Instrument, OrderStatus, OrderType, Side, TimeInForce

from ..contract import DepthUpdate, NewOrder, OrderState, PublicTrade
from .errors import KiteError, input_error
from .params import OrderParams, parse_modify, parse_place
from .state import KiteState, Session
from .views import IST, KiteOrder, order_json, trade_json

log = logging.getLogger(__name__)
MAX_MODIFICATIONS = 25
KITE_MARKETS = ("NSE", "NFO")
UpdateListener = Callable[[KiteOrder, str], None]
_FUNDS = re.compile(r"insufficient balance: needs ([\d.]+) \w+, free ([\d.-]+)")


class KiteOrders:
    """See the module docstring. One per KiteState; start() registers it with the exchange."""

    def __init__(self, state: KiteState) -> None:
        self.state = state
        self.exchange = state.exchange
        self.orders: dict[str, KiteOrder] = {}
        self._by_client: dict[str, KiteOrder] = {}
        self._exchange_ids: dict[str, int] = {}  # order id -> current exchange order id
        self._serial = itertools.count(1)
        self._listeners: list[UpdateListener] = []
        self._remove: Callable[[], None] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._updating: set[str] = set()  # modified orders whose next event is a postback UPDATE
        self._stopped: set[str] = set()  # iceberg legs cancelled by the user: no next leg

    # wiring ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen to the exchange's order events."""
        if self._remove is None:
            self._remove = self.exchange.add_listener(self)

    def stop(self) -> None:
        """Stop listening and drop pending TTL timers."""
        if self._remove is not None:
            self._remove()
            self._remove = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def add_update_listener(self, listener: UpdateListener) -> Callable[[], None]:
        """Call listener(order, postback status) on every change; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def instrument(self, exchange: str, tradingsymbol: str) -> Instrument:
        """The instrument of exchange:tradingsymbol; InputException if Kite would not know it."""
        try:
            if exchange not in KITE_MARKETS:
                raise KeyError(exchange)
            return self.exchange.market(exchange, tradingsymbol).instrument
        except KeyError:
            raise input_error(f"Invalid `tradingsymbol`: {exchange}:{tradingsymbol} is not a known instrument.") from None

    # queries --------------------------------------------------------------------------------------------
    def get(self, session: Session, order_id: str) -> KiteOrder:
        """One order of the session's account; OrderException if there is none."""
        order = self.orders.get(order_id)
        if order is None or order.account != session.account:
            raise KiteError("OrderException", "Couldn't find that `order_id`.")
        self._refresh_trigger(order)
        return order

    def of(self, session: Session) -> list[KiteOrder]:
        """Every order of the session's account, oldest first."""
        found = [o for o in self.orders.values() if o.account == session.account]
        for order in found:
            self._refresh_trigger(order)
        return found

    # commands -------------------------------------------------------------------------------------------
    def place(self, session: Session, variety: str, form: Mapping[str, str]) -> KiteOrder:
        """Validate and place; the answer is the (first) Kite order, whatever happens to it next."""
        params = parse_place(variety, form, self.instrument)
        meta = {}
        if variety == "iceberg":
            meta = {"iceberg": {"leg": 1, "legs": params.iceberg_legs, "leg_quantity": params.iceberg_quantity,
                                "total_quantity": params.quantity, "remaining_quantity": params.quantity - params.iceberg_quantity}}
            params = replace(params, quantity=params.iceberg_quantity)
        order = self._new(session, params, meta=meta)
        if variety == "amo":
            if self._market_open():
                self._finish(order, "REJECTED", "AMO orders are not allowed during market hours. Place a regular order.")
            else:
                order.held = True
                self._set(order, "AMO REQ RECEIVED")
            return order
        self._submit(order)
        return order

    def modify(self, session: Session, variety: str, order_id: str, form: Mapping[str, str]) -> KiteOrder:
        """Apply a modification (amend at the exchange, or replace the order if its type or validity changes)."""
        order = self._changeable(session, variety, order_id, "modified")
        if order.modifications >= MAX_MODIFICATIONS:
            raise KiteError("OrderException", "Maximum allowed order modifications exceeded.")
        if variety == "co":
            allowed = {"trigger_price"} if order.parent_order_id else {"price"}
            form = {k: v for k, v in form.items() if k in allowed}
        new = parse_modify(order.params, form, order.instrument)
        if new.quantity <= order.filled:
            raise input_error("Quantity should be greater than the quantity already filled.")
        order.modifications += 1
        order.modified = True
        for status in ("MODIFY VALIDATION PENDING", "MODIFY PENDING"):
            order.history.append(order_json(order, status))
        replace_needed = new.order_type != order.params.order_type or new.validity != order.params.validity
        order.params = new
        if order.held:
            self._set(order, "AMO REQ RECEIVED", postback="UPDATE")
            return order
        self._updating.add(order.order_id)
        if replace_needed:
            self._replace(order)
        else:
            price = new.price if new.order_type in ("LIMIT", "SL") else None
            trigger = new.trigger_price if new.order_type in ("SL", "SL-M") else None
            self.exchange.amend(order.account, new.exchange, new.tradingsymbol, self._exchange_ids[order.order_id], price,
                                Decimal(new.quantity - order.filled_before), trigger)
        return order

    def cancel(self, session: Session, variety: str, order_id: str) -> KiteOrder:
        """Cancel an order (a cover order's stop leg exits at market instead)."""
        order = self._changeable(session, variety, order_id, "cancelled")
        if order.held:
            order.held = False
            order.cancelled = order.params.quantity
            self._finish(order, "CANCELLED", None)
            return order
        order.history.append(order_json(order, "CANCEL PENDING"))
        self._stopped.add(order.order_id)
        if variety == "co" and order.parent_order_id:  # exit the stop leg at market
            self._replace(order, market=True)
        else:
            self.exchange.cancel(order.account, order.params.exchange, order.params.tradingsymbol,
                                 self._exchange_ids[order.order_id])
        return order

    def release_amos(self) -> None:
        """Send held after-market orders once the market is open (called on a timer)."""
        if not self._market_open():
            return
        for order in [o for o in self.orders.values() if o.held]:
            order.held = False
            self._submit(order)

    # exchange events ------------------------------------------------------------------------------------
    def on_depth(self, update: DepthUpdate) -> None:
        """Depth is served from snapshots by the ticker; nothing to do per update."""

    def on_trade(self, trade: PublicTrade) -> None:
        """Public trades are not part of the order book."""

    def on_order(self, state: OrderState) -> None:
        """Move the Kite order carried by this exchange order along, and tell the listeners."""
        order = self._by_client.get(state.client_order_id)
        if order is None or order.client_id != state.client_order_id:
            return  # not ours, or a replaced exchange order's late event
        self._exchange_ids[order.order_id] = state.order_id
        order.filled = order.filled_before + int(state.filled_quantity)
        order.value = order.value_before + state.cumulative_quote
        order.exchange_update_ns = state.updated_ns
        if state.status is not OrderStatus.REJECTED and order.exchange_order_id is None:
            order.exchange_order_id = str(1_100_000_000_000_000 + state.order_id)
        if state.last_fill_quantity > 0:
            order.trades.append(trade_json(order, state.last_trade_id, state.last_fill_quantity, state.last_fill_price,
                                           state.updated_ns))
        status, message = _kite_status(order, state)
        if status == "CANCELLED":
            order.cancelled = order.params.quantity - order.filled
        if status in ("COMPLETE", "CANCELLED", "REJECTED"):
            self._finish(order, status, message)
            return
        updating = order.order_id in self._updating and not state.last_fill_quantity
        self._updating.discard(order.order_id)
        partial = state.last_fill_quantity > 0
        self._set(order, status, postback="UPDATE" if updating or partial else None, message=message)

    # internals ------------------------------------------------------------------------------------------
    def _new(self, session: Session, params: OrderParams, parent: str | None = None,
             meta: dict[str, object] | None = None) -> KiteOrder:
        now = self.exchange.now_ns()
        day = datetime.fromtimestamp(now / 1e9, IST).strftime("%y%m%d")
        order = KiteOrder(f"{day}{next(self._serial):09d}", params, self.instrument(params.exchange, params.tradingsymbol),
                          session.user_id, session.account, now, parent, meta=dict(meta or {}))
        self.orders[order.order_id] = order
        order.history.append(order_json(order))
        order.history.append(order_json(order, "VALIDATION PENDING"))
        return order

    def _submit(self, order: KiteOrder) -> None:
        p = order.params
        order.client_id = f"{order.order_id}-{len(self._by_client)}"
        self._by_client[order.client_id] = order
        order.status = "OPEN PENDING"
        order.history.append(order_json(order))
        tif = TimeInForce.IOC if p.validity == "IOC" else TimeInForce.DAY
        self.exchange.place(NewOrder(
            order.account, p.exchange, p.tradingsymbol, p.side, p.core_type, Decimal(p.quantity - order.filled_before),
            order.client_id, price=p.price if p.order_type in ("LIMIT", "SL") else None,
            trigger_price=p.trigger_price if p.order_type in ("SL", "SL-M") else None, time_in_force=tif, tag=p.tag or "",
            extra={"product": "MIS" if p.product == "CO" else p.product, "variety": p.variety}))
        if p.validity == "TTL" and p.validity_ttl and not order.terminal:
            self._later(order.order_id, p.validity_ttl * self.state.ttl_minute_s, self._expire)

    def _replace(self, order: KiteOrder, market: bool = False) -> None:
        """Cancel the exchange order quietly and carry the rest on a new one (new type, or a market exit)."""
        p, current = order.params, self._exchange_ids[order.order_id]
        state = self.exchange.order(order.account, p.exchange, p.tradingsymbol, current)
        order.filled_before += int(state.filled_quantity)
        order.value_before += state.cumulative_quote
        order.client_id = ""  # the cancel below is not this order's news
        if state.status.is_working:
            self.exchange.cancel(order.account, p.exchange, p.tradingsymbol, current)
        if market:
            order.params = replace(p, order_type="MARKET", price=Decimal(0), trigger_price=Decimal(0))
            self._submit(order)
            order.params = p
        else:
            self._submit(order)

    def _changeable(self, session: Session, variety: str, order_id: str, verb: str) -> KiteOrder:
        order = self.get(session, order_id)
        if order.params.variety != variety:
            raise input_error(f"Order {order_id} is a {order.params.variety} order, not {variety}.")
        if order.terminal or order.status == "CANCEL PENDING":
            raise KiteError("OrderException", f"Order cannot be {verb} as it is {order.status.lower()}.")
        return order

    def _set(self, order: KiteOrder, status: str, postback: str | None = None, message: str | None = None) -> None:
        order.status = status
        if message is not None:
            order.status_message = message
        order.history.append(order_json(order))
        self._notify(order, postback or status)

    def _finish(self, order: KiteOrder, status: str, message: str | None) -> None:
        self._set(order, status, message=message)
        timer = self._timers.pop(order.order_id, None)
        if timer is not None:
            timer.cancel()
        self._updating.discard(order.order_id)
        if status == "COMPLETE" and order.params.variety == "co" and order.parent_order_id is None:
            self._soon(lambda: self._stop_leg(order))
        elif status == "COMPLETE" and "iceberg" in order.meta and order.order_id not in self._stopped:
            self._soon(lambda: self._next_leg(order))

    def _notify(self, order: KiteOrder, status: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(order, status)
            except Exception:
                log.exception("kite order listener failed")

    def _stop_leg(self, entry: KiteOrder) -> None:
        p = entry.params
        leg_params = replace(p, side=Side.SELL if p.side is Side.BUY else Side.BUY, order_type="SL-M", price=Decimal(0),
                             market_protection=p.market_protection or Decimal(-1))
        leg = self._new(self._session_of(entry), leg_params, parent=entry.order_id)
        self._submit(leg)

    def _next_leg(self, previous: KiteOrder) -> None:
        info = dict(previous.meta["iceberg"])  # type: ignore[arg-type]
        remaining = int(info["remaining_quantity"])
        if remaining <= 0:
            return
        quantity = min(int(info["leg_quantity"]), remaining)
        info.update(leg=int(info["leg"]) + 1, remaining_quantity=remaining - quantity)
        leg = self._new(self._session_of(previous), replace(previous.params, quantity=quantity), meta={"iceberg": info})
        self._submit(leg)

    def _session_of(self, order: KiteOrder) -> Session:
        app = next(a for a in self.state.apps.values() if a.account == order.account)
        return Session("", "", app, order.placed_ns)

    def _expire(self, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is not None and not order.terminal and order_id in self._exchange_ids:
            self.exchange.cancel(order.account, order.params.exchange, order.params.tradingsymbol, self._exchange_ids[order_id])

    def _later(self, order_id: str, delay_s: float, action: Callable[[str], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timers[order_id] = loop.call_later(delay_s, action, order_id)

    def _soon(self, action: Callable[[], None]) -> None:
        try:
            asyncio.get_running_loop().call_soon(action)
        except RuntimeError:
            action()

    def _market_open(self) -> bool:
        is_open = getattr(self.exchange, "nse_open", None)
        return bool(is_open()) if callable(is_open) else True

    def _refresh_trigger(self, order: KiteOrder) -> None:
        """A stop order shows TRIGGER PENDING until the market reaches its trigger (then OPEN)."""
        if order.status != "TRIGGER PENDING":
            return
        p = order.params
        last = self.exchange.summary(p.exchange, p.tradingsymbol).last_price
        if (last >= p.trigger_price) if p.side is Side.BUY else (last <= p.trigger_price):
            order.status = "OPEN"


def _kite_status(order: KiteOrder, state: OrderState) -> tuple[str, str | None]:
    s = state.status
    if s is OrderStatus.REJECTED:
        return "REJECTED", _rejection(state.reject_reason)
    if s is OrderStatus.FILLED:
        return "COMPLETE", None
    if s is OrderStatus.EXPIRED:
        return "CANCELLED", f"Order cancelled by the exchange: {state.reject_reason}" if state.reject_reason else None
    if s is OrderStatus.CANCELLED:
        return "CANCELLED", None
    if s is OrderStatus.PENDING_NEW:
        return "OPEN PENDING", None
    waiting = state.order_type in (OrderType.STOP_LIMIT, OrderType.STOP_MARKET) and state.filled_quantity == 0
    return ("TRIGGER PENDING" if waiting and order.status in ("OPEN PENDING", "TRIGGER PENDING") else "OPEN"), None


def _rejection(reason: str) -> str:
    funds = _FUNDS.search(reason)
    if funds:
        return (f"Insufficient funds. Required margin is {funds.group(1)} but available margin is {funds.group(2)}. "
                "Check the orderbook for open orders.")
    return f"RMS:Blocked. {reason}" if reason else "Rejected"
