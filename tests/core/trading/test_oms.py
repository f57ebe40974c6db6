from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sq_fake_venue import FakeVenue
from sq_trading_env import BTC, Env, make_env

from core.domain import ClientOrderId, FillEvent, Order, OrderRequest, OrderStatus, OrderType, OrderUpdated, Side, Venue
from core.errors import OrderRejected, ValidationError
from core.trading.events import FillApplied
from core.trading.ids import BINANCE_CLIENT_ID, KITE_TAG

S = OrderStatus


def request(qty: str = "0.01") -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, Decimal(qty), OrderType.LIMIT, price=Decimal(50000))


def binance(env: Env) -> FakeVenue:
    return env.venues[Venue.BINANCE]


def status(env: Env, cid: str) -> OrderStatus:
    order = env.oms.order(cid)
    assert order is not None
    return order.status


def intent_rows(path: Path) -> list[str]:
    """The order_intents rows as another process would read them."""
    reader = sqlite3.connect(path)
    try:
        return [cid for cid, in reader.execute("SELECT client_order_id FROM order_intents")]
    finally:
        reader.close()


async def test_the_intent_is_logged_before_the_connector_is_called_and_inserted_once_the_request_is_sent(env: Env) -> None:
    venue = binance(env)
    journal = env.stack.journal
    seen: list[tuple[str, list[str]]] = []
    original = venue.place_order

    async def spy(order: Order, sent=None):  # type: ignore[no-untyped-def]
        seen.append(("log", [intent[0] for intent, _ in journal.intent_log.read()]))  # as a crash would leave it
        seen.append(("rows before sent", intent_rows(journal.path)))
        sent()
        seen.append(("rows after sent", intent_rows(journal.path)))
        return await original(order)

    venue.place_order = spy  # type: ignore[method-assign]
    order = env.oms.submit(request())
    cid = order.client_order_id
    await env.settle()
    assert seen == [("log", [cid]), ("rows before sent", []), ("rows after sent", [cid])]
    assert journal.order(cid).status is S.OPEN  # type: ignore[union-attr]
    assert KITE_TAG.fullmatch(cid) and BINANCE_CLIENT_ID.fullmatch(cid)


@pytest.mark.parametrize("mode", ["ack", "reject", "error"])
async def test_without_sent_the_intent_is_inserted_by_the_journal_write_that_follows(env: Env, mode: str) -> None:
    venue = binance(env)
    venue.calls_sent, venue.place_mode = False, mode
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    assert intent_rows(env.stack.journal.path) == [cid]


def order_events(env: Env) -> list[tuple[OrderStatus | None, OrderStatus]]:
    """(previous, new) status of every OrderUpdated from now on, as subscribers hear them."""
    heard: list[tuple[OrderStatus | None, OrderStatus]] = []
    env.bus.subscribe(OrderUpdated, lambda e: heard.append((e.previous_status, e.order.status)))
    return heard


async def test_subscribers_hear_of_a_new_order_once_its_request_is_written(env: Env) -> None:
    venue = binance(env)
    heard = order_events(env)
    at: dict[str, list[tuple[OrderStatus | None, OrderStatus]]] = {}
    original = venue.place_order

    async def spy(order: Order, sent=None):  # type: ignore[no-untyped-def]
        at["before sent"] = list(heard)
        sent()
        at["after sent"] = list(heard)
        return await original(order)

    venue.place_order = spy  # type: ignore[method-assign]
    env.oms.submit(request())
    assert heard == []  # nothing runs ahead of the send
    await env.settle()
    assert at == {"before sent": [], "after sent": [(None, S.PENDING_NEW)]}
    assert heard == [(None, S.PENDING_NEW), (S.PENDING_NEW, S.OPEN)]


async def test_market_data_lets_an_order_go_first_until_its_request_is_written(env: Env) -> None:
    venue = binance(env)
    priority = env.oms._priority
    at: dict[str, bool] = {}
    original = venue.place_order

    async def spy(order: Order, sent=None):  # type: ignore[no-untyped-def]
        at["before sent"] = priority.active()
        sent()
        at["after sent"] = priority.active()
        return await original(order)

    venue.place_order = spy  # type: ignore[method-assign]
    assert not priority.active()
    env.oms.submit(request())
    assert priority.active()
    await env.settle()
    assert at == {"before sent": True, "after sent": False}


async def test_an_order_held_up_on_its_way_is_announced_within_the_limit(env: Env) -> None:
    venue = binance(env)
    venue.calls_sent, venue.hold = False, asyncio.Event()  # a connector still waiting, e.g. on a rate limit
    heard = order_events(env)
    env.oms.submit(request())
    await asyncio.sleep(0.05)
    assert heard == [(None, S.PENDING_NEW)]
    venue.hold.set()
    await env.settle()
    assert heard == [(None, S.PENDING_NEW), (S.PENDING_NEW, S.OPEN)]


async def test_a_cancel_before_the_send_is_heard_after_the_new_order(env: Env) -> None:
    heard = order_events(env)
    cid = env.oms.submit(request()).client_order_id
    await env.oms.cancel(cid)  # before the send task has run
    await env.settle()
    assert heard[:2] == [(None, S.PENDING_NEW), (S.PENDING_NEW, S.CANCEL_PENDING)]
    assert heard[-1][1] is S.CANCELLED


async def test_unknown_outcome_stays_in_flight_until_a_query_settles_it(env: Env) -> None:
    venue = binance(env)
    venue.place_mode = "unknown_placed"
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    assert status(env, cid) is S.PENDING_NEW and env.oms.is_unknown(cid)
    await env.oms.check_in_flight()
    assert status(env, cid) is S.OPEN and not env.oms.is_unknown(cid)
    assert venue.calls["place"] == 1  # never resent
    kinds = [r[0] for r in env.stack.journal._db.execute(
        "SELECT kind FROM order_events WHERE client_order_id = ? ORDER BY seq", (cid,))]
    assert kinds == ["intent", "outcome_unknown", "report"]


async def test_unknown_outcome_not_placed_is_rejected_only_after_the_grace(tmp_path: Path) -> None:
    env = await make_env(tmp_path / "j.db", grace_s=3600)
    try:
        binance(env).place_mode = "unknown_unplaced"
        cid = env.oms.submit(request()).client_order_id
        await env.settle()
        await env.oms.check_in_flight()
        assert status(env, cid) is S.PENDING_NEW  # the venue may still be processing it
        env.oms.not_found_grace_ns = 0
        await env.oms.check_in_flight()
        order = env.oms.order(cid)
        assert order is not None and order.status is S.REJECTED and "no record" in order.reject_reason
        assert binance(env).calls["place"] == 1
    finally:
        await env.stack.stop()


async def test_a_stream_update_settles_an_unknown_outcome(env: Env) -> None:
    venue = binance(env)
    venue.place_mode = "unknown_placed"
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    env.bus.publish(venue.report(cid))
    assert status(env, cid) is S.OPEN and not env.oms.is_unknown(cid)


async def test_a_refusal_is_a_rejection_and_a_connector_bug_is_not(env: Env) -> None:
    venue = binance(env)
    venue.place_mode = "reject"
    refused = env.oms.submit(request()).client_order_id
    await env.settle()
    venue.place_mode = "error"
    crashed = env.oms.submit(request()).client_order_id
    await env.settle()
    order = env.oms.order(refused)
    assert order is not None and order.status is S.REJECTED and "insufficient balance" in order.reject_reason
    assert status(env, crashed) is S.PENDING_NEW and env.oms.is_unknown(crashed)


async def test_duplicate_fills_are_applied_once(env: Env) -> None:
    venue = binance(env)
    applied: list[FillApplied] = []
    env.bus.subscribe(FillApplied, applied.append)
    cid = env.oms.submit(request("0.02")).client_order_id
    await env.settle()
    trade = venue.fill(cid, Decimal("0.01"), Decimal(50000))
    for _ in range(3):
        env.bus.publish(FillEvent(trade))
    assert len(applied) == 1 and len(env.stack.journal.fills()) == 1
    assert env.stack.portfolio.position_quantity(BTC) == Decimal("0.01")
    order = env.oms.order(cid)
    assert order is not None and (order.status, order.filled_quantity) == (S.PARTIALLY_FILLED, Decimal("0.01"))


async def test_a_fill_before_the_ack_waits_for_its_order_to_be_linked(env: Env) -> None:
    venue = binance(env)
    venue.stream = False
    venue.hold = asyncio.Event()
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    trade = venue.fill(cid, Decimal("0.01"), Decimal(50000), publish=False)
    env.bus.publish(FillEvent(replace(trade, client_order_id=ClientOrderId(""))))  # Kite trades carry only the order id
    assert env.stack.journal.fills() == []
    venue.hold.set()
    await env.settle()
    order = env.oms.order(cid)
    assert order is not None and (order.status, order.filled_quantity) == (S.FILLED, Decimal("0.01"))
    assert env.stack.journal.fills()[0].client_order_id == cid


async def test_cancel_during_the_send_goes_out_after_the_ack(env: Env) -> None:
    venue = binance(env)
    venue.hold = asyncio.Event()
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    order = await env.oms.cancel(cid)
    assert order.status is S.CANCEL_PENDING and venue.calls["cancel"] == 0
    venue.hold.set()
    await env.settle()
    assert status(env, cid) is S.CANCELLED and venue.calls["cancel"] == 1


async def test_cancel_pending_then_fill_ends_filled(env: Env) -> None:
    venue = binance(env)
    venue.cancel_mode = "pending"
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    assert (await env.oms.cancel(cid)).status is S.CANCEL_PENDING
    venue.fill(cid, Decimal("0.01"), Decimal(50000))
    assert status(env, cid) is S.FILLED


async def test_cancel_refused_because_it_filled_meanwhile_reads_the_fill(env: Env) -> None:
    venue = binance(env)
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    venue.fill(cid, Decimal("0.01"), Decimal(50000), publish=False)
    order = await env.oms.cancel(cid)
    assert order.status is S.FILLED and venue.calls["query"] == 1


async def test_a_pending_cancel_is_never_assumed_done(tmp_path: Path) -> None:
    env = await make_env(tmp_path / "j.db", grace_s=3600)
    try:
        venue = binance(env)
        venue.cancel_mode = "unknown"
        env.oms.check_interval_s = 0
        cid = env.oms.submit(request()).client_order_id
        await env.settle()
        await env.oms.cancel(cid)
        await env.oms.check_in_flight()
        assert status(env, cid) is S.CANCEL_PENDING  # the venue still says OPEN, but the cancel may be under way
        env.oms.not_found_grace_ns = 0
        await env.oms.check_in_flight()
        assert status(env, cid) is S.OPEN  # long past the grace: the cancel did not take, the user sees it working
    finally:
        await env.stack.stop()


async def test_modify_of_an_order_that_just_filled_reads_the_fill_and_raises(env: Env) -> None:
    venue = binance(env)
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    venue.fill(cid, Decimal("0.01"), Decimal(50000), publish=False)
    venue.orders[cid].status = S.FILLED
    with pytest.raises(OrderRejected, match="FILLED"):
        await env.oms.modify(cid, price=Decimal(49000))
    assert status(env, cid) is S.FILLED


async def test_modify_refused_locally_while_unacknowledged_or_cancel_pending(env: Env) -> None:
    venue = binance(env)
    venue.hold = asyncio.Event()
    cid = env.oms.submit(request()).client_order_id
    with pytest.raises(ValidationError, match="not acknowledged"):
        await env.oms.modify(cid, price=Decimal(1))
    venue.hold.set()
    await env.settle()
    venue.cancel_mode = "pending"
    await env.oms.cancel(cid)
    with pytest.raises(ValidationError, match="cancel pending"):
        await env.oms.modify(cid, price=Decimal(1))
    assert venue.calls["modify"] == 0


async def test_updates_are_published_once_per_change(env: Env) -> None:
    venue = binance(env)
    updates: list[OrderUpdated] = []
    env.bus.subscribe(OrderUpdated, updates.append)
    cid = env.oms.submit(request()).client_order_id
    await env.settle()
    report = venue.report(cid)
    for _ in range(3):
        env.bus.publish(report)
    assert [(u.previous_status, u.order.status) for u in updates] == [(None, S.PENDING_NEW), (S.PENDING_NEW, S.OPEN)]


async def test_restart_loads_working_orders_and_treats_unacked_ones_as_unknown(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    env = await make_env(path)
    venue = binance(env)
    venue.hold = asyncio.Event()
    acked = env.oms.submit(request()).client_order_id
    await env.settle()
    venue.hold.set()
    await env.settle()
    venue.hold = asyncio.Event()
    unacked = env.oms.submit(request()).client_order_id
    await env.settle()
    await env.oms.stop(timeout_s=0)  # die here: the send never returns
    await env.stack.stop()
    again = await make_env(path, venues=env.venues, bus=env.bus, start=False)
    again.stack.oms.load()
    assert {o.client_order_id for o in again.oms.open_orders()} == {acked, unacked}
    assert again.oms.is_unknown(unacked) and not again.oms.is_unknown(acked)
    again.stack.journal.close()


async def test_the_in_flight_timer_settles_unknown_outcomes_by_itself(tmp_path: Path) -> None:
    env = await make_env(tmp_path / "j.db", check_interval_s=0.001)
    try:
        binance(env).place_mode = "unknown_placed"
        cid = env.oms.submit(request()).client_order_id
        settled = await env.oms.wait_for(cid, lambda o: o.status is S.OPEN, timeout=10)
        assert settled.venue_order_id == "V1" and binance(env).calls["place"] == 1
    finally:
        await env.stack.stop()
