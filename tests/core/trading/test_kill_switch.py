from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sq_trading_env import BTC, RELIANCE, Env, make_env

from core.domain import OrderRequest, OrderStatus, OrderType, Product, Side, Venue
from core.errors import RiskRejected
from core.trading.events import KillSwitchChanged

S = OrderStatus


def btc(side: Side = Side.BUY, qty: str = "0.01", price: str = "50000") -> OrderRequest:
    return OrderRequest(BTC, side, Decimal(qty), OrderType.LIMIT, price=Decimal(price))


async def test_engage_blocks_stops_cancels_everywhere_and_flattens(env: Env) -> None:
    binance, zerodha = env.venues[Venue.BINANCE], env.venues[Venue.ZERODHA]
    events: list[KillSwitchChanged] = []
    env.bus.subscribe(KillSwitchChanged, events.append)
    stopped: list[str] = []

    async def stop_strategy() -> None:
        stopped.append("async")

    env.stack.kill_switch.add_stop_callback(lambda: stopped.append("sync"))
    env.stack.kill_switch.add_stop_callback(stop_strategy)
    env.tick(BTC, "50000")
    env.tick(RELIANCE, "2500")
    filled = await env.api.place(btc(qty="0.02"))
    resting = await env.api.place(btc(price="49000"))
    kite = await env.api.place(OrderRequest(RELIANCE, Side.BUY, Decimal(5), OrderType.LIMIT, price=Decimal(2490),
                                            product=Product.CNC))
    await env.settle()
    binance.fill(filled.client_order_id, Decimal("0.02"), Decimal(50000))

    result = await env.stack.kill_switch.engage(flatten=True, reason="test")
    await env.settle()
    assert events[0].engaged and stopped == ["sync", "async"]
    assert resting.status is S.CANCELLED and kite.status is S.CANCELLED
    assert set(result.cancel_requested) == {resting.client_order_id, kite.client_order_id}
    assert result.still_working == () and result.errors == ()
    assert len(result.flatten_orders) == 1
    exit_order = env.oms.order(result.flatten_orders[0])
    assert exit_order is not None and exit_order.side is Side.SELL and exit_order.quantity == Decimal("0.02")
    with pytest.raises(RiskRejected, match="kill_switch: engaged \\(test\\)"):
        await env.api.place(btc())
    assert zerodha.calls["cancel"] == 1 and binance.calls["place"] == 3
    assert [e.detail["action"] for e in env.stack.journal.audit_entries("kill_switch")] == ["engage"]


async def test_orders_whose_cancel_did_not_take_are_retried_and_reported(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    ks = env.stack.kill_switch
    ks.retry_delay_s = 0
    handle = await env.api.place(btc())
    await env.settle()
    venue.cancel_mode = "reject"  # the venue refuses, and a query shows it still open
    result = await ks.engage()
    assert result.still_working == (handle.client_order_id,)
    assert venue.calls["cancel"] == ks.cancel_attempts
    assert handle.status is S.OPEN


async def test_the_switch_stays_engaged_across_a_restart_until_rearmed(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    env = await make_env(path)
    await env.stack.kill_switch.engage(reason="panic")
    await env.stack.stop()
    again = await make_env(path, venues=env.venues, bus=env.bus)
    try:
        ks = again.stack.kill_switch
        assert ks.engaged and ks.reason == "panic"
        with pytest.raises(RiskRejected, match="kill_switch"):
            await again.api.place(btc())
        ks.rearm(by="alice")
        await again.api.place(btc())
        assert [e.detail["action"] for e in again.stack.journal.audit_entries("kill_switch")] == ["rearm", "engage"]
    finally:
        await again.stack.stop()
    third = await make_env(path, venues=env.venues, bus=env.bus)
    try:
        assert not third.stack.kill_switch.engaged
    finally:
        await third.stack.stop()


async def test_a_rejection_by_the_kill_switch_costs_no_venue_request(env: Env) -> None:
    env.stack.kill_switch.engaged = True
    with pytest.raises(RiskRejected):
        await env.api.place(btc())
    assert env.venues[Venue.BINANCE].calls["place"] == 0


async def test_orders_are_blocked_before_slow_strategies_have_stopped(env: Env) -> None:
    release = asyncio.Event()
    env.stack.kill_switch.add_stop_callback(release.wait)
    engaging = asyncio.get_running_loop().create_task(env.stack.kill_switch.engage())
    await asyncio.sleep(0)
    assert not engaging.done()
    with pytest.raises(RiskRejected, match="kill_switch"):
        await env.api.place(btc())
    release.set()
    await engaging
