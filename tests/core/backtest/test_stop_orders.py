"""Stop orders through the strategy context: ctx.buy/sell with trigger_price make stop-market and
stop-limit orders that wait for the market to trade through the trigger."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from sqbt_helpers import BTC, MINUTE, T0, bars, scripted, spot

from core.backtest import Backtester, BacktestResult
from core.domain import OrderStatus, OrderType, Side
from core.strategy import Strategy

SECOND = 10**9
# bar 1 (up): open 101 at +1m, low 100 at +1m20s, high 103 at +1m40s, close 102; bar 2 (down): 102, 104, 99, 99.5
PATH = [("100", "100", "100", "100"), ("101", "103", "100", "102"), ("102", "104", "99", "99.5"),
        ("99.5", "99.5", "99.5", "99.5")]


def run(plan: dict[int, list[dict[str, Any]]]) -> tuple[Strategy, BacktestResult]:
    bt = Backtester(scripted(plan), {}, [spot(BTC)], bars(PATH), initial_cash=D(10_000))
    result = bt.run()
    assert bt.runner.strategy is not None
    return bt.runner.strategy, result


def test_a_buy_stop_waits_for_a_trade_at_or_above_its_trigger_then_buys_at_the_market() -> None:
    strategy, result = run({0: [{"side": "buy", "quantity": D(1), "trigger_price": D("102.5")}]})
    (order,) = strategy.placed  # type: ignore[attr-defined]
    assert order.request.order_type is OrderType.STOP_MARKET and order.request.trigger_price == D("102.5")
    (fill,) = result.fills
    assert fill.side is Side.BUY and fill.price == D(103) and fill.ts_ns == T0 + MINUTE + 40 * SECOND  # the high


def test_a_sell_stop_limit_triggers_on_the_way_down_and_rests_at_its_limit() -> None:
    strategy, result = run({0: [{"side": "sell", "quantity": D(1), "trigger_price": D("100"), "price": D("99.8")}]})
    assert strategy.placed[0].request.order_type is OrderType.STOP_LIMIT  # type: ignore[attr-defined]
    (fill,) = result.fills
    # bar 1's low (100) triggers it; it sells to the quote at 100, better than its 99.8 limit
    assert fill.side is Side.SELL and fill.price == D(100) and fill.ts_ns == T0 + MINUTE + 20 * SECOND


def test_a_stop_that_is_never_reached_waits_and_is_cancelled_when_the_strategy_stops() -> None:
    bt = Backtester(scripted({0: [{"side": "buy", "quantity": D(1), "trigger_price": D("110")}]}), {}, [spot(BTC)], bars(PATH))
    result = bt.run()
    assert result.fills == []
    heard = [o.status for _, o in bt.runner.strategy.orders]  # type: ignore[union-attr]
    assert heard == [OrderStatus.PENDING_NEW, OrderStatus.OPEN]  # accepted, waiting for its trigger
    assert [o.status for o in bt.exchange.orders.values()] == [OrderStatus.CANCELLED]  # the CANCEL order policy


def test_a_trigger_off_the_tick_is_refused_without_raising_into_the_strategy() -> None:
    strategy, result = run({0: [{"side": "buy", "quantity": D(1), "trigger_price": D("100.005")}]})
    assert strategy.placed == [None] and result.fills == [] and result.strategy_errors == 0  # type: ignore[attr-defined]
