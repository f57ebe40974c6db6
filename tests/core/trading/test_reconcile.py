from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sq_fake_venue import VenueOrder
from sq_trading_env import BTC, RELIANCE, Env, make_env

from core.domain import (ClientOrderId, ConnectionChanged, ConnectionStatus, Fill, Order, OrderRequest, OrderStatus,
                         OrderType, Position, Product, Side, Venue, VenueOrderReport)
from core.errors import RiskRejected
from core.trading import (DuplicateReport, FillBeforeStatus, MissedFill, OrderGone, PositionMismatch,
                          ReconciliationReport, StatusMismatch, UnknownFill, UnknownOrder, compare_positions, reconcile)

S = OrderStatus


def order(cid: str, status: OrderStatus, venue_id: str = "") -> Order:
    req = OrderRequest(BTC, Side.BUY, Decimal(2), OrderType.LIMIT, price=Decimal(100))
    return Order(ClientOrderId(cid), req, status=status, venue_order_id=venue_id)


def rep(cid: str, venue_id: str, status: OrderStatus, filled: str = "0") -> VenueOrderReport:
    return VenueOrderReport(Venue.BINANCE, ClientOrderId(cid), venue_id, status, BTC, Decimal(filled), None,
                            Decimal(100), Decimal(2))


def fill(trade: str, cid: str, venue_id: str, ts: int = 1) -> Fill:
    return Fill(ClientOrderId(cid), venue_id, trade, BTC, Side.BUY, Decimal(1), Decimal(100), ts_ns=ts)


def test_reconcile_finds_every_kind_of_difference() -> None:
    o1, o2 = order("a", S.OPEN, "V1"), order("b", S.OPEN, "V2")
    o3, o4 = order("c", S.PENDING_NEW), order("d", S.CANCEL_PENDING, "V4")
    gone = rep("d", "V4", S.CANCELLED)
    diffs = reconcile(
        [o1, o2, o3, o4], {"T1"},
        [rep("a", "V1", S.OPEN), rep("b", "V2", S.PARTIALLY_FILLED, "1"), rep("web_1", "X9", S.OPEN),
         rep("a", "V1", S.OPEN)],
        {ClientOrderId("c"): None, ClientOrderId("d"): gone},
        [fill("T1", "b", "V2"), fill("T2", "b", "V2", 2), fill("T2", "b", "V2", 2), fill("T3", "", "", 3),
         fill("T4", "", "X77", 4), fill("T5", "c", "V3", 5)],
    )
    kinds = [type(d) for d in diffs]
    assert kinds == [StatusMismatch, UnknownOrder, DuplicateReport, OrderGone, OrderGone, MissedFill, UnknownFill,
                     UnknownFill, MissedFill, FillBeforeStatus]
    assert diffs[3] == OrderGone(o3, None) and diffs[4] == OrderGone(o4, gone)
    assert isinstance(diffs[5], MissedFill) and diffs[5].fill.trade_id == "T2"
    assert all(d.describe() for d in diffs)


def test_a_second_venue_order_with_our_id_is_a_duplicate() -> None:
    diffs = reconcile([order("a", S.OPEN, "V1")], set(), [rep("a", "V1", S.OPEN), rep("a", "V7", S.OPEN)], {}, [])
    assert [type(d) for d in diffs] == [DuplicateReport]


def test_compare_positions() -> None:
    ours = [Position(BTC, Product.SPOT, Decimal(1), Decimal(100))]
    theirs = [Position(BTC, Product.SPOT, Decimal(1), Decimal(100)), Position(RELIANCE, Product.CNC, Decimal(5), Decimal(9))]
    assert compare_positions(ours, theirs) == [PositionMismatch(RELIANCE, Product.CNC, Decimal(0), Decimal(5))]


def btc_buy(qty: str = "0.01") -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, Decimal(qty), OrderType.LIMIT, price=Decimal(50000))


def user_stream(env: Env, status: ConnectionStatus) -> None:
    env.bus.publish(ConnectionChanged(Venue.BINANCE, "user", status))


async def test_outage_with_fills_missed_while_away(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    reports: list[ReconciliationReport] = []
    env.bus.subscribe(ReconciliationReport, reports.append)
    a = await env.api.place(btc_buy("0.02"))
    b = await env.api.place(btc_buy())
    await env.settle()

    user_stream(env, ConnectionStatus.DISCONNECTED)
    with pytest.raises(RiskRejected, match="venue_not_reconciled"):
        await env.api.place(btc_buy())
    assert (await env.api.cancel(b.client_order_id)).status is S.CANCELLED  # cancels still go
    venue.fill(a.client_order_id, Decimal("0.005"), Decimal(50000), publish=False)
    venue.fill(a.client_order_id, Decimal("0.015"), Decimal(50010), publish=False)
    venue.orders["web_1"] = VenueOrder("web_1", "X1", str(BTC), "SELL", "SPOT", Decimal(1), Decimal(60000), None)
    places = venue.calls["place"]

    user_stream(env, ConnectionStatus.CONNECTED)
    await env.settle()
    report = reports[-1]
    assert report.ok and report.venue is Venue.BINANCE
    assert sorted(type(d).__name__ for d in report.differences) == ["MissedFill", "MissedFill", "OrderGone",
                                                                    "UnknownOrder"]
    assert a.status is S.FILLED and a.filled_quantity == Decimal("0.02")
    assert env.stack.portfolio.position_quantity(BTC) == Decimal("0.02")
    assert len(env.stack.journal.fills()) == 2
    assert venue.calls["place"] == places  # reconciliation never places anything
    audit = env.stack.journal.audit_entries("reconciliation")[0].detail
    assert audit["ok"] and len(audit["differences"]) == 4
    await env.api.place(btc_buy())  # unblocked


async def test_a_failed_reconciliation_keeps_the_venue_blocked(env: Env) -> None:
    venue = env.venues[Venue.BINANCE]
    venue.online = False
    report = await env.stack.reconciler.reconcile(Venue.BINANCE)
    assert not report.ok and "TransportError" in report.error
    with pytest.raises(RiskRejected, match="venue_not_reconciled"):
        await env.api.place(btc_buy())
    venue.online = True
    assert (await env.stack.reconciler.reconcile(Venue.BINANCE)).ok
    await env.api.place(btc_buy())


async def test_restart_reconciles_fills_missed_while_down_and_adopts_carried_positions(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    env = await make_env(path)
    handle = await env.api.place(btc_buy("0.03"))
    await env.settle()
    venue = env.venues[Venue.BINANCE]
    venue.fill(handle.client_order_id, Decimal("0.01"), Decimal(50000))
    await env.stack.stop()
    venue.fill(handle.client_order_id, Decimal("0.02"), Decimal(50000), publish=False)
    env.venues[Venue.ZERODHA].extra_positions = [Position(RELIANCE, Product.CNC, Decimal(10), Decimal(2400))]
    again = await make_env(path, venues=env.venues, bus=env.bus)
    try:
        order = again.oms.order(handle.client_order_id)
        assert order is not None and (order.status, order.filled_quantity) == (S.FILLED, Decimal("0.03"))
        assert again.stack.portfolio.position_quantity(BTC) == Decimal("0.03")  # one journaled + one missed fill
        assert again.stack.portfolio.position_quantity(RELIANCE) == 10
        zerodha = again.stack.reconciler.last_reports[Venue.ZERODHA]
        assert [type(d) for d in zerodha.differences] == [PositionMismatch]
    finally:
        await again.stack.stop()
