"""PaperVenue: a VenueClient that trades on paper against the real market.

Market data comes from the bus, published by a real connector (Tick, TradePrint, BookDelta of this
venue's instruments); orders never leave the terminal. They rest in a local matching engine and fill
by core.backtest.exchange's rules: a market order or a marketable limit takes the real best ask/bid
(from the book, else the last tick's quote, else the last trade) moved by the slippage model; a
resting limit fills, at its price, when a real trade prints through it (at it, with touch_fills) or
the real book crosses it; stops trigger on real trades. A tick counts as a trade when its last price
or volume changed (Kite has no public trade stream).

Like a real connector it answers place/cancel/modify with a VenueOrderReport and publishes every
change on the bus (FillEvent, then the VenueOrderReport, with an increasing seq), so the OMS, the
portfolio and every panel work unchanged in paper mode. The wrapped market_data connector (optional)
is only used for market data: connect, close, subscribe, instruments and history go to it. Positions
and balances are kept here from the paper fills (balances start from `balances`); nothing persists
across restarts, so reconciliation after a restart finds the venue empty.

Threading: the loop thread only (bus handlers are synchronous).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from itertools import count
from typing import Any

from core.bus import EventBus, Subscription
from core.domain import (Balance, BarEvent, BookDelta, ConnectionChanged, ConnectionStatus, Fill, FillEvent, Instrument,
                         InstrumentId, Order, Position, Tick, TradePrint, Venue, VenueOrderReport, order_problems)
from core.errors import OrderRejected, TransportError
from core.marketdata.book import OrderBook
from core.venue import Channel, RequestSent, VenueClient

from .account import Positions
from .exchange import Execution, SimulatedExchange
from .models import NO_FEES, NO_SLIPPAGE, FeeModel, SlippageModel

log = logging.getLogger(__name__)
ZERO = Decimal(0)


class PaperVenue(VenueClient):
    """See the module docstring."""

    def __init__(self, bus: EventBus, venue: Venue, instruments: Iterable[Instrument] | None = None, *,
                 market_data: VenueClient | None = None, fee_model: FeeModel = NO_FEES,
                 slippage_model: SlippageModel = NO_SLIPPAGE, touch_fills: bool = False,
                 balances: Mapping[str, Decimal] | None = None, clock_ns: Callable[[], int] = time.time_ns) -> None:
        if instruments is None and market_data is None:
            raise ValueError("PaperVenue needs instruments or a market_data connector to list them")
        self.venue = venue
        self._bus = bus
        self._given = None if instruments is None else list(instruments)
        self._market_data = market_data
        self._fee_model, self._slippage_model, self._touch_fills = fee_model, slippage_model, touch_fills
        self._clock_ns = clock_ns
        self._initial = dict(balances or {})
        self._exchange: SimulatedExchange | None = None
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._books: dict[InstrumentId, OrderBook] = {}
        self._last_tick: dict[InstrumentId, tuple[Decimal | None, Decimal | None]] = {}
        self._positions: Positions = Positions(())
        self._balances: dict[str, Decimal] = {}
        self._fills: list[Fill] = []
        self._seq = count(1)
        self._reports: dict[str, VenueOrderReport] = {}  # the last report published per order
        self._subs: list[Subscription[Any]] = []

    # life cycle ------------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect the market data connector, load instruments and follow this venue's market data.

        Paper orders, fills and balances survive a close() and connect() (they live as long as this object)."""
        if self._subs:
            return
        if self._market_data is not None:
            await self._market_data.connect()
        if self._exchange is None:
            listed = self._given if self._given is not None else self._market_data.instruments()  # type: ignore[union-attr]
            self._instruments = {i.id: i for i in listed if i.venue is self.venue}
            self._exchange = SimulatedExchange(self._instruments.values(), self._fee_model, self._slippage_model,
                                               touch_fills=self._touch_fills, id_prefix="PAPER")
            self._positions = Positions(self._instruments.values())
            self._balances = dict(self._initial)
        self._subs = [self._bus.subscribe(TradePrint, self._on_trade), self._bus.subscribe(Tick, self._on_tick),
                      self._bus.subscribe(BookDelta, self._on_book)]
        self._bus.publish(ConnectionChanged(self.venue, "user", ConnectionStatus.CONNECTED, "paper"))

    async def close(self) -> None:
        if self._subs:
            self._bus.publish(ConnectionChanged(self.venue, "user", ConnectionStatus.DISCONNECTED, "paper"))
        for sub in self._subs:
            sub.close()
        self._subs = []
        if self._market_data is not None:
            try:
                await self._market_data.close()
            except Exception:
                log.exception("closing the market data connector of paper %s failed", self.venue.value)

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        if self._market_data is not None:
            await self._market_data.subscribe(instrument_ids, channels)

    async def unsubscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        if self._market_data is not None:
            await self._market_data.unsubscribe(instrument_ids, channels)

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        if self._market_data is None:
            return []
        return await self._market_data.history(instrument_id, timeframe, start_ns, end_ns)

    # orders ----------------------------------------------------------------------------------------
    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        exchange = self._ready()
        instrument = self._instruments.get(order.instrument_id)
        if instrument is None:
            raise OrderRejected(f"{order.instrument_id} is not traded on paper {self.venue.value}")
        problems = order_problems(instrument, order.request, exchange.market(order.instrument_id).last)
        if problems:
            raise OrderRejected("; ".join(problems))
        self._refresh_quote(order.instrument_id)
        if sent is not None:
            sent()  # no network: the order reaches the simulated exchange here
        self._publish(exchange.submit(order, self._clock_ns()))
        return self._reports[order.client_order_id]

    async def cancel_order(self, order: Order) -> VenueOrderReport:
        exchange = self._ready()
        executions = exchange.cancel(order.client_order_id, self._clock_ns())
        if not executions:
            known = exchange.order(order.client_order_id)
            raise OrderRejected(f"order is {known.status.value}" if known else "unknown order")
        self._publish(executions)
        return self._reports[order.client_order_id]

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        exchange = self._ready()
        executions = exchange.amend(order.client_order_id, price, quantity, trigger_price, self._clock_ns())
        if not any(e.order.client_order_id == order.client_order_id for e in executions):
            raise OrderRejected("the order cannot be modified (unknown, done, or below its filled quantity)")
        self._publish(executions)
        return self._reports[order.client_order_id]

    async def query_order(self, order: Order) -> VenueOrderReport | None:
        self._ready()
        return self._reports.get(order.client_order_id)

    async def open_orders(self) -> list[VenueOrderReport]:
        return [self._reports[o.client_order_id] for o in self._ready().open_orders()]

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        return [f for f in self._fills if f.ts_ns >= since_ns]

    async def positions(self) -> list[Position]:
        return [p for p in self._positions.all() if p.quantity]

    async def balances(self) -> list[Balance]:
        return [Balance(self.venue, asset, amount) for asset, amount in sorted(self._balances.items())]

    # market data -----------------------------------------------------------------------------------
    def _on_trade(self, trade: TradePrint) -> None:
        if self._exchange is not None and trade.instrument_id in self._instruments:
            self._publish(self._exchange.on_trade(trade.instrument_id, trade.price, trade.ts_ns))

    def _on_tick(self, tick: Tick) -> None:
        iid = tick.instrument_id
        if self._exchange is None or iid not in self._instruments:
            return
        if tick.bid is not None or tick.ask is not None:
            self._publish(self._exchange.on_quote(iid, tick.bid, tick.ask, tick.ts_ns))
        if tick.last_price is None:
            return
        seen = (tick.last_price, tick.volume)
        if self._last_tick.get(iid) != seen:
            self._last_tick[iid] = seen
            self._publish(self._exchange.on_trade(iid, tick.last_price, tick.ts_ns))

    def _on_book(self, delta: BookDelta) -> None:
        iid = delta.instrument_id
        if self._exchange is None or iid not in self._instruments:
            return
        book = self._books.get(iid)
        if book is None:
            book = self._books[iid] = OrderBook(iid)
        book.apply(delta)
        if not self._exchange.market(iid).is_idle():
            self._refresh_quote(iid, delta.ts_ns)

    def _refresh_quote(self, iid: InstrumentId, ts_ns: int | None = None) -> None:
        """Take the best bid/ask from the book (when there is one) as the reference, filling what it crosses."""
        book = self._books.get(iid)
        if book is None or not book.has_snapshot:
            return
        view = book.view(1)
        assert self._exchange is not None
        self._publish(self._exchange.on_quote(iid, view.best_bid, view.best_ask, ts_ns or self._clock_ns()))

    # internals -------------------------------------------------------------------------------------
    def _ready(self) -> SimulatedExchange:
        if self._exchange is None or not self._subs:
            raise TransportError(f"paper {self.venue.value} is not connected")
        return self._exchange

    def _publish(self, executions: list[Execution]) -> None:
        for execution in executions:
            fill = execution.fill
            if fill is not None:
                self._book_fill(fill)
                self._bus.publish(FillEvent(fill))
            report = self._reports[execution.order.client_order_id] = self._report(execution.order)
            self._bus.publish(report)

    def _book_fill(self, fill: Fill) -> None:
        self._fills.append(fill)
        self._positions.apply(fill)
        instrument = self._instruments[fill.instrument_id]
        signed = fill.side.sign * fill.quantity
        quote = instrument.quote_currency
        self._balances[quote] = self._balances.get(quote, ZERO) - signed * fill.price * instrument.multiplier - fill.fee
        if instrument.base_currency:
            base = instrument.base_currency
            self._balances[base] = self._balances.get(base, ZERO) + signed

    def _report(self, order: Order) -> VenueOrderReport:
        return VenueOrderReport(self.venue, order.client_order_id, order.venue_order_id, order.status, order.instrument_id,
                                order.filled_quantity, order.average_price, order.price, order.quantity,
                                order.trigger_price, order.reject_reason, order.updated_ns, next(self._seq), order.side)
