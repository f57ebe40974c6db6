from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import OrderType, Side, TimeInForce
from core.matching import (Accepted, Amended, Cancelled, EngineOrder, Expired, ExpireReason, MatchingEngine, Rejected,
                           RejectReason, Trade, Triggered)

B, S = Side.BUY, Side.SELL
_ids = iter(range(1, 10**9))


def lim(side: Side, qty: str, price: str, acct: str = "a", tif: TimeInForce = TimeInForce.GTC, post: bool = False, oid: int | None = None) -> EngineOrder:
    return EngineOrder(oid or next(_ids), acct, side, OrderType.LIMIT, D(qty), D(price), time_in_force=tif, post_only=post)


def mkt(side: Side, qty: str, acct: str = "t") -> EngineOrder:
    return EngineOrder(next(_ids), acct, side, OrderType.MARKET, D(qty))


def trades(events: list) -> list[tuple[int, D, D]]:  # type: ignore[type-arg]
    return [(e.maker_order_id, e.price, e.quantity) for e in events if isinstance(e, Trade)]


def test_price_time_priority_and_partial_fills() -> None:
    e = MatchingEngine("X", maker_fee=D("0.001"), taker_fee=D("0.002"))
    first, second, better = lim(S, "1", "101"), lim(S, "1", "101"), lim(S, "1", "100.5")
    for o in (first, second, better):
        e.submit(o)
    events = e.submit(mkt(B, "2.5"))
    assert trades(events) == [(better.order_id, D("100.5"), D("1")), (first.order_id, D("101"), D("1")),
                              (second.order_id, D("101"), D("0.5"))]
    fills = [ev for ev in events if isinstance(ev, Trade)]
    assert fills[0].maker_fee == D("0.1005") and fills[0].taker_fee == D("0.2010")
    assert e.depth(5)[1] == [(D("101"), D("0.5"))] and e.last_price == D("101")


def test_market_without_liquidity_expires_the_rest() -> None:
    e = MatchingEngine("X")
    e.submit(lim(S, "1", "100"))
    events = e.submit(mkt(B, "3"))
    assert isinstance(events[-1], Expired) and events[-1].remaining == D("2") and events[-1].reason is ExpireReason.NO_LIQUIDITY


def test_ioc_fok_and_post_only() -> None:
    e = MatchingEngine("X")
    e.submit(lim(S, "1", "100"))
    ioc = e.submit(lim(B, "2", "100", "t", TimeInForce.IOC))
    assert trades(ioc) and isinstance(ioc[-1], Expired) and ioc[-1].reason is ExpireReason.IOC
    assert e.depth()[0] == []  # IOC never rests
    e.submit(lim(S, "1", "101"))
    fok = e.submit(lim(B, "2", "101", "t", TimeInForce.FOK))
    assert fok == [Rejected(fok[0].order_id, RejectReason.FOK_UNFILLABLE)] and e.depth()[1] == [(D("101"), D("1"))]
    post = e.submit(lim(B, "1", "101", post=True))
    assert isinstance(post[0], Rejected) and post[0].reason is RejectReason.WOULD_CROSS
    assert isinstance(e.submit(lim(B, "1", "100.9", post=True))[0], Accepted)


def test_cancel_and_unknown() -> None:
    e = MatchingEngine("X")
    o = lim(B, "1", "99")
    e.submit(o)
    assert e.cancel(o.order_id) == [Cancelled(o.order_id, D("1"))] and e.depth()[0] == []
    assert e.cancel(o.order_id) == [Rejected(o.order_id, RejectReason.UNKNOWN_ORDER)]


def test_amend_priority_rules() -> None:
    e = MatchingEngine("X")
    a, b = lim(S, "2", "100", "m1"), lim(S, "2", "100", "m2")
    e.submit(a)
    e.submit(b)
    assert e.amend(a.order_id, None, D("1")) == [Amended(a.order_id, D("100"), D("1"), lost_priority=False)]
    assert trades(e.submit(mkt(B, "1")))[0][0] == a.order_id  # a kept its place after shrinking
    c, d = lim(S, "1", "100", "m3"), lim(S, "1", "100", "m4")
    e.submit(c)
    e.submit(d)
    amended = e.amend(c.order_id, None, D("3"))  # growing loses priority
    assert amended[0] == Amended(c.order_id, D("100"), D("3"), lost_priority=True)
    assert [t[0] for t in trades(e.submit(mkt(B, "4")))] == [b.order_id, d.order_id, c.order_id]


def test_amend_below_filled_is_rejected_and_price_amend_can_trade() -> None:
    e = MatchingEngine("X")
    o = lim(S, "2", "100", "m")
    e.submit(o)
    e.submit(mkt(B, "1.5"))
    assert e.amend(o.order_id, None, D("1")) == [Rejected(o.order_id, RejectReason.AMEND_BELOW_FILLED)]
    bid = lim(B, "1", "99", "x")
    e.submit(bid)
    events = e.amend(o.order_id, D("99"), None)  # moved onto the bid: trades as a taker
    assert trades(events) == [(bid.order_id, D("99"), D("0.5"))]


def test_stops_trigger_on_the_last_trade() -> None:
    e = MatchingEngine("X")
    for p in ("100", "101", "102"):
        e.submit(lim(S, "1", p, "m"))
    stop = EngineOrder(next(_ids), "s", B, OrderType.STOP_MARKET, D("1"), trigger_price=D("101"))
    assert e.submit(stop) == [Accepted(stop.order_id, resting=False)]
    events = e.submit(mkt(B, "2"))  # trades 100 then 101: the stop fires and buys at 102
    assert Triggered(stop.order_id) in events
    assert trades(events)[-1][1] == D("102")
    stop_limit = EngineOrder(next(_ids), "s", S, OrderType.STOP_LIMIT, D("1"), price=D("95"), trigger_price=D("99"))
    e.submit(stop_limit)
    assert stop_limit.order_id in e.stops


def test_self_trade_prevention_expires_the_taker() -> None:
    e = MatchingEngine("X")
    e.submit(lim(S, "1", "100", "same"))
    taker = lim(B, "1", "100", "same")
    events = e.submit(taker)
    assert events[-1] == Expired(taker.order_id, D("1"), ExpireReason.SELF_TRADE) and e.depth()[1] == [(D("100"), D("1"))]


def test_changes_are_drained_with_increasing_update_ids() -> None:
    e = MatchingEngine("X")
    e.submit(lim(B, "1", "99"))
    e.submit(lim(S, "2", "101"))
    first = e.drain_changes()
    assert first == (1, [(D("99"), D("1"))], [(D("101"), D("2"))])
    assert e.drain_changes() is None
    e.submit(mkt(B, "2"))
    assert e.drain_changes() == (2, [], [(D("101"), D("0"))])


orders = st.lists(st.tuples(st.sampled_from([B, S]), st.integers(1, 5), st.integers(95, 105), st.sampled_from(["a", "b", "c"]),
                            st.sampled_from(["limit", "market", "cancel"])), max_size=80)


@settings(max_examples=150, deadline=None)
@given(orders)
def test_invariants_under_random_flow(flow: list[tuple[Side, int, int, str, str]]) -> None:
    e = MatchingEngine("X")
    submitted = D(0)
    traded = D(0)
    expired_or_cancelled = D(0)
    live: list[int] = []
    for side, qty, price, acct, kind in flow:
        if kind == "cancel" and live:
            events = e.cancel(live.pop(0))
        else:
            order = lim(side, str(qty), str(price), acct) if kind != "market" else mkt(side, str(qty), acct)
            events = e.submit(order)
            if not isinstance(events[0], Rejected):
                submitted += order.quantity
                live.append(order.order_id)
        for ev in events:
            if isinstance(ev, Trade):
                traded += ev.quantity
                assert ev.maker_account != ev.taker_account
            elif isinstance(ev, (Expired, Cancelled)):
                expired_or_cancelled += ev.remaining
        bid, ask = e.best_bid(), e.best_ask()
        assert bid is None or ask is None or bid < ask, "book crossed"
        assert all(r.remaining > 0 for r in e.resting.values())
    resting = sum((r.remaining for r in e.resting.values()), D(0))
    assert submitted == 2 * traded + resting + expired_or_cancelled  # each trade consumes two orders' quantity
