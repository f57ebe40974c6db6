"""From the exchange's order states to Binance user-data events: which execution type each change is,
and the balance/position events that follow. Shared by the spot WS API and the futures listenKey
streams; each registers a sink per subscribed account."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.domain import OrderStatus

from ..contract import DepthUpdate, OrderState, PublicTrade
from .filters import fmt
from .formats import execution_report, order_trade_update
from .state import ServerState

log = logging.getLogger(__name__)

Sink = Callable[[dict[str, Any]], None]


def exec_types(prev: OrderState | None, state: OrderState, futures: bool) -> list[tuple[str, OrderState]]:
    """The (execution type, order as reported) pairs one change of an order produces, in order.

    One engine change may cover several Binance events (a marketable order: NEW then TRADE; an IOC:
    TRADE then EXPIRED); the earlier ones show the order as it was at that point.
    """
    if state.status is OrderStatus.REJECTED:
        return [("REJECTED", state)]
    out: list[tuple[str, OrderState]] = []
    traded = bool(state.last_fill_quantity > 0 and state.last_trade_id
                  and (prev is None or state.last_trade_id != prev.last_trade_id))
    ended = state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) and (prev is None or prev.status is not state.status)
    if prev is None:
        fresh = replace(state, status=OrderStatus.OPEN, filled_quantity=Decimal(0), cumulative_quote=Decimal(0),
                        average_price=None)
        out.append(("NEW", fresh if traded or ended else state))
    if traded:
        status = state.status
        if ended:
            status = OrderStatus.PARTIALLY_FILLED
        out.append(("TRADE", replace(state, status=status)))
    if ended:
        out.append(("CANCELED" if state.status is OrderStatus.CANCELLED else "EXPIRED", state))
    elif prev is not None and not traded and state.status.is_working and (
            prev.price != state.price or prev.quantity != state.quantity):
        out.append(("AMENDMENT" if futures else "REPLACED", state))
    return out


class UserHub:
    """Turns order changes of this product into user-data events for the subscribed accounts."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._sinks: dict[str, list[Sink]] = {}
        self._last: dict[int, OrderState] = {}
        self._remove_listener: Any = None

    def start(self) -> None:
        self._remove_listener = self.state.exchange.add_listener(self)

    def stop(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    def add_sink(self, account: str, sink: Sink) -> Callable[[], None]:
        """Deliver this account's events to sink until the returned remover is called."""
        self._sinks.setdefault(account, []).append(sink)

        def remove() -> None:
            sinks = self._sinks.get(account, [])
            if sink in sinks:
                sinks.remove(sink)
        return remove

    def on_depth(self, update: DepthUpdate) -> None:
        """Market data is the stream hub's business."""

    def on_trade(self, trade: PublicTrade) -> None:
        """Market data is the stream hub's business."""

    def on_order(self, state: OrderState) -> None:
        if state.market != self.state.market:
            return
        prev = self._last.get(state.order_id)
        self._last[state.order_id] = state
        if state.status.is_terminal:
            self._last.pop(state.order_id, None)
        sinks = self._sinks.get(state.account)
        if not sinks:
            return
        meta = self.state.meta(state)
        now = self.state.server_ms()
        events = []
        for x, view in exec_types(prev, state, self.state.futures):
            if self.state.futures:
                events.append(order_trade_update(view, meta, x, now))
            else:
                cancel_id = "cancel-" + secrets.token_hex(8) if x == "CANCELED" else ""
                events.append(execution_report(view, meta, x, self.state.next_execution_id(), now, cancel_id))
        events.append(self._account_event(state, now))
        for sink in list(sinks):
            for event in events:
                try:
                    sink(event)
                except Exception:
                    log.exception("user data sink failed")

    def _account_event(self, state: OrderState, now: int) -> dict[str, Any]:
        market = self.state.exchange.market(self.state.market, state.symbol)
        assets = {market.instrument.base_currency, market.instrument.quote_currency}
        balances = [b for b in self.state.wallet(state.account) if b.asset in assets]
        if not self.state.futures:
            return {"e": "outboundAccountPosition", "E": now, "u": state.updated_ns // 1_000_000,
                    "B": [{"a": b.asset, "f": fmt(b.free), "l": fmt(b.locked)} for b in balances]}
        positions = [p for p in self.state.exchange.positions(state.account)
                     if p.market == self.state.market and p.symbol == state.symbol]
        return {"e": "ACCOUNT_UPDATE", "E": now, "T": state.updated_ns // 1_000_000, "a": {
            "m": "ORDER",
            "B": [{"a": b.asset, "wb": format(b.free + b.locked, "f"), "cw": format(b.free + b.locked, "f"), "bc": "0"}
                  for b in balances if b.asset == market.instrument.quote_currency],
            "P": [{"s": p.symbol, "pa": format(p.quantity, "f"), "ep": format(p.average_price, "f"), "bep": format(p.average_price, "f"),
                   "cr": format(p.realised_pnl, "f"), "up": "0", "mt": self.state.margin_type.get((state.account, p.symbol), "cross"),
                   "iw": "0", "ps": "BOTH"} for p in positions]}}
