"""Backtest/emulator parity: the EMA crossover sample makes the same trades (side, quantity, price, fee,
in order) in the backtester and on the emulator's exchange, for the same bars.

Design (the cheapest route that is still faithful): the emulator's Exchange (the venue behind its
Binance and Kite servers; one core.matching engine per book) runs in-process with its simulation
stopped, and its BTCUSDT spot book emptied of the market maker's orders. A small replayer plays the
bars into it as the backtester's market model describes the market (core/backtest/exchange.py and
engine.py): each bar visits open, low, high, close (open, high, low, close for a down bar); at each
price p the market trades at p, which fills our resting orders it reaches and triggers our stops, and
an order that arrives meets a quote at p for its whole quantity. On the emulator "the market trades
at p" is real engine traffic from its internal accounts: IOC takers at p sweep our resting orders,
then a one-step print at p between "flow" and "mm" moves the engine's last price (the print is made
on the side whose quote our triggered stops need, and the rest of that quote is withdrawn after);
"a quote at p" is an "mm" order at p sized to our order, posted just before it arrives and
withdrawn after. Our orders go through Exchange.place/cancel for the demo account, so the emulator's
own checks, balance locks, matching, stop handling and fees decide every fill. Time follows the
backtester with zero latency: venue reports reach the strategy before the next market event,
orders it sends then arrive at the last price, and orders sent in on_bar arrive after the next
bar's open trade.

The strategy runs in both places through the same StrategyRunner. The test fails if any fill
differs, and it checks that the comparison covered entries, exits and triggered stops.
"""
from __future__ import annotations

import logging
from collections import deque
from decimal import Decimal as D
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connectors.emulator.contract import DepthUpdate, NewOrder, OrderState, PublicTrade
from connectors.emulator.exchange import Book, Exchange
from core.backtest import Backtester, BarArrays, RateFees, random_walk_bars
from core.backtest.data import bar_feeds, price_path
from core.domain import (BarEvent, ClientOrderId, Fill, Instrument, InstrumentId, Order, OrderRequest, OrderStatus, OrderType,
                         Side, TimeInForce, Venue)
from core.matching import EngineOrder
from core.strategy import load_strategy_class
from core.strategy.api import order_type_for
from core.strategy.runner import StrategyRunner

EMA = Path(__file__).resolve().parents[2] / "resources" / "strategies" / "ema_crossover.py"
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
ACCOUNT, MARKET = "binance-demo", "spot"
BIG = D(1000)
T0 = 1_704_067_200 * 10**9
MINUTE = 60 * 10**9


class EmulatorReplay:
    """Plays bars into the emulator's exchange and carries a strategy's orders to it (module docstring)."""

    def __init__(self) -> None:
        self.now = T0
        self.exchange = Exchange(seed=1, clock_ns=lambda: self.now, history_minutes=1)
        self.book: Book = self.exchange.books[(MARKET, "BTCUSDT")]
        assert self.book.engine is not None
        self.engine = self.book.engine
        for order_id in list(self.engine.resting):
            self.exchange.internal_cancel(self.book, order_id)
        self.instrument: Instrument = self.book.spec.instrument
        self.reports: deque[OrderState] = deque()
        self.pending: deque[tuple[str, Any]] = deque()  # sent outside on_bar
        self.at_open: deque[tuple[str, Any]] = deque()  # sent in on_bar
        self.in_bar = False
        self.exchange.add_listener(self)
        self.runner: StrategyRunner | None = None
        self.ctx = EmulatorContext(self)

    # ExchangeListener
    def on_order(self, state: OrderState) -> None:
        if state.account == ACCOUNT:
            self.reports.append(state)

    def on_trade(self, trade: PublicTrade) -> None: ...
    def on_depth(self, update: DepthUpdate) -> None: ...

    # the market ---------------------------------------------------------------------------------------
    def internal(self, account: str, side: Side, quantity: D, price: D, tif: TimeInForce = TimeInForce.GTC) -> int:
        order_id = self.exchange.new_id()
        self.exchange.internal_submit(self.book, EngineOrder(order_id, account, side, OrderType.LIMIT, quantity, price,
                                                             time_in_force=tif))
        return order_id

    def withdraw(self, order_id: int) -> None:
        if order_id in self.engine.resting:
            self.exchange.internal_cancel(self.book, order_id)

    def trade_at(self, price: D) -> None:
        """The market trades at price: sweep our resting orders it reaches, print, trigger our stops."""
        self.internal("flow", Side.SELL, BIG, price, TimeInForce.IOC)
        self.internal("flow", Side.BUY, BIG, price, TimeInForce.IOC)
        buy_stops = any(o.side is Side.BUY and o.trigger_price is not None and price >= o.trigger_price
                        for o in self.engine.stops.values())
        side = Side.SELL if buy_stops else Side.BUY  # the side of the quote the triggered stops will take
        self.internal("flow", side.opposite, self.instrument.lot_size, price)
        self.withdraw(self.internal("mm", side, BIG, price))

    def arrive(self, sent: tuple[str, Any], price: D) -> None:
        """Deliver an order or cancel the strategy sent, an order meeting a quote at price."""
        kind, item = sent
        if kind == "cancel":
            state = self.exchange.order(ACCOUNT, MARKET, "BTCUSDT", client_order_id=item)
            if state.status.is_working:
                self.exchange.cancel(ACCOUNT, MARKET, "BTCUSDT", state.order_id)
            return
        request: OrderRequest = item.request
        quote = None
        if not request.order_type.has_trigger:
            quote = self.internal("mm", request.side.opposite, request.quantity, price)
        self.exchange.place(NewOrder(ACCOUNT, MARKET, "BTCUSDT", request.side, request.order_type, request.quantity,
                                     item.client_order_id, request.price, request.trigger_price, request.time_in_force))
        if quote is not None:
            self.withdraw(quote)

    def send(self, kind: str, item: Any) -> None:
        """Take an order or cancel from the strategy: sent in on_bar it arrives after the next open trade,
        otherwise (from a report, or on stop) before the next market event."""
        (self.at_open if self.in_bar else self.pending).append((kind, item))

    def settle(self, price: D) -> None:
        """Reports reach the strategy, then what it sent arrives at the last price, until all is quiet."""
        while self.reports or self.pending:
            if self.reports:
                self.report(self.reports.popleft())
            else:
                self.arrive(self.pending.popleft(), price)

    def report(self, state: OrderState) -> None:
        assert self.runner is not None
        self.ctx.learn(state)
        if state.last_fill_quantity > 0:
            self.runner.on_fill(Fill(ClientOrderId(state.client_order_id), str(state.order_id), str(state.last_trade_id), BTC,
                                     state.side, state.last_fill_quantity, state.last_fill_price, state.last_fee, "USDT",
                                     self.now))

    def run(self, strategy: type, params: dict[str, Any], bars: list[BarEvent]) -> list[OrderState]:
        """Replay the bars with the strategy; return the emulator's fills of the demo account, in order."""
        self.runner = StrategyRunner(strategy, self.ctx, params)
        self.runner.start()
        last = bars[0].open
        for bar in bars:
            for k, price in enumerate(price_path(bar)):
                self.now = bar.start_ns + (MINUTE // 3) * k if k < 3 else bar.start_ns + MINUTE - 1
                self.settle(last)
                self.trade_at(price)
                while k == 0 and self.at_open:
                    self.arrive(self.at_open.popleft(), price)
                last = price
            self.now = bar.start_ns + MINUTE
            while self.reports:
                self.report(self.reports.popleft())
            self.in_bar = True
            self.runner.on_bar(bar)
            self.in_bar = False
        self.runner.stop()
        self.settle(last)
        return self.exchange.fills(ACCOUNT, MARKET, "BTCUSDT")


class EmulatorContext:
    """The StrategyContext of the replay: orders built as BacktestContext builds them, sent to the emulator."""

    def __init__(self, replay: EmulatorReplay) -> None:
        self.replay = replay
        self.strategy_id = "parity"
        self.log = logging.getLogger("strategy.parity")
        self.working: dict[str, Order] = {}
        self._ids = count(1)

    def learn(self, state: OrderState) -> None:
        if state.status.is_terminal:
            self.working.pop(state.client_order_id, None)

    def now_ns(self) -> int:
        return self.replay.now

    def _order(self, side: Side, instrument_id: InstrumentId, quantity: D, price: D | None, order_type: OrderType | None,
               time_in_force: TimeInForce, trigger_price: D | None) -> Order:
        request = OrderRequest(instrument_id, side, quantity, order_type or order_type_for(price, trigger_price), price=price,
                               trigger_price=trigger_price, time_in_force=time_in_force, source="strategy:parity")
        order = Order(ClientOrderId(f"parity-{next(self._ids)}"), request, created_ns=self.replay.now)
        self.working[order.client_order_id] = order
        self.replay.send("order", order)
        return order

    def buy(self, instrument_id: InstrumentId, quantity: D, price: D | None = None, order_type: OrderType | None = None,
            time_in_force: TimeInForce = TimeInForce.GTC, trigger_price: D | None = None) -> Order:
        return self._order(Side.BUY, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def sell(self, instrument_id: InstrumentId, quantity: D, price: D | None = None, order_type: OrderType | None = None,
             time_in_force: TimeInForce = TimeInForce.GTC, trigger_price: D | None = None) -> Order:
        return self._order(Side.SELL, instrument_id, quantity, price, order_type, time_in_force, trigger_price)

    def cancel(self, client_order_id: str) -> bool:
        if client_order_id not in self.working:
            return False
        self.replay.send("cancel", client_order_id)
        return True

    def cancel_all(self, instrument_id: InstrumentId | None = None) -> int:
        return sum(self.cancel(cid) for cid in list(self.working))

    def record(self, name: str, value: float) -> None: ...


def replay_bars(count_: int, seed: int) -> tuple[Instrument, list[BarEvent]]:
    """Random-walk bars that gap at the open (so it matters whether an order arrives before or after the
    open trade), on the emulator instrument's tick, as the backtester itself reads them."""
    instrument = EmulatorReplay().instrument
    walk = random_walk_bars(BTC, "1m", count_, seed=seed, start_ns=T0, start_price=97_000.0)
    gaps = np.exp(np.random.default_rng(seed).normal(0.0, 0.0004, count_))
    opens = walk.open * gaps
    arrays = BarArrays(BTC, "1m", walk.start_ns, opens, np.maximum(walk.high, opens), np.minimum(walk.low, opens), walk.close,
                       walk.volume)
    feed = bar_feeds(arrays, {BTC: instrument})[0]
    return instrument, [feed.bar(i) for i in range(len(feed))]


@pytest.mark.parametrize("stop_pct", [0.0, 0.08])
def test_ema_crossover_trades_identically_in_the_backtester_and_on_the_emulator(stop_pct: float) -> None:
    instrument, bars = replay_bars(1500, seed=11)
    strategy = load_strategy_class(EMA)
    params = {"fast": 5, "slow": 13, "stop_pct": stop_pct}
    fees = RateFees(maker=D("0.001"), taker=D("0.001"))  # the emulator's spot fees
    result = Backtester(strategy, params, [instrument], bars, fee_model=fees).run()
    backtest = [(f.side, f.quantity, f.price, f.fee) for f in result.fills]

    replay = EmulatorReplay()
    fills = replay.run(strategy, params, bars)
    emulator = [(s.side, s.last_fill_quantity, s.last_fill_price, s.last_fee) for s in fills]

    assert len(backtest) > 40
    assert emulator == backtest
    assert {s.side for s in fills} == {Side.BUY, Side.SELL}
    stops = [s for s in fills if s.order_type is OrderType.STOP_MARKET]
    assert bool(stops) == (stop_pct > 0)
    assert all(s.status is OrderStatus.FILLED for s in fills)
