"""Backtester: replay bars or ticks through the matching engine and drive a strategy, unchanged.

Time and fills (the rules, stated once):
- A bar [start, end) is a path of four market trades: open at start, then the extremes at a third and
  two thirds of the bar, close at end - 1 ns; an up bar (close >= open) visits the low first, a down
  bar the high first (see data.price_path). The closed bar reaches the strategy at end, after its
  close and before the next bar's open. Ticks are trades (their last price) and quotes (bid/ask) at
  their ts_ns, then reach the strategy at the same time.
- An order or cancel the strategy sends at t reaches the venue at t + latency and meets the market as
  it stands then: the last trade at or before that instant (an arrival at the very instant of a trade
  comes after it). A market order fills at that price moved by the slippage model, so with zero
  latency an order sent on a bar's close fills at the next bar's open, and with a latency under a
  third of a bar still at that open. How the venue fills is core.backtest.exchange's rule (takers
  meet a quote; resting limits fill when later trades reach them).
- Reports (acks, fills, cancels) reach the strategy report latency after the venue made them, in
  time order with bars, ticks and timers; ties go to reports and timers before market data.
- Money (cash, fees, positions, the round trips) is booked at venue time; the equity curve is
  sampled after each bar slot (or tick), marked at the last price.
- At the end of the data the strategy is stopped (on_stop, then its order policy); what it sends then
  still reaches the venue and executes at the last price of its instrument. A strategy that fails
  (the runner stops it after max_errors) ends the replay early with status FAILED.

What the strategy receives: every bar (or tick) of the instruments it subscribes to (its
`instruments`, plus ctx.subscribe()), whatever its `timeframes` say: the data is the subscription.
Other instruments in the data still move their markets. Bars of several instruments must share a
timeframe; bars with the same start form a slot whose trades interleave by time. A slot with nothing
to simulate (no working order, nothing in flight, no report or timer due inside it) skips the path
and only delivers its bars, so quiet stretches cost little more than the strategy itself.

Threading: run() is a plain blocking call, meant for a worker thread or process. progress(fraction)
is called from that thread about a hundred times; cancel is anything with is_set() (a
threading.Event or multiprocessing.Event), checked as often.
"""
from __future__ import annotations

import heapq
import math
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.domain import BarEvent, Instrument, InstrumentId, Order, Tick
from core.strategy import Strategy, StrategyState, load_strategy_class
from core.strategy.runner import StrategyRunner

from .account import Account
from .context import BacktestContext
from .data import BarFeed, bar_feeds, is_tick_data, price_path, tick_stream
from .exchange import Execution, SimulatedExchange, SimulatedMarket
from .models import NO_FEES, NO_SLIPPAGE, FeeModel, Latency, SlippageModel
from .results import BacktestResult, RunStatus, compute_metrics

@dataclass(eq=False, slots=True)
class _Lane:
    """Per-instrument replay state, held directly so the hot loop does no InstrumentId lookups."""

    instrument_id: InstrumentId
    market: SimulatedMarket
    arrivals: deque[tuple[int, Order | str]] = field(default_factory=deque)
    last: Decimal | None = None
    mark: float = math.nan


Slot = tuple[tuple[_Lane, BarFeed, int], ...]


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


class Backtester:
    """One backtest of one strategy with one parameter set. Build it, then run() once."""

    def __init__(self, strategy_class: type[Strategy], params: dict[str, Any] | None, instruments: Sequence[Instrument],
                 data: object, *, latency_ns: int | Latency = 0, fee_model: FeeModel = NO_FEES,
                 slippage_model: SlippageModel = NO_SLIPPAGE, initial_cash: Decimal = Decimal(100_000),
                 progress: Callable[[float], None] | None = None, cancel: CancelFlag | None = None,
                 touch_fills: bool = True, periods_per_year: float | None = None, max_errors: int = 3,
                 strategy_id: str = "backtest") -> None:
        by_id = {i.id: i for i in instruments}
        if is_tick_data(data):
            self._ticks: list[Tick] = tick_stream(data, by_id)  # type: ignore[arg-type]
            self._feeds: list[BarFeed] = []
        else:
            self._ticks, self._feeds = [], bar_feeds(data, by_id)
        self.latency = Latency.of(latency_ns)
        self.initial_cash = initial_cash
        self.periods_per_year = periods_per_year
        self.exchange = SimulatedExchange(instruments, fee_model, slippage_model, touch_fills=touch_fills, id_prefix="BT")
        self.account = Account(instruments, initial_cash)
        self.ctx = BacktestContext(self, strategy_id, instruments, strategy_class.underlyings, strategy_class.instrument_ids())
        self.runner = StrategyRunner(strategy_class, self.ctx, params, max_errors=max_errors)
        self._lanes = {iid: _Lane(iid, self.exchange.market(iid)) for iid in by_id}
        self._progress = progress
        self._cancel = cancel
        self._now = 0
        self._heap: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = count()
        self._timer_ns = 0
        self._timer_gen = 0
        self._eq_ts: array[int] = array("q")
        self._eq: array[float] = array("d")
        self._eq_held: array[int] = array("b")
        self._ran = False

    # Broker (called by the context) ----------------------------------------------------------------
    def now_ns(self) -> int:
        return self._now

    def send(self, order: Order) -> None:
        self.runner.metrics.orders += 1
        self.exchange.register(order)
        self._lanes[order.instrument_id].arrivals.append((self._now + self.latency.to_venue_ns, order))
        self._push(self._now, self._report, Execution(order))

    def send_cancel(self, client_order_id: str) -> None:
        pending = self.exchange.request_cancel(client_order_id, self._now)
        if pending is None:
            return
        self._lanes[pending.order.instrument_id].arrivals.append((self._now + self.latency.to_venue_ns, client_order_id))
        self._push(self._now, self._report, pending)

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        lane = self._lanes.get(instrument_id)
        return None if lane is None else lane.last

    def set_timer(self, interval_ns: int) -> None:
        self._timer_gen += 1
        self._timer_ns = interval_ns
        if interval_ns > 0:
            self._push(self._now + interval_ns, self._fire_timer, self._timer_gen)

    # running ---------------------------------------------------------------------------------------
    def run(self) -> BacktestResult:
        """Replay all the data (or until cancelled or the strategy fails) and return the results."""
        if self._ran:
            raise RuntimeError("a Backtester runs once; build a new one")
        self._ran = True
        began = time.perf_counter()
        self._now = min(f.starts[0] for f in self._feeds) if self._feeds else self._ticks[0].ts_ns
        self._sample()
        self.runner.start()
        units = self._replay_ticks() if self._ticks else self._replay_bars()
        cancelled = self._cancel is not None and self._cancel.is_set()
        failed = self.runner.state is StrategyState.FAILED
        self.runner.stop()
        self._timer_gen += 1  # no timers after the end
        self._drain()
        self._sample()
        if self._progress is not None:
            self._progress(1.0)
        status = RunStatus.FAILED if failed else RunStatus.CANCELLED if cancelled else RunStatus.COMPLETED
        return self._result(status, units, time.perf_counter() - began)

    def _replay_bars(self) -> int:
        total = sum(len(f) for f in self._feeds)
        done = 0
        every = checkpoint = max(1, total // 100)
        heap, runner, subscribed = self._heap, self.runner, self.ctx.subscribed
        for slot in self._slots():
            if runner.state is StrategyState.FAILED:
                break
            _, feed, i = slot[0]
            start, end = feed.starts[i], feed.ends[i]
            busy = bool(heap) and heap[0][0] < end
            for lane, _, _ in slot:
                if busy or lane.arrivals or not lane.market.is_idle():
                    busy = True
                    break
            bars = [(lane, f.bar(j)) for lane, f, j in slot]
            if busy:
                self._walk(bars, start, end)
            for lane, bar in bars:
                if heap and heap[0][0] <= end:
                    self._catch_up(end)
                self._now = end
                lane.last = lane.market.last = bar.close
                lane.mark = float(bar.close)
                if lane.instrument_id in subscribed:
                    runner.on_bar(bar)
            self._sample()
            done += len(slot)
            if done >= checkpoint:
                checkpoint += every
                if self._interrupted(done / total):
                    break
        return done

    def _replay_ticks(self) -> int:
        total = len(self._ticks)
        every = max(1, total // 100)
        done = 0
        for tick in self._ticks:
            if self.runner.state is StrategyState.FAILED:
                break
            lane = self._lanes[tick.instrument_id]
            has_quote = tick.bid is not None or tick.ask is not None
            self._point(lane, tick.ts_ns, tick.last_price, (tick.bid, tick.ask) if has_quote else None)
            price = tick.last_price if tick.last_price is not None else tick.mid
            assert price is not None
            lane.last = price
            lane.mark = float(price)
            if tick.instrument_id in self.ctx.subscribed:
                self.runner.on_tick(tick)
            self._sample()
            done += 1
            if done % every == 0 and self._interrupted(done / total):
                break
        return done

    def _slots(self) -> Iterator[Slot]:
        feeds = self._feeds
        lanes = [self._lanes[f.instrument_id] for f in feeds]
        if len(feeds) == 1:
            lane, feed = lanes[0], feeds[0]
            return (((lane, feed, i),) for i in range(len(feed)))
        starts = np.concatenate([np.asarray(f.starts, dtype=np.int64) for f in feeds])
        which = np.concatenate([np.full(len(f), k) for k, f in enumerate(feeds)])
        index = np.concatenate([np.arange(len(f)) for f in feeds])
        order = np.lexsort((which, starts))
        starts, which, index = starts[order], which[order].tolist(), index[order].tolist()
        cuts = [0, *(np.flatnonzero(np.diff(starts)) + 1).tolist(), len(starts)]
        return (tuple((lanes[which[k]], feeds[which[k]], index[k]) for k in range(a, b)) for a, b in zip(cuts, cuts[1:]))

    def _walk(self, bars: list[tuple[_Lane, BarEvent]], start: int, end: int) -> None:
        span = end - start
        times = (start, start + span // 3, start + 2 * span // 3, end - 1)
        paths = [(lane, price_path(bar)) for lane, bar in bars]
        for k, t in enumerate(times):
            for lane, path in paths:
                self._point(lane, t, path[k], None)

    def _point(self, lane: _Lane, t: int, trade: Decimal | None,
               quote: tuple[Decimal | None, Decimal | None] | None) -> None:
        """The market acts at t: what is due before it runs first, then the trade/quote, then arrivals at t."""
        self._catch_up(t, lane)
        self._now = t
        exchange, iid = self.exchange, lane.instrument_id
        if quote is not None:
            self._book(exchange.on_quote(iid, quote[0], quote[1], t))
        if trade is not None:
            self._book(exchange.on_trade(iid, trade, t))
            lane.last = trade
        while lane.arrivals and lane.arrivals[0][0] <= t:
            self._arrive(lane)

    def _catch_up(self, t: int, lane: _Lane | None = None) -> None:
        """Run, in time order, the reports and timers due at or before t and the lane's arrivals before t
        (a report or timer goes first on a tie)."""
        heap = self._heap
        arrivals = lane.arrivals if lane is not None else None
        while True:
            event_at = heap[0][0] if heap else None
            if arrivals and arrivals[0][0] < t and (event_at is None or arrivals[0][0] < event_at):
                self._arrive(lane)  # type: ignore[arg-type]
            elif event_at is not None and event_at <= t:
                at, _, fn, arg = heapq.heappop(heap)
                self._now = at
                fn(arg)
            else:
                return

    def _arrive(self, lane: _Lane) -> None:
        """An order or cancel reaches the venue now (its arrival time, or the trade it waited for)."""
        at, item = lane.arrivals.popleft()
        self._now = max(self._now, at)
        now = self._now
        self._book(self.exchange.submit(item, now) if isinstance(item, Order) else self.exchange.cancel(item, now))

    def _drain(self) -> None:
        """After the data: let what is in flight arrive and execute at the last prices."""
        lanes = list(self._lanes.values())
        while True:
            due = min(((lane.arrivals[0][0], n) for n, lane in enumerate(lanes) if lane.arrivals), default=None)
            if due is not None:
                self._catch_up(due[0] + 1, lanes[due[1]])
            elif self._heap:
                self._catch_up(max(at for at, *_ in self._heap))
            else:
                return

    # events ----------------------------------------------------------------------------------------
    def _push(self, at: int, fn: Callable[[Any], None], arg: Any) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), fn, arg))

    def _book(self, executions: list[Execution]) -> None:
        delay = self.latency.to_strategy_ns
        for execution in executions:
            if execution.fill is not None:
                self.account.apply(execution.fill)
            self._push(self._now + delay, self._report, execution)

    def _report(self, execution: Execution) -> None:
        self.ctx.on_report(execution)
        self.runner.on_order(execution.order)
        if execution.fill is not None:
            self.runner.on_fill(execution.fill)

    def _fire_timer(self, generation: int) -> None:
        if generation != self._timer_gen:
            return
        self.runner.on_timer()
        if generation == self._timer_gen:
            self._push(self._now + self._timer_ns, self._fire_timer, generation)

    def _mark(self, instrument_id: InstrumentId) -> float:
        return self._lanes[instrument_id].mark

    def _sample(self) -> None:
        equity = self.account.equity(self._mark)
        held = self.account.in_market
        if self._eq_ts and self._eq_ts[-1] == self._now:
            self._eq[-1], self._eq_held[-1] = equity, held
        else:
            self._eq_ts.append(self._now)
            self._eq.append(equity)
            self._eq_held.append(held)

    def _interrupted(self, fraction: float) -> bool:
        if self._progress is not None:
            self._progress(fraction)
        return self._cancel is not None and self._cancel.is_set()

    def _result(self, status: RunStatus, units: int, elapsed: float) -> BacktestResult:
        ts = np.array(self._eq_ts, dtype=np.int64)
        equity = np.array(self._eq, dtype=np.float64)
        held = np.array(self._eq_held, dtype=bool)
        account = self.account
        marks = {iid: lane.last for iid, lane in self._lanes.items() if lane.last is not None}
        return BacktestResult(
            status=status, initial_cash=self.initial_cash, final_equity=account.exact_equity(marks),
            total_fees=account.fees, metrics=compute_metrics(ts, equity, held, account.trades, self.periods_per_year),
            trades=list(account.trades), fills=list(account.fills), orders=self.runner.metrics.orders,
            equity_ns=ts, equity=equity, in_market=held,
            open_positions=[p for p in account.positions.all() if p.quantity],
            records={k: (np.array(t, dtype=np.int64), np.array(v)) for k, (t, v) in self.ctx.records.items()},
            error=self.runner.last_error, strategy_errors=self.runner.metrics.errors, units=units, elapsed_s=elapsed)


def run_backtest(strategy_path: str | Path, params: dict[str, Any] | None, instruments: Sequence[Instrument], data: object,
                 *, class_name: str | None = None, **options: Any) -> BacktestResult:
    """Load a strategy script and backtest it: the plain, picklable entry point for a worker thread or
    process (options are Backtester's keyword arguments, progress and cancel included)."""
    strategy_class = load_strategy_class(Path(strategy_path), class_name)
    return Backtester(strategy_class, params, instruments, data, **options).run()
