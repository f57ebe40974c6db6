from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import (ClientOrderId, Fill, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, Side, Venue,
                         VenueOrderReport)
from core.trading.state import apply_fill, apply_report, settle

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
CID = ClientOrderId("c1")
S = OrderStatus


def order(qty: str = "3", status: OrderStatus = S.PENDING_NEW) -> Order:
    return Order(CID, OrderRequest(BTC, Side.BUY, Decimal(qty), OrderType.LIMIT, price=Decimal(100)), status=status)


def rep(status: OrderStatus, filled: str | None = None, seq: int = 0, **kw: object) -> VenueOrderReport:
    return VenueOrderReport(Venue.BINANCE, CID, "V1", status, BTC, Decimal(filled) if filled is not None else None,
                            Decimal(100) if filled else None, seq=seq, **kw)  # type: ignore[arg-type]


def fill(trade: str, qty: str, price: str = "100") -> Fill:
    return Fill(CID, "V1", trade, BTC, Side.BUY, Decimal(qty), Decimal(price))


def test_ack_then_partial_then_filled() -> None:
    o = apply_report(order(), rep(S.OPEN, "0", seq=1))
    assert o.status is S.OPEN and o.venue_order_id == "V1" and o.venue_seq == 1
    o = apply_report(o, rep(S.PARTIALLY_FILLED, "1", seq=2))
    assert (o.status, o.filled_quantity) == (S.PARTIALLY_FILLED, 1)
    o = apply_report(o, rep(S.FILLED, "3", seq=3))
    assert (o.status, o.filled_quantity) == (S.FILLED, 3)


def test_a_duplicate_or_stale_report_changes_nothing() -> None:
    o = apply_report(order(), rep(S.PARTIALLY_FILLED, "2", seq=5))
    assert apply_report(o, rep(S.PARTIALLY_FILLED, "2", seq=5)) is o
    assert apply_report(o, rep(S.OPEN, "0", seq=4)) is o


def test_without_seq_filled_never_decreases_and_open_never_undoes_a_partial() -> None:
    o = apply_report(order(), rep(S.PARTIALLY_FILLED, "2"))
    late = apply_report(o, rep(S.OPEN, "0"))
    assert (late.status, late.filled_quantity) == (S.PARTIALLY_FILLED, 2)


def test_a_terminal_state_is_never_left_but_late_fill_quantity_is_kept() -> None:
    o = apply_report(order(), rep(S.CANCELLED))
    assert apply_report(o, rep(S.OPEN, "0")).status is S.CANCELLED
    late = apply_fill(o, fill("t1", "1"), Decimal(0))
    assert (late.status, late.filled_quantity) == (S.CANCELLED, 1)


def test_fill_before_ack_moves_to_partially_filled() -> None:
    o = apply_fill(order(), fill("t1", "1"), Decimal(0))
    assert (o.status, o.filled_quantity, o.average_price) == (S.PARTIALLY_FILLED, 1, 100)
    o = apply_report(o, rep(S.OPEN, "0"))  # the late ack
    assert o.status is S.PARTIALLY_FILLED and o.venue_order_id == "V1"


def test_a_fill_already_counted_by_a_report_does_not_count_twice() -> None:
    o = apply_report(order(), rep(S.PARTIALLY_FILLED, "1"))
    assert apply_fill(o, fill("t1", "1"), Decimal(0)) is o
    o2 = apply_fill(o, fill("t2", "2", "106"), Decimal(1))
    assert (o2.status, o2.filled_quantity, o2.average_price) == (S.FILLED, 3, 104)


def test_cancel_pending_survives_a_stale_open_and_a_partial_fill() -> None:
    o = apply_report(order(), rep(S.OPEN, "0")).transition(S.CANCEL_PENDING)
    assert apply_report(o, rep(S.OPEN, "0")).status is S.CANCEL_PENDING
    o = apply_fill(o, fill("t1", "1"), Decimal(0))
    assert (o.status, o.filled_quantity) == (S.CANCEL_PENDING, 1)
    assert apply_report(o, rep(S.CANCELLED, "1")).status is S.CANCELLED


def test_cancel_pending_then_fill_completes_the_order() -> None:
    o = apply_report(order(), rep(S.OPEN, "0")).transition(S.CANCEL_PENDING)
    assert apply_fill(o, fill("t1", "3"), Decimal(0)).status is S.FILLED


def test_a_failed_cancel_resolves_to_the_venue_state() -> None:
    o = apply_report(order(), rep(S.PARTIALLY_FILLED, "1")).transition(S.CANCEL_PENDING)
    assert apply_report(o, rep(S.PARTIALLY_FILLED, "1", seq=9), resolve_cancel=True).status is S.PARTIALLY_FILLED


def test_reject_after_open_ends_cancelled_with_the_reason() -> None:
    o = apply_report(order(), rep(S.OPEN, "0"))
    o = apply_report(o, rep(S.REJECTED, reason="RMS: margin"))
    assert (o.status, o.reject_reason) == (S.CANCELLED, "RMS: margin")


def test_modify_ack_updates_working_price_and_quantity() -> None:
    o = apply_report(order(), rep(S.OPEN, "0", seq=1))
    o = apply_report(o, rep(S.OPEN, "0", seq=2, price=Decimal(99), quantity=Decimal(5)))
    assert (o.price, o.quantity) == (Decimal(99), Decimal(5))


def test_filled_report_without_quantities_fills_the_order() -> None:
    o = apply_report(order(), rep(S.FILLED))
    assert (o.status, o.filled_quantity) == (S.FILLED, 3)


def test_settle_never_touches_a_terminal_order() -> None:
    done = order(status=S.FILLED)
    assert settle(done, S.REJECTED, "x", 1) is done
    assert settle(order(), S.REJECTED, "not placed", 1).status is S.REJECTED


# A valid life of one order as the venue tells it: reports (with seq) and fills (with trade ids).
ScriptItem = VenueOrderReport | Fill
LIVES: dict[str, tuple[list[ScriptItem], OrderStatus, str]] = {
    "filled": ([rep(S.OPEN, "0", 1), rep(S.PARTIALLY_FILLED, "1", 2), fill("t1", "1"), fill("t2", "2"),
                rep(S.FILLED, "3", 3)], S.FILLED, "3"),
    "partly_cancelled": ([rep(S.OPEN, "0", 1), fill("t1", "1"), rep(S.PARTIALLY_FILLED, "1", 2),
                          rep(S.CANCELLED, "1", 3)], S.CANCELLED, "1"),
    "cancelled_no_cum": ([rep(S.OPEN, "0", 1), fill("t1", "2"), rep(S.CANCELLED, None, 2)], S.CANCELLED, "2"),
    "rejected": ([rep(S.REJECTED, None, 1, reason="no margin")], S.REJECTED, "0"),
    "expired_partial": ([rep(S.OPEN, "0", 1), fill("t1", "1"), fill("t2", "1"), rep(S.PARTIALLY_FILLED, "2", 2),
                         rep(S.EXPIRED, "2", 3)], S.EXPIRED, "2"),
}


def run(items: list[ScriptItem]) -> Order:
    """Apply items like the OMS does: fills deduplicated by trade id."""
    o, seen, applied = order(), set(), Decimal(0)
    for item in items:
        if isinstance(item, Fill):
            if item.trade_id in seen:
                continue
            seen.add(item.trade_id)
            o = apply_fill(o, item, applied)
            applied += item.quantity
        else:
            o = apply_report(o, item)
    return o


@settings(max_examples=200)
@given(st.sampled_from(sorted(LIVES)), st.data(), st.booleans())
def test_any_permutation_with_duplicates_ends_in_the_same_state(name: str, data: st.DataObject, drop_seq: bool) -> None:
    items, final_status, final_filled = LIVES[name]
    if drop_seq:  # venues without a sequence (Kite postbacks)
        items = [replace(i, seq=0) if isinstance(i, VenueOrderReport) else i for i in items]
    doubled = data.draw(st.lists(st.sampled_from(items), max_size=4))
    shuffled = data.draw(st.permutations(items + doubled))
    result = run(shuffled)
    assert (result.status, result.filled_quantity) == (final_status, Decimal(final_filled))
