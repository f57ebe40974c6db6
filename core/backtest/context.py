"""BacktestContext: the StrategyContext a strategy trades through in a backtest.

It behaves as the live context does: buy/sell build the same OrderRequest (the type from
order_type_for: market, limit, stop-market or stop-limit; the instrument's default product; source
"strategy:<id>"), check it against the instrument (tick, lot, minimums) and hand it to the
simulated venue, which receives it after the latency. A refused order is logged ("order refused: ...") and returns None, as a live
order task fails without raising into the strategy. What the strategy knows of its orders and
position (open_orders, position) is what the venue's reports told it so far, so it lags the venue
by the report latency, as it would live. Risk checks of the live path are not simulated.
"""
from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable
from decimal import Decimal
from itertools import count
from typing import Protocol

from core.domain import (ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderType,
                         Position, Side, TimeInForce, to_decimal, validate_order)
from core.strategy.api import order_type_for

from .account import Positions
from .exchange import Execution


class Broker(Protocol):
    """What the context needs from the backtester that owns it."""

    def now_ns(self) -> int: ...
    def send(self, order: Order) -> None: ...
    def send_cancel(self, client_order_id: str) -> None: ...
    def last_price(self, instrument_id: InstrumentId) -> Decimal | None: ...
    def set_timer(self, interval_ns: int) -> None: ...


class BacktestContext:
    """See the module docstring."""

    def __init__(self, broker: Broker, strategy_id: str, instruments: Iterable[Instrument],
                 underlyings: Iterable[str] = (), subscribed: Iterable[InstrumentId] = ()) -> None:
        self.strategy_id = strategy_id
        self.log = logging.getLogger(f"strategy.{strategy_id}")
        self.instruments = {i.id: i for i in instruments}
        self.underlyings = frozenset(underlyings)
        self.subscribed: set[InstrumentId] = set(subscribed)
        self.orders: dict[ClientOrderId, Order] = {}
        self._working: dict[ClientOrderId, Order] = {}  # the orders not known to be done, oldest first
        self.positions = Positions(self.instruments.values())
        self.records: dict[str, tuple[array[int], array[float]]] = {}
        self.refused = 0
        self._broker = broker
        self._ids = count(1)

    # StrategyContext -------------------------------------------------------------------------------
    def now_ns(self) -> int:
        return self._broker.now_ns()

    def buy(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
            order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
            trigger_price: Decimal | None = None) -> Order | None:
        return self._order(Side.BUY, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def sell(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
             order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
             trigger_price: Decimal | None = None) -> Order | None:
        return self._order(Side.SELL, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def cancel(self, client_order_id: str) -> bool:
        """Send a cancel for a working order; False if the strategy knows it is done (or never knew it)."""
        order = self.orders.get(ClientOrderId(client_order_id))
        if order is None or order.status.is_terminal:
            return False
        self._broker.send_cancel(order.client_order_id)
        return True

    def cancel_all(self, instrument_id: InstrumentId | None = None) -> int:
        """Cancel every working order (of one instrument); return how many cancels were sent."""
        return sum(self.cancel(o.client_order_id) for o in self.open_orders(instrument_id))

    def position(self, instrument_id: InstrumentId) -> Position | None:
        return self.positions.position(instrument_id)

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [o for o in self._working.values() if instrument_id in (None, o.instrument_id)]

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        return self._broker.last_price(instrument_id)

    def set_timer(self, seconds: float) -> None:
        """Call on_timer every `seconds` of simulated time from now (0 stops the timer)."""
        self._broker.set_timer(int(seconds * 1e9))

    def record(self, name: str, value: float) -> None:
        series = self.records.get(name)
        if series is None:
            series = self.records[name] = (array("q"), array("d"))
        series[0].append(self._broker.now_ns())
        series[1].append(float(value))

    def derivatives(self, underlying: str) -> list[Instrument]:
        if underlying not in self.underlyings:
            raise ValueError(f"{underlying!r} is not in the strategy's `underlyings`")
        return [i for i in self.instruments.values()
                if i.underlying == underlying and i.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION)]

    def subscribe(self, instrument_ids: list[InstrumentId]) -> None:
        self.subscribed.update(instrument_ids)

    # reports from the venue ------------------------------------------------------------------------
    def on_report(self, execution: Execution) -> None:
        """Learn what the venue reported (before the strategy's on_order/on_fill run)."""
        order = execution.order
        cid = order.client_order_id
        self.orders[cid] = order
        if order.status.is_terminal:
            self._working.pop(cid, None)
        else:
            self._working[cid] = order
        if execution.fill is not None:
            self.positions.apply(execution.fill)

    # internals -------------------------------------------------------------------------------------
    def _order(self, side: Side, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None,
               order_type: OrderType | None, time_in_force: TimeInForce, trigger_price: Decimal | None) -> Order | None:
        otype = order_type or order_type_for(price, trigger_price)
        try:
            instrument = self.instruments.get(instrument_id)
            if instrument is None:
                raise ValueError(f"{instrument_id} is not in this backtest")
            request = OrderRequest(instrument_id, side, to_decimal(quantity), otype,
                                   price=None if price is None else to_decimal(price),
                                   trigger_price=None if trigger_price is None else to_decimal(trigger_price),
                                   time_in_force=time_in_force, product=instrument.default_product,
                                   source=f"strategy:{self.strategy_id}")
            validate_order(instrument, request, self._broker.last_price(instrument_id))
        except ValueError as exc:
            self.refused += 1
            self.log.error("order refused: %s", exc)
            return None
        now = self._broker.now_ns()
        order = Order(ClientOrderId(f"{self.strategy_id}-{next(self._ids)}"), request, created_ns=now, updated_ns=now)
        self.orders[order.client_order_id] = self._working[order.client_order_id] = order
        self._broker.send(order)
        return order
