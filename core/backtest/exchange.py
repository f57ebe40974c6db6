"""SimulatedExchange: our orders in core.matching engines, filled against an outside market.

Shared by the backtester (the outside market is replayed bars or ticks) and the paper venue (a real
feed). Only our orders live in the books; the outside market acts on them by three rules:

- Takers: an order arriving meets a quote the market posts for it on the other side, for its whole
  quantity, at the reference price (the best ask for a buy, the best bid for a sell, else the last
  trade) moved by the slippage model. What does not trade at once rests (a limit) or expires (a
  market order, IOC); a post-only order that would take is rejected; FOK fills in full or is
  rejected. With no reference price yet a market order expires unfilled.
- Resting limits: a market trade at price p fills our resting buys priced at or above p and our
  sells at or below p (strictly beyond p with touch_fills=False), at our limit price, as maker, in
  price-time priority. A quote that crosses a resting order (an ask at or below our bid) fills it
  the same way. Liquidity is unlimited at every price: no volume cap and no queue position.
- Stops wait here, as conditional orders wait outside the book at Binance, and enter the book as a
  market order (STOP_MARKET) or a limit at their price (STOP_LIMIT) once a market trade reaches the
  trigger: a buy stop at or above it, a sell stop at or below.

Our orders meet each other in the engine, so self-trade prevention (expire the taker) applies. DAY
orders live like GTC (there are no sessions here). The engine runs without fees; the fee model
prices every fill. Ids come from counters, so a run is deterministic.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import count

from core.domain import (ClientOrderId, Fill, Instrument, InstrumentId, Order, OrderStatus, OrderType, Side, TimeInForce)
from core.errors import UnknownInstrument
from core.matching import (Accepted, Amended, Cancelled, EngineOrder, ExecEvent, Expired, MatchingEngine, Rejected,
                           Trade)

from .models import NO_FEES, NO_SLIPPAGE, FeeModel, SlippageModel

ZERO = Decimal(0)
OURS = "ours"
MARKET = "market"


@dataclass(frozen=True, slots=True)
class Execution:
    """One change to one of our orders, with the fill that caused it (if a fill did)."""

    order: Order
    fill: Fill | None = None


@dataclass(eq=False)
class SimulatedMarket:
    """One instrument's book of our orders, the market's reference prices and our waiting stops."""

    instrument: Instrument
    engine: MatchingEngine
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    stops: dict[ClientOrderId, Order] = field(default_factory=dict)

    def is_idle(self) -> bool:
        """True when no order of ours rests or waits for a trigger here (market input changes nothing)."""
        return not self.engine.resting and not self.stops


class SimulatedExchange:
    """See the module docstring. Not thread-safe; every call returns the executions it caused, in order."""

    def __init__(self, instruments: Iterable[Instrument], fee_model: FeeModel = NO_FEES,
                 slippage_model: SlippageModel = NO_SLIPPAGE, *, touch_fills: bool = True, id_prefix: str = "SIM") -> None:
        trade_ids = count(1)
        self._markets = {i.id: SimulatedMarket(i, MatchingEngine(i.symbol, ZERO, ZERO, trade_ids)) for i in instruments}
        self.fee_model = fee_model
        self.slippage_model = slippage_model
        self.touch_fills = touch_fills
        self.id_prefix = id_prefix
        self.orders: dict[ClientOrderId, Order] = {}  # every order seen (read-only for callers)
        self._working: dict[ClientOrderId, Order] = {}
        self._ids = count(1)
        self._cid_of: dict[int, ClientOrderId] = {}  # engine order id -> our order, while it is in a book
        self._engine_id: dict[ClientOrderId, int] = {}

    # queries -----------------------------------------------------------------------------------------
    def order(self, client_order_id: str) -> Order | None:
        return self.orders.get(ClientOrderId(client_order_id))

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        """Our working orders (of one instrument), oldest first."""
        return [o for o in self._working.values() if instrument_id in (None, o.instrument_id)]

    def market(self, instrument_id: InstrumentId) -> SimulatedMarket:
        """The simulated market of an instrument (raise UnknownInstrument if it is not simulated)."""
        market = self._markets.get(instrument_id)
        if market is None:
            raise UnknownInstrument(f"{instrument_id} is not simulated here")
        return market

    # market input ------------------------------------------------------------------------------------
    def on_trade(self, instrument_id: InstrumentId, price: Decimal, ts_ns: int) -> list[Execution]:
        """The market traded at price: fill the resting orders it reaches, then trigger stops."""
        market = self.market(instrument_id)
        market.last = price
        if not market.engine.resting and not market.stops:
            return []
        tick = ZERO if self.touch_fills else market.instrument.tick_size
        out = self._sweep(market, Side.BUY, price + tick, ts_ns)
        if price - tick > 0:
            out += self._sweep(market, Side.SELL, price - tick, ts_ns)
        return out + self._trigger_stops(market, ts_ns)

    def on_quote(self, instrument_id: InstrumentId, bid: Decimal | None, ask: Decimal | None, ts_ns: int) -> list[Execution]:
        """The market's best bid/ask changed: keep them as taker references and fill what they cross."""
        market = self.market(instrument_id)
        market.bid, market.ask = bid, ask
        if not market.engine.resting:
            return []
        out = self._sweep(market, Side.BUY, ask, ts_ns) if ask is not None else []
        return out + (self._sweep(market, Side.SELL, bid, ts_ns) if bid is not None else [])

    # commands ----------------------------------------------------------------------------------------
    def register(self, order: Order) -> None:
        """Know an order before it arrives, so a cancel can be requested while it travels."""
        if order.client_order_id not in self.orders:
            self._store(order)

    def submit(self, order: Order, ts_ns: int) -> list[Execution]:
        """Accept a new order (its registered state wins): park a stop, or match and rest it."""
        market = self.market(order.instrument_id)
        cid = order.client_order_id
        order = self.orders.get(cid, order)
        if order.venue_order_id or order.status.is_terminal:
            raise ValueError(f"duplicate client order id {cid}")
        if order.request.order_type.has_trigger:
            order = _accept(order, f"{self.id_prefix}{next(self._ids)}", ts_ns)
            market.stops[cid] = self._store(order)
            return [Execution(order)] + self._trigger_stops(market, ts_ns)
        return self._enter(market, self._store(order), ts_ns)

    def request_cancel(self, client_order_id: str, ts_ns: int) -> Execution | None:
        """Mark a working order CANCEL_PENDING (the cancel is on its way); None if there is nothing to cancel."""
        order = self.order(client_order_id)
        if order is None or not order.status.is_working or order.status is OrderStatus.CANCEL_PENDING:
            return None
        pending = order.transition(OrderStatus.CANCEL_PENDING, updated_ns=ts_ns)
        return Execution(self._store(pending))

    def cancel(self, client_order_id: str, ts_ns: int) -> list[Execution]:
        """Cancel a working order; empty if it is unknown or already done."""
        cid = ClientOrderId(client_order_id)
        order = self.orders.get(cid)
        if order is None or order.status.is_terminal:
            return []
        market = self._markets[order.instrument_id]
        if market.stops.pop(cid, None) is not None:
            return [self._change(order.transition(OrderStatus.CANCELLED, updated_ns=ts_ns))]
        engine_id = self._engine_id.get(cid)
        if engine_id is None:
            return []
        return self._translate(market.engine.cancel(engine_id), ts_ns)

    def amend(self, client_order_id: str, price: Decimal | None, quantity: Decimal | None,
              trigger_price: Decimal | None, ts_ns: int) -> list[Execution]:
        """Change a working order; a resting order that now crosses the market fills at its own price."""
        cid = ClientOrderId(client_order_id)
        order = self.orders.get(cid)
        if order is None or order.status.is_terminal:
            return []
        market = self._markets[order.instrument_id]
        if cid in market.stops:
            changed = replace(order, price=price or order.price, quantity=quantity or order.quantity,
                              trigger_price=trigger_price or order.trigger_price, updated_ns=ts_ns)
            market.stops[cid] = changed
            return [self._change(changed)] + self._trigger_stops(market, ts_ns)
        engine_id = self._engine_id.get(cid)
        if engine_id is None:
            return []
        out = self._translate(market.engine.amend(engine_id, price, quantity), ts_ns)
        buy_through = market.ask if market.ask is not None else market.last
        sell_through = market.bid if market.bid is not None else market.last
        if buy_through is not None:
            out += self._sweep(market, Side.BUY, buy_through, ts_ns)
        if sell_through is not None:
            out += self._sweep(market, Side.SELL, sell_through, ts_ns)
        return out

    # internals ---------------------------------------------------------------------------------------
    def _enter(self, market: SimulatedMarket, order: Order, ts_ns: int) -> list[Execution]:
        """Put an order into the book with a market quote opposite it (see the module docstring)."""
        side, request = order.side, order.request
        quantity = order.leaves_quantity
        kind = OrderType.MARKET if request.order_type in (OrderType.MARKET, OrderType.STOP_MARKET) else OrderType.LIMIT
        reference = (market.ask if side is Side.BUY else market.bid) or market.last
        out: list[Execution] = []
        quote_id = None
        if reference is not None:
            quote = self.slippage_model.price(market.instrument, side, quantity, reference)
            out += self._sweep(market, side, quote, ts_ns)  # the quote must not meet our own resting orders
            quote_id = next(self._ids)
            market.engine.submit(EngineOrder(quote_id, MARKET, side.opposite, OrderType.LIMIT, quantity, quote))
        engine_id = next(self._ids)
        self._cid_of[engine_id] = order.client_order_id
        self._engine_id[order.client_order_id] = engine_id
        tif = request.time_in_force
        engine_order = EngineOrder(engine_id, OURS, side, kind, quantity, order.price if kind is OrderType.LIMIT else None,
                                   time_in_force=TimeInForce.GTC if tif in (TimeInForce.DAY, TimeInForce.GTX) else tif,
                                   post_only=tif is TimeInForce.GTX, client_id=order.client_order_id)
        out += self._translate(market.engine.submit(engine_order), ts_ns)
        if quote_id is not None and quote_id in market.engine.resting:
            market.engine.cancel(quote_id)
        return out

    def _trigger_stops(self, market: SimulatedMarket, ts_ns: int) -> list[Execution]:
        """Send the stops the last trade has reached into the book, oldest first."""
        last = market.last
        if last is None:
            return []
        out: list[Execution] = []
        for order in [o for o in market.stops.values() if o.side.sign * (last - (o.trigger_price or ZERO)) >= 0]:
            del market.stops[order.client_order_id]
            out += self._enter(market, order, ts_ns)
        return out

    def _sweep(self, market: SimulatedMarket, our_side: Side, price: Decimal, ts_ns: int) -> list[Execution]:
        """Let the market take our resting orders of one side at price or better for us."""
        engine = market.engine
        best = engine.best_bid() if our_side is Side.BUY else engine.best_ask()
        if best is None or our_side.sign * (best - price) < 0:
            return []
        bids, asks = engine.depth(len(engine.resting))
        quantity = sum((q for _, q in (bids if our_side is Side.BUY else asks)), ZERO)
        taker = EngineOrder(next(self._ids), MARKET, our_side.opposite, OrderType.LIMIT, quantity, price,
                            time_in_force=TimeInForce.IOC)
        return self._translate(market.engine.submit(taker), ts_ns)

    def _translate(self, events: list[ExecEvent], ts_ns: int) -> list[Execution]:
        out: list[Execution] = []
        for event in events:
            if isinstance(event, Trade):
                for engine_id, is_maker in ((event.maker_order_id, True), (event.taker_order_id, False)):
                    cid = self._cid_of.get(engine_id)
                    if cid is not None:
                        out.append(self._fill(self.orders[cid], event, is_maker, ts_ns))
                continue
            cid = self._cid_of.get(event.order_id)
            if cid is None:
                continue
            order = self.orders[cid]
            if isinstance(event, Accepted):
                if not order.venue_order_id:  # a triggered stop was accepted before
                    out.append(self._change(_accept(order, f"{self.id_prefix}{event.order_id}", ts_ns)))
            elif isinstance(event, Rejected):
                if not order.venue_order_id:  # not a refused cancel or amend of a working order
                    out.append(self._change(order.transition(
                        OrderStatus.REJECTED, venue_order_id=f"{self.id_prefix}{event.order_id}",
                        reject_reason=event.reason.value, updated_ns=ts_ns)))
            elif isinstance(event, Cancelled):
                out.append(self._change(order.transition(OrderStatus.CANCELLED, updated_ns=ts_ns)))
            elif isinstance(event, Expired):
                out.append(self._change(order.transition(OrderStatus.EXPIRED, reject_reason=event.reason.value,
                                                      updated_ns=ts_ns)))
            elif isinstance(event, Amended):
                out.append(self._change(replace(order, price=event.price, quantity=event.quantity, updated_ns=ts_ns)))
        return out

    def _fill(self, order: Order, trade: Trade, is_maker: bool, ts_ns: int) -> Execution:
        instrument = self._markets[order.instrument_id].instrument
        fee = self.fee_model.fee(instrument, order.side, trade.quantity, trade.price, is_maker)
        fill = Fill(order.client_order_id, order.venue_order_id, f"{self.id_prefix}T{trade.trade_id}", order.instrument_id,
                    order.side, trade.quantity, trade.price, fee, instrument.quote_currency, ts_ns, is_maker,
                    order.request.product)
        return self._change(order.with_fill(trade.quantity, trade.price, ts_ns), fill)

    def _change(self, order: Order, fill: Fill | None = None) -> Execution:
        self._store(order)
        if order.status.is_terminal:
            engine_id = self._engine_id.pop(order.client_order_id, None)
            if engine_id is not None:
                self._cid_of.pop(engine_id, None)
        return Execution(order, fill)

    def _store(self, order: Order) -> Order:
        cid = order.client_order_id
        self.orders[cid] = order
        if order.status.is_terminal:
            self._working.pop(cid, None)
        else:
            self._working[cid] = order
        return order


def _accept(order: Order, venue_order_id: str, ts_ns: int) -> Order:
    """The order acknowledged by the venue (it stays CANCEL_PENDING if a cancel is already on its way)."""
    if order.status is OrderStatus.PENDING_NEW:
        return order.transition(OrderStatus.OPEN, venue_order_id=venue_order_id, updated_ns=ts_ns)
    return replace(order, venue_order_id=venue_order_id, updated_ns=ts_ns)
