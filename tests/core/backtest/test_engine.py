from __future__ import annotations

import logging
import math
import threading
from datetime import datetime, timezone
from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest
from sqbt_helpers import BTC, EMA_PATH, ETH, MINUTE, T0, Raiser, bars, flat_bars, scripted, spot

from core.backtest import BacktestResult, Backtester, BarArrays, Latency, RateFees, RunStatus, TickSlippage, random_walk_bars
from core.domain import BarEvent, Instrument, InstrumentId, InstrumentKind, OrderStatus, Tick, TimeInForce, Venue
from core.strategy import Strategy, StrategyState, load_strategy_class

SECOND = 10**9
# bar 1 is an up bar: open 101 at +1m, low 100 at +1m20s, high 103 at +1m40s, close 102 at +2m - 1ns
PATH = [("100", "100", "100", "100"), ("101", "103", "100", "102"), ("102", "102", "102", "102"),
        ("104", "104", "104", "104")]
BUY_FIRST = {0: [{"side": "buy", "quantity": D(1)}]}


def run(strategy: type[Strategy], data: object, instruments: list[Instrument] | None = None,
        **options: Any) -> tuple[Backtester, BacktestResult]:
    bt = Backtester(strategy, {}, instruments or [spot(BTC)], data, initial_cash=D(10_000), **options)
    return bt, bt.run()


@pytest.mark.parametrize("latency_s, price, fill_at", [(0, "101", 60), (10, "101", 70), (30, "100", 90),
                                                       (50, "103", 110)])
def test_latency_delays_the_order_and_the_report(latency_s: int, price: str, fill_at: int) -> None:
    bt, result = run(scripted(BUY_FIRST), bars(PATH), latency_ns=latency_s * SECOND)
    (fill,) = result.fills
    assert fill.price == D(price) and fill.ts_ns == T0 + fill_at * SECOND  # the path price current at arrival
    strategy = bt.runner.strategy
    assert [(t - T0) // SECOND for t, _ in strategy.fills] == [fill_at + latency_s]  # type: ignore[union-attr]
    heard = [(t, o.status) for t, o in strategy.orders]  # type: ignore[union-attr]
    assert heard[0] == (T0 + MINUTE, OrderStatus.PENDING_NEW) and heard[-1][1] is OrderStatus.FILLED


def test_asymmetric_latency() -> None:
    bt, result = run(scripted(BUY_FIRST), bars(PATH), latency_ns=Latency(to_venue_ns=0, to_strategy_ns=5 * SECOND))
    assert result.fills[0].ts_ns == T0 + MINUTE
    assert bt.runner.strategy.fills[0][0] == T0 + MINUTE + 5 * SECOND  # type: ignore[union-attr]


def test_fees_and_slippage_are_applied_and_money_adds_up() -> None:
    plan = {0: [{"side": "buy", "quantity": D(2)}], 2: [{"side": "sell", "quantity": D(2)}]}
    _, result = run(scripted(plan), bars(PATH), fee_model=RateFees(D("0.0002"), D("0.001")),
                    slippage_model=TickSlippage(2))
    buy, sell = result.fills
    assert (buy.price, sell.price) == (D("101.02"), D("103.98"))  # next open +- 2 ticks
    assert buy.fee == D("101.02") * 2 * D("0.001") and not buy.is_maker
    assert result.total_fees == buy.fee + sell.fee
    (trip,) = result.trades
    assert trip.pnl == (D("103.98") - D("101.02")) * 2 and trip.net_pnl == result.final_equity - D(10_000)
    assert result.metrics.win_rate == 1.0 and result.open_positions == []


def test_limit_orders_fill_at_their_price_when_the_bar_reaches_them_as_maker() -> None:
    plan = {0: [{"side": "buy", "quantity": D(1), "price": D("100.50")},
                {"side": "buy", "quantity": D(1), "price": D("99.00")}]}
    bt, result = run(scripted(plan), bars(PATH), fee_model=RateFees(D("0.0002"), D("0.001")))
    (fill,) = result.fills
    assert fill.price == D("100.50") and fill.is_maker and fill.ts_ns == T0 + 80 * SECOND  # at the low
    assert fill.fee == D("100.50") * D("0.0002")
    assert bt.exchange.open_orders() == []  # the 99 bid never filled and was cancelled when the strategy stopped
    assert [o.status for o in bt.exchange.orders.values()] == [OrderStatus.FILLED, OrderStatus.CANCELLED]
    assert result.open_positions[0].quantity == D(1)
    assert result.final_equity == D(10_000) - D("100.50") - fill.fee + D(104)  # marked at the last close


def test_post_only_that_would_cross_is_rejected_and_the_strategy_hears_it() -> None:
    plan = {0: [{"side": "buy", "quantity": D(1), "price": D("100.00"), "time_in_force": TimeInForce.GTX}]}
    bt, result = run(scripted(plan), flat_bars(3))
    assert result.fills == [] and bt.runner.strategy.orders[-1][1].status is OrderStatus.REJECTED  # type: ignore[union-attr]


def test_refused_order_is_logged_and_never_sent(caplog: pytest.LogCaptureFixture) -> None:
    plan = {0: [{"side": "buy", "quantity": D(1), "price": D("100.005")}, {"side": "buy", "quantity": D("0.0001")}]}
    with caplog.at_level(logging.ERROR):
        bt, result = run(scripted(plan), flat_bars(3))
    assert bt.runner.strategy.placed == [None, None] and result.orders == 0  # type: ignore[union-attr]
    assert bt.ctx.refused == 2 and "off the tick" in caplog.text and bt.runner.state is StrategyState.STOPPED


def test_a_strategy_that_raises_is_stopped_and_the_backtest_ends_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.CRITICAL):
        bt, result = run(Raiser, flat_bars(50))
    assert result.status is RunStatus.FAILED and "boom" in result.error and result.strategy_errors == 3
    assert result.units == 5  # the replay stopped at the bar where the strategy failed
    assert bt.runner.state is StrategyState.FAILED
    (order,) = bt.exchange.orders.values()
    assert order.status is OrderStatus.CANCELLED  # the runner's cancel policy reached the venue
    assert result.final_equity == D(10_000) and len(result.equity) == 6  # the start and five bars


def test_progress_and_cancel_flag() -> None:
    seen: list[float] = []
    flag = threading.Event()

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction >= 0.3:
            flag.set()

    _, result = run(scripted({}), flat_bars(1000), progress=progress, cancel=flag)
    assert result.status is RunStatus.CANCELLED and result.units == 300
    assert seen == [k / 100 for k in range(1, 31)] + [1.0]


def test_timer_fires_in_simulated_time_and_orders_from_it_meet_the_current_price() -> None:
    class Timed(Strategy):
        instruments = ("BTCUSDT.BINANCE",)

        def on_start(self) -> None:
            self.ticks: list[int] = []
            self.ctx.set_timer(25)

        def on_timer(self) -> None:
            self.ticks.append(self.ctx.now_ns())
            if len(self.ticks) == 3:
                self.ctx.buy(self.instrument_ids()[0], D(1))
                self.ctx.set_timer(0)

    bt, result = run(Timed, bars(PATH))
    assert [(t - T0) // SECOND for t in bt.runner.strategy.ticks] == [25, 50, 75]  # type: ignore[union-attr]
    assert result.fills[0].price == D("101") and result.fills[0].ts_ns == T0 + 75 * SECOND  # open 101 (60s) is current


def test_bars_of_two_instruments_interleave_and_unsubscribed_ones_only_move_the_market() -> None:
    eth_path = [("10", "10", "10", "10"), ("11", "11", "9", "9"), ("9", "9", "9", "9"), ("8", "8", "8", "8")]
    plan = {0: [{"side": "buy", "quantity": D(1)}, {"side": "sell", "quantity": D(1), "instrument_id": ETH}]}
    data = bars(PATH) + bars(eth_path, ETH)
    bt, result = run(scripted(plan), data, [spot(BTC), spot(ETH)])
    assert bt.runner.strategy.seen == 4  # ETH bars are not subscribed: on_bar only hears BTC  # type: ignore[union-attr]
    assert sorted((f.instrument_id.symbol, f.price) for f in result.fills) == [("BTCUSDT", D(101)), ("ETHUSDT", D(11))]
    assert result.final_equity == D(10_000) + (D(104) - D(101)) + (D(11) - D(8))
    with pytest.raises(ValueError, match="one timeframe"):
        Backtester(scripted({}), {}, [spot(BTC), spot(ETH)], bars(PATH) + [
            BarEvent(ETH, "5m", T0, D(1), D(1), D(1), D(1), D(1), True)])


def test_ticks_drive_trades_and_quotes() -> None:
    class Quoter(Strategy):
        instruments = ("BTCUSDT.BINANCE",)

        def on_start(self) -> None:
            self.count = 0

        def on_tick(self, tick: Tick) -> None:
            self.count += 1
            if self.count == 1:
                self.ctx.buy(tick.instrument_id, D(1), D("99.50"))
                self.ctx.sell(tick.instrument_id, D(1))

    ticks = [Tick(BTC, T0, last_price=D(100), bid=D("99.90"), ask=D("100.10")),
             Tick(BTC, T0 + SECOND, bid=D("99.80"), ask=D("100.00")),
             Tick(BTC, T0 + 2 * SECOND, last_price=D("99.40")),
             Tick(BTC, T0 + 3 * SECOND, last_price=D("99.60"))]
    bt, result = run(Quoter, ticks, latency_ns=SECOND // 2)
    sell, buy = result.fills
    assert sell.price == D("99.90") and sell.ts_ns == T0 + SECOND // 2  # the bid current on arrival
    assert buy.price == D("99.50") and buy.is_maker and buy.ts_ns == T0 + 2 * SECOND
    assert bt.runner.strategy.count == 4 and len(result.equity) == 4  # type: ignore[union-attr]


def test_event_input_and_column_input_replay_identically() -> None:
    cls = load_strategy_class(EMA_PATH)
    columns = random_walk_bars(BTC, "1m", 3000, seed=3)
    feed = Backtester(cls, {}, [spot(BTC)], columns)._feeds[0]
    events = [feed.bar(i) for i in range(len(columns))]
    a = Backtester(cls, {"fast": 5, "slow": 13}, [spot(BTC)], columns, latency_ns=10**8).run()
    b = Backtester(cls, {"fast": 5, "slow": 13}, [spot(BTC)], events, latency_ns=10**8).run()
    assert a.fills == b.fills and a.final_equity == b.final_equity and len(a.fills) > 10
    assert BarArrays.from_events(events).close.tolist() == [float(e.close) for e in events]


def test_ema_crossover_over_a_synthetic_year_of_15_minute_bars() -> None:
    cls = load_strategy_class(EMA_PATH)
    year = random_walk_bars(BTC, "15m", 365 * 96, seed=7)
    bt = Backtester(cls, {}, [spot(BTC)], year, latency_ns=50_000_000, fee_model=RateFees(D("0.0002"), D("0.001")),
                    slippage_model=TickSlippage(1), initial_cash=D(100_000))
    result = bt.run()
    m = result.metrics
    assert result.status is RunStatus.COMPLETED and result.units == 35_040
    assert len(result.trades) > 300 and len(result.fills) == 2 * len(result.trades) == result.orders
    assert all(t.side.value == "BUY" and t.quantity == D("0.01") for t in result.trades)  # long only, fixed size
    assert result.open_positions == []  # on_stop flattened
    assert result.final_equity == D(100_000) + sum((t.net_pnl for t in result.trades), D(0))
    assert result.total_fees == sum((f.fee for f in result.fills), D(0)) > 0
    assert len(result.equity) == result.units + 2 and math.isclose(result.equity[-1], float(result.final_equity))
    assert 0.2 < m.exposure < 0.8 and 0 < m.win_rate < 1 and 0 < m.max_drawdown < 0.1
    assert math.isfinite(m.sharpe) and math.isfinite(m.sortino) and m.periods_per_year == 365 * 96
    ts, diff = result.records["ema_diff"]
    assert len(ts) == result.units - 20 and ts[0] == T0 + 21 * 15 * MINUTE  # recorded once warmed up


def test_ema_crossover_over_a_week_of_1_minute_bars() -> None:
    cls = load_strategy_class(EMA_PATH)
    result = Backtester(cls, {}, [spot(BTC)], random_walk_bars(BTC, "1m", 7 * 1440, seed=11), latency_ns=10**8).run()
    assert result.status is RunStatus.COMPLETED and result.units == 10_080 and len(result.trades) > 100
    buys = [f for f in result.fills if f.side.value == "BUY"]
    assert all((f.ts_ns - T0) % MINUTE == 10**8 for f in buys)  # each fills 100 ms after a bar closed: at its open


def test_same_seed_gives_identical_trades() -> None:
    cls = load_strategy_class(EMA_PATH)

    def once(seed: int) -> list[tuple[str, D, D, int]]:
        data = random_walk_bars(BTC, "1h", 24 * 365, seed=seed)
        result = Backtester(cls, {}, [spot(BTC)], data, latency_ns=10**9, slippage_model=TickSlippage(1)).run()
        return [(f.trade_id, f.price, f.quantity, f.ts_ns) for f in result.fills]

    first = once(5)
    assert first == once(5) and first != once(6) and len(first) > 50


def test_the_market_making_sample_runs_unchanged_on_ticks() -> None:
    cls = load_strategy_class(EMA_PATH.with_name("market_making_sketch.py"))
    walk = np.round(40_000 + np.cumsum(np.random.default_rng(4).normal(0, 0.05, 1500)), 2)
    ticks = [Tick(BTC, T0 + k * 10**8, last_price=D(f"{m:.2f}"), bid=D(f"{m - 0.01:.2f}"), ask=D(f"{m + 0.01:.2f}"))
             for k, m in enumerate(walk.tolist())]
    bt, result = run(cls, ticks, latency_ns=5_000_000)
    assert result.status is RunStatus.COMPLETED and result.orders > 100 and len(result.fills) > 10
    assert all(f.is_maker for f in result.fills)  # it only quotes: every fill is a resting order taken out
    held = sum((f.side.sign * f.quantity for f in result.fills), D(0))
    assert abs(held) <= D("0.01") and bt.exchange.open_orders() == []  # within max_inventory; quotes cancelled at stop


def test_the_opening_range_breakout_sample_finds_its_future_and_trades_a_day() -> None:
    future = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY24JANFUT"), InstrumentKind.FUTURE, "NFO", D("0.05"), D(75),
                        underlying="NIFTY", expiry=datetime(2024, 1, 25, tzinfo=timezone.utc))
    open_ist = int(datetime(2024, 1, 2, 3, 45, tzinfo=timezone.utc).timestamp()) * SECOND  # 09:15 IST
    rows = [(101, 102, 100, 101)] * 15 + [(101, 103, 101, 103)] + [(104,) * 4] * 344 + [(106,) * 4] * 15
    o, h, l, c = (np.array(col, dtype=float) for col in zip(*rows))
    day = BarArrays(future.id, "1m", open_ist + MINUTE * np.arange(len(rows)), o, h, l, c, np.ones(len(rows)))
    cls = load_strategy_class(EMA_PATH.with_name("opening_range_breakout.py"))
    _, result = run(cls, day, [future])
    (trip,) = result.trades
    assert (trip.side.value, trip.quantity, trip.entry_price, trip.exit_price) == ("BUY", D(75), D(104), D(106))
    assert trip.entry_ns == open_ist + 16 * MINUTE and trip.exit_ns == open_ist + 361 * MINUTE  # 15:16 IST
    assert result.final_equity == D(10_000) + 2 * 75
