from __future__ import annotations

from decimal import Decimal as D
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqbt_helpers import BTC, spot

from core.backtest import BpsSlippage, RateFees, SimulatedExchange, TickSlippage
from core.backtest.models import Latency
from core.domain import (ClientOrderId, Order, OrderRequest, OrderStatus, OrderType, Product, Side, TimeInForce)

_ids = count(1)


def order(side: Side, qty: str, price: str | None = None, kind: OrderType | None = None,
          tif: TimeInForce = TimeInForce.GTC, trigger: str | None = None) -> Order:
    kind = kind or (OrderType.LIMIT if price is not None else OrderType.MARKET)
    request = OrderRequest(BTC, side, D(qty), kind, D(price) if price else None, D(trigger) if trigger else None, tif,
                           Product.SPOT)
    return Order(ClientOrderId(f"o{next(_ids)}"), request)


def exchange(touch: bool = True, slip: int = 0) -> SimulatedExchange:
    return SimulatedExchange([spot(BTC)], RateFees(D("0.001"), D("0.002")), TickSlippage(slip), touch_fills=touch)


def statuses(executions: list) -> list[OrderStatus]:  # type: ignore[type-arg]
    return [e.order.status for e in executions]


def test_market_order_takes_the_last_price_plus_slippage_as_taker() -> None:
    ex = exchange(slip=3)
    ex.on_trade(BTC, D("100.00"), 1)
    out = ex.submit(order(Side.BUY, "2"), 2)
    assert statuses(out) == [OrderStatus.OPEN, OrderStatus.FILLED]
    fill = out[-1].fill
    assert fill is not None and fill.price == D("100.03") and fill.quantity == D(2) and not fill.is_maker
    assert fill.fee == D("100.03") * 2 * D("0.002") and fill.ts_ns == 2 and fill.fee_currency == "USDT"
    sell = ex.submit(order(Side.SELL, "1"), 3)[-1].fill
    assert sell is not None and sell.price == D("99.97")
    assert ex.market(BTC).is_idle()  # the market's quotes never stay in the book


def test_market_order_without_any_price_expires() -> None:
    out = exchange().submit(order(Side.BUY, "1"), 1)
    assert statuses(out) == [OrderStatus.OPEN, OrderStatus.EXPIRED] and out[-1].order.reject_reason == "NO_LIQUIDITY"


@pytest.mark.parametrize("touch, trade, filled", [(True, "99.00", True), (False, "99.00", False), (False, "98.99", True),
                                                  (True, "99.01", False)])
def test_resting_limit_fills_at_its_price_when_the_market_trades_at_or_through_it(touch: bool, trade: str,
                                                                                  filled: bool) -> None:
    ex = exchange(touch)
    ex.on_trade(BTC, D("100.00"), 1)
    bid = order(Side.BUY, "1", "99.00")
    assert statuses(ex.submit(bid, 2)) == [OrderStatus.OPEN]
    out = ex.on_trade(BTC, D(trade), 3)
    assert bool(out) is filled
    if filled:
        fill = out[0].fill
        assert fill is not None and fill.price == D("99.00") and fill.is_maker and fill.fee == D("99.00") * D("0.001")
        assert ex.market(BTC).is_idle()


def test_a_gap_through_several_bids_fills_them_best_price_first_at_their_own_prices() -> None:
    ex = exchange()
    ex.on_trade(BTC, D("100"), 1)
    low, high = order(Side.BUY, "1", "98"), order(Side.BUY, "1", "99")
    ex.submit(low, 2)
    ex.submit(high, 3)
    fills = [e.fill for e in ex.on_trade(BTC, D("97"), 4) if e.fill]
    assert [(f.client_order_id, f.price) for f in fills] == [(high.client_order_id, D(99)), (low.client_order_id, D(98))]


def test_a_crossing_quote_fills_a_resting_order() -> None:
    ex = exchange()
    ex.on_quote(BTC, D("100.00"), D("100.10"), 1)
    ask = order(Side.SELL, "1", "100.20")
    ex.submit(ask, 2)
    assert ex.on_quote(BTC, D("100.15"), D("100.25"), 3) == []
    out = ex.on_quote(BTC, D("100.20"), D("100.30"), 4)
    assert out[0].fill is not None and out[0].fill.price == D("100.20") and out[0].order.status is OrderStatus.FILLED


def test_marketable_limit_takes_the_ask_and_post_only_that_would_take_is_rejected() -> None:
    ex = exchange()
    ex.on_quote(BTC, D("100.00"), D("100.10"), 1)
    taker = ex.submit(order(Side.BUY, "1", "100.50"), 2)
    assert taker[-1].fill is not None and taker[-1].fill.price == D("100.10") and not taker[-1].fill.is_maker
    rejected = ex.submit(order(Side.BUY, "1", "100.10", tif=TimeInForce.GTX), 3)
    assert statuses(rejected) == [OrderStatus.REJECTED] and rejected[0].order.reject_reason == "WOULD_CROSS"
    maker = ex.submit(order(Side.BUY, "1", "100.05", tif=TimeInForce.GTX), 4)
    assert statuses(maker) == [OrderStatus.OPEN]


def test_ioc_and_fok() -> None:
    ex = exchange()
    ex.on_trade(BTC, D("100"), 1)
    ioc = ex.submit(order(Side.BUY, "1", "99", tif=TimeInForce.IOC), 2)
    assert statuses(ioc) == [OrderStatus.OPEN, OrderStatus.EXPIRED]
    fok = ex.submit(order(Side.BUY, "5", "100", tif=TimeInForce.FOK), 3)
    assert statuses(fok) == [OrderStatus.OPEN, OrderStatus.FILLED] and ex.market(BTC).is_idle()


def test_stop_waits_for_a_trade_at_its_trigger_then_takes_the_market() -> None:
    ex = exchange(slip=1)
    ex.on_trade(BTC, D("100"), 1)
    stop = order(Side.BUY, "1", kind=OrderType.STOP_MARKET, trigger="101")
    assert statuses(ex.submit(stop, 2)) == [OrderStatus.OPEN] and not ex.market(BTC).is_idle()
    assert ex.on_trade(BTC, D("100.99"), 3) == []
    out = ex.on_trade(BTC, D("101.50"), 4)
    assert out[-1].fill is not None and out[-1].fill.price == D("101.51") and out[-1].order.status is OrderStatus.FILLED
    limit_stop = order(Side.SELL, "1", "99", kind=OrderType.STOP_LIMIT, trigger="100")
    ex.submit(limit_stop, 5)
    assert statuses(ex.on_trade(BTC, D("99.5"), 6)) == [OrderStatus.FILLED]  # becomes a sell limit at 99: takes 99.49


def test_cancel_amend_and_self_trade() -> None:
    ex = exchange(slip=5)
    ex.on_trade(BTC, D("100"), 1)
    bid = order(Side.BUY, "2", "99")
    ex.submit(bid, 2)
    amended = ex.amend(bid.client_order_id, D("98"), D("3"), None, 3)
    assert amended[0].order.price == D("98") and amended[0].order.quantity == D("3")
    assert statuses(ex.cancel(bid.client_order_id, 4)) == [OrderStatus.CANCELLED]
    assert ex.cancel(bid.client_order_id, 5) == [] and ex.cancel("nope", 5) == []
    ask = order(Side.SELL, "1", "100.02")
    assert statuses(ex.submit(ask, 6)) == [OrderStatus.OPEN]
    out = ex.submit(order(Side.BUY, "1"), 7)  # our ask beats the quote at 100.05: the taker expires (expire-taker STP)
    assert out[-1].order.status is OrderStatus.EXPIRED and out[-1].order.reject_reason == "SELF_TRADE"


def test_cancel_requested_while_the_order_travels_keeps_it_cancel_pending() -> None:
    ex = exchange()
    ex.on_trade(BTC, D("100"), 1)
    bid = order(Side.BUY, "1", "99")
    ex.register(bid)
    pending = ex.request_cancel(bid.client_order_id, 2)
    assert pending is not None and pending.order.status is OrderStatus.CANCEL_PENDING
    arrived = ex.submit(bid, 3)
    assert arrived[0].order.status is OrderStatus.CANCEL_PENDING and arrived[0].order.venue_order_id
    assert statuses(ex.cancel(bid.client_order_id, 4)) == [OrderStatus.CANCELLED]
    with pytest.raises(ValueError, match="duplicate"):
        ex.submit(bid, 5)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**7), st.integers(0, 50), st.decimals("0", "100", places=2), st.sampled_from([Side.BUY, Side.SELL]))
def test_slippage_is_on_the_tick_and_never_helps_the_taker(ticks: int, slip: int, bps: D, side: Side) -> None:
    inst = spot(BTC)
    reference = ticks * inst.tick_size
    for model in (TickSlippage(slip), BpsSlippage(bps, D("0.5"))):
        price = model.price(inst, side, D(1), reference)
        assert inst.is_on_tick(price) and price >= inst.tick_size
        assert side.sign * (price - reference) >= 0 or price == inst.tick_size


def test_fee_and_latency_models() -> None:
    inst = spot(BTC)
    fees = RateFees(D("0.0002"), D("0.001"), per_fill=D("20"))
    assert fees.fee(inst, Side.BUY, D(2), D(100), True) == D("20.04")
    assert fees.fee(inst, Side.SELL, D(2), D(100), False) == D("20.2")
    assert Latency.of(5) == Latency(5, 5) and Latency.of(Latency(1, 2)) == Latency(1, 2)
    with pytest.raises(ValueError):
        Latency(-1)
    with pytest.raises(ValueError):
        TickSlippage(-1)
