from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sq_trading_env import BTC, NIFTY_FUT, RELIANCE, Env, make_env

from core.domain import (ConnectionChanged, ConnectionStatus, InstrumentId, OrderRequest, OrderStatus, OrderType, Product,
                         Side, Venue)
from core.errors import RiskRejected, UnknownInstrument, ValidationError
from core.trading.brackets import LEG, LEG_OF


def buy_btc(qty: str = "0.01", price: str = "50000", **kw: object) -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, Decimal(qty), OrderType.LIMIT, price=Decimal(price), **kw)  # type: ignore[arg-type]


async def test_place_returns_a_live_handle_that_follows_the_venue(env: Env) -> None:
    handle = await env.api.place(buy_btc())
    assert handle.status is OrderStatus.PENDING_NEW  # journaled, not yet answered
    assert env.stack.journal.order(handle.client_order_id) is not None
    await env.settle()
    assert handle.status is OrderStatus.OPEN and handle.order.venue_order_id == "V1"
    env.venues[Venue.BINANCE].fill(handle.client_order_id, Decimal("0.01"), Decimal("49990"))
    orders = await handle.wait_done(timeout=1)
    assert orders[0].status is OrderStatus.FILLED and handle.filled_quantity == Decimal("0.01")
    assert env.stack.portfolio.position_quantity(BTC) == Decimal("0.01")


async def test_validation_fails_before_anything_is_sent(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    with pytest.raises(UnknownInstrument, match="unknown instrument NOPE.BINANCE"):
        await env.api.place(OrderRequest(InstrumentId(Venue.BINANCE, "NOPE"), Side.BUY, Decimal(1), price=Decimal(1)))
    with pytest.raises(ValidationError, match="off the tick 0.01"):
        await env.api.place(buy_btc(price="50000.005"))
    with pytest.raises(ValidationError, match="not a multiple of the quantity step 0.001"):
        await env.api.place(buy_btc(qty="0.0105"))
    with pytest.raises(ValidationError, match="below the minimum 5 USDT"):
        await env.api.place(buy_btc(qty="0.001", price="100"))
    assert venue.calls["place"] == 0 and env.oms.orders() == []


async def test_submit_is_place_without_the_coroutine_same_checks_same_journal(env: Env) -> None:
    """From a bus handler: the order is journaled when submit returns, and sent from the OMS's task."""
    venue = env.venues[Venue.BINANCE]
    with pytest.raises(ValidationError, match="off the tick 0.01"):
        env.api.submit(buy_btc(price="50000.005"))
    handle = env.api.submit(buy_btc())
    assert handle.status is OrderStatus.PENDING_NEW and venue.calls["place"] == 0
    assert env.stack.journal.order(handle.client_order_id) is not None
    await env.settle()
    assert venue.calls["place"] == 1 and handle.status is OrderStatus.OPEN


async def test_freeze_quantity_splits_into_slices_under_one_handle(tmp_path: Path) -> None:
    env = await make_env(tmp_path / "j.db", freeze={"NIFTY": Decimal(1800)})
    try:
        env.tick(NIFTY_FUT, "25000")
        request = OrderRequest(NIFTY_FUT, Side.BUY, Decimal(4500), OrderType.LIMIT, price=Decimal("25000"),
                               product=Product.NRML)
        handle = await env.api.place(request)
        assert [o.quantity for o in handle.orders] == [Decimal(1800), Decimal(1800), Decimal(900)]
        await env.settle()
        assert env.venues[Venue.ZERODHA].calls["place"] == 3
        assert handle.statuses == [OrderStatus.OPEN] * 3
    finally:
        await env.stack.stop()


async def test_modify_and_cancel(env: Env) -> None:
    handle = await env.api.place(buy_btc())
    await env.settle()
    order = await env.api.modify(handle.client_order_id, price=Decimal("50100"))
    assert order.price == Decimal("50100")
    assert env.venues[Venue.BINANCE].orders[handle.client_order_id].price == Decimal("50100")
    order = await env.api.cancel(handle.client_order_id)
    assert order.status is OrderStatus.CANCELLED
    with pytest.raises(ValidationError, match="is CANCELLED; nothing to modify"):
        await env.api.modify(handle.client_order_id, price=Decimal("50200"))
    actions = [e.detail["action"] for e in env.stack.journal.audit_entries("user_action")]
    assert actions == ["cancel", "modify"]  # newest first; the refused modify is not recorded


async def test_market_order_on_kite_needs_protection_which_travels_in_extra(env: Env) -> None:
    env.tick(RELIANCE, "2500")
    request = OrderRequest(RELIANCE, Side.BUY, Decimal(10), OrderType.MARKET, product=Product.CNC)
    with pytest.raises(RiskRejected, match="market_protection: ZERODHA needs market protection"):
        await env.api.place(request)
    assert env.venues[Venue.ZERODHA].calls["place"] == 0  # a rejection costs no request
    assert env.stack.risk.recent_rejections[-1].rule == "market_protection"
    handle = await env.api.place(request, market_protection=Decimal(2))
    assert handle.order.extra["market_protection"] == "2"


async def test_flatten_sends_marketable_limit_exits_even_with_the_kill_switch_engaged(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    env.tick(BTC, "50000")
    handle = await env.api.place(buy_btc(qty="0.02"))
    await env.settle()
    venue.fill(handle.client_order_id, Decimal("0.02"), Decimal("50000"))
    resting = await env.api.place(buy_btc(qty="0.01", price="49000"))
    await env.settle()
    env.stack.kill_switch.engaged = True  # blocks entries, not exits
    with pytest.raises(RiskRejected, match="kill_switch"):
        await env.api.place(buy_btc())
    exits = await env.api.flatten()
    await env.settle()
    assert env.oms.order(resting.client_order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    exit_order = exits[0].order
    assert (exit_order.side, exit_order.quantity, exit_order.price) == (Side.SELL, Decimal("0.02"), Decimal("49750.00"))
    assert exit_order.request.source == "system:flatten"


async def test_exit_orders_must_reduce(env: Env) -> None:
    env.tick(BTC, "50000")
    with pytest.raises(RiskRejected, match="exit_only"):
        env.api._place(buy_btc(), None, None, exit=True)


async def test_bracket_places_legs_after_the_entry_fills_and_links_them_oco(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    env.tick(BTC, "50000")
    with pytest.raises(ValidationError, match="stop < entry < target"):
        await env.api.place_bracket(buy_btc(), Decimal("51000"), Decimal("52000"))
    entry = await env.api.place_bracket(buy_btc(qty="0.01"), Decimal("49000"), Decimal("51000"))
    await env.settle()
    assert env.api.brackets.legs(entry.client_order_id) == {}
    venue.fill(entry.client_order_id, Decimal("0.01"), Decimal("50000"))
    await env.settle()
    legs = env.api.brackets.legs(entry.client_order_id)
    stop, target = legs["stop"], legs["target"]
    assert (stop.request.order_type, stop.trigger_price, stop.side) == (OrderType.STOP_MARKET, Decimal(49000), Side.SELL)
    assert (target.request.order_type, target.price, target.quantity) == (OrderType.LIMIT, Decimal(51000), Decimal("0.01"))
    assert stop.extra[LEG_OF] == entry.client_order_id and stop.extra[LEG] == "stop"
    venue.fill(target.client_order_id, Decimal("0.004"), Decimal(51000))
    await env.settle()
    assert env.oms.order(stop.client_order_id).quantity == Decimal("0.006")  # type: ignore[union-attr]
    venue.fill(target.client_order_id, Decimal("0.006"), Decimal(51000))
    await env.settle()
    assert env.oms.order(stop.client_order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert env.stack.portfolio.position_quantity(BTC) == 0


async def test_bracket_resumes_after_a_restart_between_entry_fill_and_legs(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    env = await make_env(path)
    env.tick(BTC, "50000")
    entry = await env.api.place_bracket(buy_btc(), Decimal("49000"), Decimal("51000"))
    await env.settle()
    venues = env.venues
    await env.api.stop()  # the bracket manager is gone: nothing watches the entry
    venues[Venue.BINANCE].fill(entry.client_order_id, Decimal("0.01"), Decimal(50000))
    await env.settle()
    assert env.api.brackets.legs(entry.client_order_id) == {}
    await env.stack.stop()
    restarted = await make_env(path, venues=venues, bus=venues[Venue.BINANCE].bus)
    try:
        restarted.tick(BTC, "50000")
        await restarted.settle()
        assert set(restarted.api.brackets.legs(entry.client_order_id)) == {"stop", "target"}
        assert venues[Venue.BINANCE].calls["place"] == 3
    finally:
        await restarted.stack.stop()


async def test_a_stale_feed_blocks_market_orders(env: Env) -> None:
    request = OrderRequest(BTC, Side.BUY, Decimal("0.01"), OrderType.MARKET)
    with pytest.raises(RiskRejected, match="stale_feed: .*no update yet"):
        await env.api.place(request)  # never ticked
    env.tick(BTC, "50000")
    await env.api.place(request)
    env.bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.STALE))
    with pytest.raises(RiskRejected, match="stale_feed"):
        await env.api.place(request)
    await env.api.place(buy_btc())  # a limit order may still rest
