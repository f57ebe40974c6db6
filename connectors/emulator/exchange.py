"""Exchange: the emulated venue behind both protocol servers (implements contract.ExchangeApi).

One MatchingEngine per book. Every engine event, whoever's order it concerns, goes through
_process(): user orders get a new OrderState (and their account settles), public trades, candles
and stats update, and listeners hear about it in order. After each command and each simulation step
the engine's changed levels become a DepthUpdate with Binance-style ids: U = previous u + 1, u = U +
levels changed - 1, pu = previous u; a depth snapshot reports the last u.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as dtime
from decimal import ROUND_DOWN, Decimal

from core.domain import InstrumentKind, OrderStatus, OrderType, Rounding, Side
from core.matching import (Accepted, Amended, Cancelled, EngineOrder, ExecEvent, Expired, MatchingEngine, Rejected, Trade,
                           Triggered)

from .accounts import INTERNAL, ZERO, Account, demo_accounts
from .contract import (AccountBalance, AccountPosition, Candle, DepthSnapshot, DepthUpdate, ExchangeListener, Market,
                       MarketSummary, NewOrder, OrderState, PublicTrade)
from .markets.candles import CandleSeries
from .markets.universe import IST, Spec, binance_specs, nse_specs

log = logging.getLogger(__name__)
NSE_OPEN, NSE_CLOSE = dtime(9, 15), dtime(15, 30)
FEES = {"spot": (Decimal("0.001"), Decimal("0.001")), "usdm": (Decimal("0.0002"), Decimal("0.0005")),
        "NSE": (ZERO, ZERO), "NFO": (ZERO, ZERO)}


@dataclass
class Book:
    spec: Spec
    engine: MatchingEngine | None
    fair: float
    candles: CandleSeries
    last_u: int = 0
    trades: deque[PublicTrade] = field(default_factory=lambda: deque(maxlen=1000))
    last_price: Decimal | None = None
    last_qty: Decimal = ZERO
    last_trade_ns: int = 0
    day_open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    prev_close: Decimal = ZERO
    volume: Decimal = ZERO
    value: Decimal = ZERO
    oi: Decimal = ZERO
    oi_high: Decimal = ZERO
    oi_low: Decimal = ZERO
    changes: int = 0  # bumped by anything a summary or the top of the depth could show (see Exchange.changes)

    @property
    def key(self) -> tuple[str, str]:
        return self.spec.market, self.spec.instrument.symbol


@dataclass
class OrderRecord:
    new: NewOrder
    order_id: int
    created_ns: int
    states: list[OrderState] = field(default_factory=list)
    filled: Decimal = ZERO
    cum_quote: Decimal = ZERO
    quantity: Decimal = ZERO
    price: Decimal | None = None
    locked_asset: str = ""
    locked: Decimal = ZERO

    @property
    def state(self) -> OrderState:
        return self.states[-1]


class Exchange:
    """See the module docstring. Not thread-safe: use it from one asyncio loop."""

    def __init__(self, seed: int = 7, clock_ns: Callable[[], int] = time.time_ns, nse_always_open: bool = True,
                 today: date | None = None, history_minutes: int = 2 * 24 * 60) -> None:
        from .markets.flow import Simulator  # the simulation drives this exchange

        self.now_ns = clock_ns  # type: ignore[method-assign]
        self.nse_always_open = nse_always_open
        self.accounts: dict[str, Account] = demo_accounts()
        self.books: dict[tuple[str, str], Book] = {}
        self.records: dict[int, OrderRecord] = {}
        self._internal: dict[int, tuple[str, str]] = {}
        self._by_client: dict[tuple[str, str], int] = {}
        self._listeners: list[ExchangeListener] = []
        self._ids = itertools.count(1_000_001)
        self._trade_ids = itertools.count(5_000_001)
        self._seq = itertools.count(1)
        today = today or datetime.fromtimestamp(clock_ns() / 1e9, IST).date()
        for spec in binance_specs() + nse_specs(today):
            maker, taker = FEES[spec.market]
            engine = MatchingEngine(spec.instrument.symbol, maker, taker, self._trade_ids) if spec.has_book else None
            self.books[(spec.market, spec.instrument.symbol)] = Book(spec, engine, spec.start_price, CandleSeries())
        self.sim = Simulator(self, seed, history_minutes)
        self._task: asyncio.Task[None] | None = None

    # lifecycle ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Run the market simulation on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.sim.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def nse_open(self) -> bool:
        if self.nse_always_open:
            return True
        now = datetime.fromtimestamp(self.now_ns() / 1e9, IST)
        return now.weekday() < 5 and NSE_OPEN <= now.time() < NSE_CLOSE

    # queries --------------------------------------------------------------------------------------------
    def markets(self) -> list[Market]:
        return [Market(b.spec.market, b.spec.instrument.symbol, b.spec.instrument) for b in self.books.values()]

    def market(self, market: str, symbol: str) -> Market:
        book = self.books[(market, symbol)]
        return Market(market, symbol, book.spec.instrument)

    def add_listener(self, listener: ExchangeListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def order(self, account: str, market: str, symbol: str, order_id: int | None = None,
              client_order_id: str | None = None) -> OrderState:
        if order_id is None:
            order_id = self._by_client.get((account, client_order_id or ""))
        rec = self.records.get(order_id) if order_id is not None else None
        if rec is None or rec.new.account != account or rec.new.market != market or rec.new.symbol != symbol:
            raise KeyError(f"unknown order {order_id or client_order_id}")
        return rec.state

    def orders_of(self, account: str) -> list[OrderRecord]:
        return [r for r in self.records.values() if r.new.account == account]

    def orders(self, account: str, market: str | None = None, symbol: str | None = None, open_only: bool = False) -> list[OrderState]:
        return [r.state for r in self.orders_of(account) if market in (None, r.new.market) and symbol in (None, r.new.symbol)
                and (not open_only or r.state.status.is_working)]

    def order_history(self, account: str, order_id: int) -> list[OrderState]:
        rec = self.records.get(order_id)
        if rec is None or rec.new.account != account:
            raise KeyError(f"unknown order {order_id}")
        return list(rec.states)

    def fills(self, account: str, market: str | None = None, symbol: str | None = None) -> list[OrderState]:
        return [s for r in self.orders_of(account) if market in (None, r.new.market) and symbol in (None, r.new.symbol)
                for s in r.states if s.last_fill_quantity > 0]

    def depth(self, market: str, symbol: str, limit: int = 100) -> DepthSnapshot:
        book = self.books[(market, symbol)]
        bids, asks = book.engine.depth(limit) if book.engine else ([], [])
        return DepthSnapshot(market, symbol, book.last_u, tuple(bids), tuple(asks), self.now_ns())

    def summary(self, market: str, symbol: str) -> MarketSummary:
        return self.summary_with_depth(market, symbol, 5)[0]

    def summary_with_depth(self, market: str, symbol: str, limit: int = 5) -> tuple[MarketSummary, DepthSnapshot]:
        """The summary and the top `limit` (>= 5) levels from one walk of the book: the Kite ticker needs both for
        every full packet, and summing each level's orders twice was a third of its time."""
        book = self.books[(market, symbol)]
        inst = book.spec.instrument
        last = book.last_price if book.last_price is not None else inst.round_price(Decimal(repr(book.fair)), _NEAREST)
        all_bids, all_asks = book.engine.depth(max(limit, 5)) if book.engine else ([], [])
        bids, asks = all_bids[:5], all_asks[:5]
        avg = book.value / book.volume if book.volume else last
        summary = MarketSummary(market, symbol, last, book.last_qty, book.last_trade_ns, book.day_open or last, book.high or last,
                                book.low or last, book.prev_close or last, book.volume, inst.round_price(avg, _NEAREST),
                                bids[0][0] if bids else None, bids[0][1] if bids else ZERO, asks[0][0] if asks else None,
                                asks[0][1] if asks else ZERO, sum((q for _, q in bids), ZERO), sum((q for _, q in asks), ZERO),
                                book.oi, book.oi_high, book.oi_low)
        depth = DepthSnapshot(market, symbol, book.last_u, tuple(all_bids[:limit]), tuple(all_asks[:limit]), self.now_ns())
        return summary, depth

    def changes(self, market: str, symbol: str) -> int:
        """A counter that moves whenever the book's summary or depth may have changed (a command, a simulation step,
        a trade, an index move): a stream may reuse what it built from the book while it stays put."""
        return self.books[(market, symbol)].changes

    def recent_trades(self, market: str, symbol: str, limit: int = 500) -> list[PublicTrade]:
        return list(self.books[(market, symbol)].trades)[-limit:]

    def candles(self, market: str, symbol: str, interval_s: int, start_ns: int, end_ns: int,
                origin_ns: int = 0) -> list[Candle]:
        return self.books[(market, symbol)].candles.query(interval_s, start_ns, end_ns, origin_ns)

    def balances(self, account: str) -> list[AccountBalance]:
        return self.accounts[account].balance_list()

    def positions(self, account: str) -> list[AccountPosition]:
        return self.accounts[account].position_list()

    def set_leverage(self, account: str, market: str, symbol: str, leverage: int) -> None:
        self.accounts[account].leverage[symbol] = leverage

    # commands -------------------------------------------------------------------------------------------
    def place(self, order: NewOrder) -> OrderState:
        """Place a user order; a refusal comes back as a REJECTED state with the reason."""
        order_id = next(self._ids)
        now = self.now_ns()
        rec = OrderRecord(order, order_id, now, quantity=order.quantity, price=order.price)
        self.records[order_id] = rec
        if order.client_order_id:
            self._by_client[(order.account, order.client_order_id)] = order_id
        book = self.books.get((order.market, order.symbol))
        problem = self._precheck(order, book)
        if problem is None:
            assert book is not None
            quantity = self._market_buy_quantity(order, book) if order.quote_quantity is not None else order.quantity
            rec.quantity = quantity
            problem = self._lock(rec, book) if quantity > 0 else "quantity below the step for that quote amount"
        if problem is not None:
            self._state(rec, OrderStatus.REJECTED, reason=problem)
            return rec.state
        assert book is not None and book.engine is not None
        engine_order = EngineOrder(order_id, order.account, order.side, order.order_type, rec.quantity, order.price,
                                   order.trigger_price, order.time_in_force, order.post_only, order.client_order_id)
        self._process(book, book.engine.submit(engine_order))
        self._publish_depth(book)
        return rec.state

    def cancel(self, account: str, market: str, symbol: str, order_id: int) -> OrderState:
        rec = self.records.get(order_id)
        if rec is None or rec.new.account != account or (rec.new.market, rec.new.symbol) != (market, symbol):
            raise KeyError(f"unknown order {order_id}")
        if rec.state.status.is_terminal:
            return replace(rec.state, reject_reason="order is not open")
        book = self.books[(market, symbol)]
        assert book.engine is not None
        self._process(book, book.engine.cancel(order_id))
        self._publish_depth(book)
        return rec.state

    def amend(self, account: str, market: str, symbol: str, order_id: int, price: Decimal | None, quantity: Decimal | None,
              trigger_price: Decimal | None) -> OrderState:
        rec = self.records.get(order_id)
        if rec is None or rec.new.account != account or (rec.new.market, rec.new.symbol) != (market, symbol):
            raise KeyError(f"unknown order {order_id}")
        book = self.books[(market, symbol)]
        assert book.engine is not None
        if order_id in book.engine.stops:  # a waiting stop: replace it with the new terms
            self._process(book, book.engine.cancel(order_id), quiet=True)
            new = replace(rec.new, price=price or rec.new.price, quantity=quantity or rec.quantity,
                          trigger_price=trigger_price or rec.new.trigger_price)
            rec.new, rec.quantity, rec.price = new, new.quantity, new.price
            self._state(rec, OrderStatus.OPEN)
            self._process(book, book.engine.submit(EngineOrder(order_id, account, new.side, new.order_type, new.quantity,
                                                               new.price, new.trigger_price, new.time_in_force)), quiet=True)
            return rec.state
        events = book.engine.amend(order_id, price, quantity)
        self._process(book, events)
        self._publish_depth(book)
        return rec.state

    # internal accounts (the simulation) -------------------------------------------------------------------
    def internal_submit(self, book: Book, order: EngineOrder) -> list[ExecEvent]:
        assert book.engine is not None
        events = book.engine.submit(order)
        if order.order_type is OrderType.LIMIT and any(isinstance(e, Accepted) for e in events):
            self._internal[order.order_id] = book.key
        self._process(book, events)
        return events

    def internal_cancel(self, book: Book, order_id: int) -> None:
        assert book.engine is not None
        self._process(book, book.engine.cancel(order_id))

    def new_id(self) -> int:
        return next(self._ids)

    def step_done(self, book: Book) -> None:
        """Called by the simulation after it changed a book."""
        self._publish_depth(book)

    def set_index(self, book: Book, value: float) -> None:
        """Move an index (no book): last price, stats and candles follow the value."""
        price = book.spec.instrument.round_price(Decimal(repr(value)), _NEAREST)
        book.fair = value
        book.last_price = price
        self._stats(book, price, ZERO, self.now_ns())

    # engine events ----------------------------------------------------------------------------------------
    def _process(self, book: Book, events: list[ExecEvent], quiet: bool = False) -> None:
        for event in events:
            if isinstance(event, Trade):
                self._trade(book, event)
                continue
            rec = self.records.get(event.order_id)
            if rec is None:
                if isinstance(event, (Cancelled, Expired)):
                    self._internal.pop(event.order_id, None)
                continue
            if isinstance(event, Accepted) and not quiet:
                self._state(rec, OrderStatus.OPEN)
            elif isinstance(event, Rejected):
                self._release(rec)
                self._state(rec, OrderStatus.REJECTED, reason=_REASONS.get(event.reason.value, event.reason.value))
            elif isinstance(event, Cancelled):
                self._release(rec)
                if not quiet:
                    self._state(rec, OrderStatus.CANCELLED)
            elif isinstance(event, Expired):
                self._release(rec)
                self._state(rec, OrderStatus.EXPIRED, reason=_REASONS.get(event.reason.value, event.reason.value))
            elif isinstance(event, Amended):
                rec.quantity, rec.price = event.quantity, event.price
                self._relock(rec, book)
                self._state(rec, rec.state.status)
            elif isinstance(event, Triggered):
                continue

    def _trade(self, book: Book, trade: Trade) -> None:
        now = self.now_ns()
        assert book.engine is not None
        if trade.maker_order_id in self._internal and trade.maker_order_id not in book.engine.resting:
            del self._internal[trade.maker_order_id]  # a filled market-maker level: the simulation will replace it
        book.trades.append(PublicTrade(book.spec.market, book.spec.instrument.symbol, trade.trade_id, trade.price, trade.quantity,
                                       trade.taker_side is Side.BUY, now))
        self._stats(book, trade.price, trade.quantity, now)
        for order_id, fee, maker in ((trade.maker_order_id, trade.maker_fee, True), (trade.taker_order_id, trade.taker_fee, False)):
            rec = self.records.get(order_id)
            if rec is None:
                continue
            rec.filled += trade.quantity
            rec.cum_quote += trade.price * trade.quantity
            self._settle(rec, book, trade.price, trade.quantity, fee)
            status = OrderStatus.FILLED if rec.filled >= rec.quantity else OrderStatus.PARTIALLY_FILLED
            if status is OrderStatus.FILLED:
                self._release(rec)
            self._state(rec, status, fill=(trade.quantity, trade.price, trade.trade_id, fee, maker))
        for listener in list(self._listeners):
            _safe(listener.on_trade, book.trades[-1])

    def _stats(self, book: Book, price: Decimal, qty: Decimal, now: int) -> None:
        book.changes += 1
        book.last_price, book.last_qty, book.last_trade_ns = price, qty, now
        book.day_open = book.day_open or price
        book.high = price if book.high is None else max(book.high, price)
        book.low = price if book.low is None else min(book.low, price)
        book.volume += qty
        book.value += qty * price
        book.candles.update(now, float(price), float(qty), float(book.oi) if book.oi else None)

    def _state(self, rec: OrderRecord, status: OrderStatus, reason: str = "",
               fill: tuple[Decimal, Decimal, int, Decimal, bool] | None = None) -> None:
        qty, price, trade_id, fee, maker = fill or (ZERO, ZERO, 0, ZERO, False)
        new = rec.new
        state = OrderState(
            new.account, new.market, new.symbol, rec.order_id, new.client_order_id, new.side, new.order_type, new.time_in_force,
            status, rec.price, new.trigger_price, rec.quantity, rec.filled, rec.cum_quote,
            rec.cum_quote / rec.filled if rec.filled else None, rec.created_ns, self.now_ns(), reason, new.tag, qty, price,
            trade_id, fee, _fee_asset(new.market, new.symbol) if fill else "", maker, next(self._seq))
        rec.states.append(state)
        for listener in list(self._listeners):
            _safe(listener.on_order, state)

    def _publish_depth(self, book: Book) -> None:
        book.changes += 1  # after every command and simulation step (the fair value or open interest may have moved too)
        if book.engine is None:
            return
        changes = book.engine.drain_changes()
        if changes is None:
            return
        _, bids, asks = changes
        first = book.last_u + 1
        last = book.last_u + len(bids) + len(asks)
        update = DepthUpdate(book.spec.market, book.spec.instrument.symbol, first, last, book.last_u, tuple(bids), tuple(asks),
                             self.now_ns())
        book.last_u = last
        for listener in list(self._listeners):
            _safe(listener.on_depth, update)

    # funds ----------------------------------------------------------------------------------------------
    def _precheck(self, order: NewOrder, book: Book | None) -> str | None:
        if book is None:
            return f"unknown symbol {order.symbol} on {order.market}"
        if book.engine is None:
            return f"{order.symbol} is an index and cannot be traded"
        if order.market in ("NSE", "NFO") and not self.nse_open():
            return "market closed: NSE trades 09:15-15:30 IST on weekdays"
        if order.reduce_only:
            pos = self.accounts[order.account].position(order.market, order.symbol, "USDM").quantity
            if pos == 0 or (pos > 0) == (order.side is Side.BUY) or order.quantity > abs(pos):
                return "ReduceOnly Order is rejected: it would not reduce the position"
        if order.order_type is OrderType.MARKET and order.side is Side.BUY and book.engine.best_ask() is None:
            return "no liquidity for a market order"
        return None

    def _market_buy_quantity(self, order: NewOrder, book: Book) -> Decimal:
        assert book.engine is not None and order.quote_quantity is not None
        ask = book.engine.best_ask() or Decimal(1)
        step = book.spec.instrument.lot_size
        return (order.quote_quantity / ask / step).to_integral_value(rounding=ROUND_DOWN) * step

    def _lock(self, rec: OrderRecord, book: Book) -> str | None:
        order, account = rec.new, self.accounts.get(rec.new.account)
        if account is None:
            return f"unknown account {rec.new.account}"
        asset, amount = self._requirement(rec, book)
        if amount <= 0:
            return None
        if not account.lock(asset, amount):
            return (f"insufficient balance: needs {amount.quantize(Decimal('0.01'))} {asset.replace('-FUT', '')}, "
                    f"free {account.free(asset).quantize(Decimal('0.01'))}")
        rec.locked_asset, rec.locked = asset, amount
        return None

    def _requirement(self, rec: OrderRecord, book: Book) -> tuple[str, Decimal]:
        order, inst, engine = rec.new, book.spec.instrument, book.engine
        assert engine is not None
        ref = order.price or order.trigger_price or (engine.best_ask() if order.side is Side.BUY else engine.best_bid()) \
            or book.last_price or Decimal(repr(book.fair))
        remaining = rec.quantity - rec.filled
        if order.market == "spot":
            if order.side is Side.BUY:
                slack = Decimal("1.05") if order.order_type is OrderType.MARKET else Decimal("1.001")
                return inst.quote_currency, ref * remaining * slack
            return inst.base_currency, remaining
        if order.market == "usdm":
            leverage = Decimal(self.accounts[order.account].leverage.get(order.symbol, 20))
            return "USDT-FUT", ref * remaining / leverage
        value = ref * remaining * inst.multiplier
        if inst.kind is InstrumentKind.FUTURE or (inst.kind is InstrumentKind.OPTION and order.side is Side.SELL):
            return "INR", value * Decimal("0.15")
        return "INR", value if order.side is Side.BUY else ZERO

    def _release(self, rec: OrderRecord) -> None:
        account = self.accounts.get(rec.new.account)
        if account is not None and rec.locked > 0:
            account.unlock(rec.locked_asset, rec.locked)
        rec.locked = ZERO

    def _relock(self, rec: OrderRecord, book: Book) -> None:
        """After an amend: lock what the new terms need (as much as is free; the engine already accepted it)."""
        self._release(rec)
        asset, amount = self._requirement(rec, book)
        account = self.accounts[rec.new.account]
        amount = min(amount, account.free(asset))
        if amount > 0 and account.lock(asset, amount):
            rec.locked_asset, rec.locked = asset, amount

    def _settle(self, rec: OrderRecord, book: Book, price: Decimal, qty: Decimal, fee: Decimal) -> None:
        account = self.accounts.get(rec.new.account)
        if account is None or rec.new.account in INTERNAL:
            return
        inst, side, notional = book.spec.instrument, rec.new.side, price * qty
        market = rec.new.market
        if market == "spot":
            base, quote = inst.base_currency, inst.quote_currency
            if side is Side.BUY:
                used = min(rec.locked, notional + fee)
                account.spend_locked(quote, notional + fee)
                rec.locked -= used
                account.credit(base, qty)
            else:
                used = min(rec.locked, qty)
                account.spend_locked(base, qty)
                rec.locked -= used
                account.credit(quote, notional - fee)
            return
        product = "USDM" if market == "usdm" else rec.new.extra.get("product", "MIS")
        realised = account.position(market, rec.new.symbol, product).apply(qty if side is Side.BUY else -qty, price)
        if market == "usdm":
            account.credit("USDT-FUT", realised - fee)
        elif inst.kind is InstrumentKind.FUTURE:
            account.credit("INR", realised)
        else:  # cash equity and option premium move cash
            account.credit("INR", -notional if side is Side.BUY else notional)
            if side is Side.BUY and rec.locked > 0:
                taken = min(rec.locked, notional)
                account.unlock("INR", taken)
                rec.locked -= taken


_NEAREST = Rounding.NEAREST
_REASONS = {
    "WOULD_CROSS": "post-only order would immediately match and take",
    "FOK_UNFILLABLE": "FOK order could not be filled in full",
    "NO_LIQUIDITY": "no more liquidity for the market order",
    "IOC": "IOC remainder expired",
    "SELF_TRADE": "expired to prevent a self-trade",
    "QTY_INVALID": "invalid quantity",
    "PRICE_INVALID": "invalid price",
    "AMEND_BELOW_FILLED": "cannot reduce below the filled quantity",
    "UNKNOWN_ORDER": "unknown order",
}


def _fee_asset(market: str, symbol: str) -> str:
    return {"spot": "USDT", "usdm": "USDT"}.get(market, "INR")


def _safe(callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("exchange listener failed")

