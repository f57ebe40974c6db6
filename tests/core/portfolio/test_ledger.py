from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.portfolio import CostMethod, PositionLedger

D = Decimal


def run(method: CostMethod, fills: list[tuple[str, str]], multiplier: str = "1") -> tuple[PositionLedger, list[Decimal]]:
    ledger = PositionLedger(method, D(multiplier))
    realised = [ledger.apply(D(q), D(p)) for q, p in fills]
    return ledger, realised


FILLS = [("10", "100"), ("10", "110"), ("-5", "120"), ("-20", "100"), ("5", "90")]


def test_average_cost_partial_close_flip_and_cover() -> None:
    ledger = PositionLedger()
    ledger.apply(D(10), D(100))
    ledger.apply(D(10), D(110))
    assert (ledger.quantity, ledger.average_price) == (20, 105)
    assert ledger.unrealised(D(120)) == 300
    assert ledger.apply(D(-5), D(120)) == 75  # 5 x (120 - 105); the average stays
    assert (ledger.quantity, ledger.average_price) == (15, 105)
    assert ledger.apply(D(-20), D(100)) == -75  # closes 15 at 105, opens 5 short at 100
    assert (ledger.quantity, ledger.average_price) == (-5, 100)
    assert ledger.unrealised(D(95)) == 25
    assert ledger.apply(D(5), D(90)) == 50
    assert (ledger.quantity, ledger.average_price, ledger.realised) == (0, 0, 50)


def test_fifo_closes_the_oldest_lots_first() -> None:
    ledger, realised = run(CostMethod.FIFO, FILLS)
    assert realised == [0, 0, 100, -100, 50]  # 5 x (120-100); 5 x 0 + 10 x (100-110); 5 x (100-90)
    assert (ledger.quantity, ledger.realised) == (0, 50)
    partial, _ = run(CostMethod.FIFO, FILLS[:3])
    assert partial.quantity == 15 and partial.average_price == (D(5) * 100 + D(10) * 110) / 15


def test_multiplier_scales_pnl_of_a_short() -> None:
    ledger, _ = run(CostMethod.AVERAGE, [("-2", "50")], multiplier="10")
    assert ledger.unrealised(D(45)) == 100
    assert ledger.apply(D(2), D(40)) == 200


def test_set_adopts_a_venue_position() -> None:
    for method in CostMethod:
        ledger = PositionLedger(method)
        ledger.set(D(-3), D(200))
        assert ledger.apply(D(1), D(190)) == 10
        assert (ledger.quantity, ledger.average_price) == (-2, 200)


fills = st.lists(st.tuples(st.integers(-50, 50).filter(bool), st.integers(1, 500)), min_size=1, max_size=15)


@settings(max_examples=200)
@given(fills, st.integers(1, 500), st.sampled_from(CostMethod), st.sampled_from([1, 25]))
def test_total_pnl_equals_cash_flow_whatever_the_method(trades: list[tuple[int, int]], mark: int, method: CostMethod,
                                                        multiplier: int) -> None:
    ledger = PositionLedger(method, D(multiplier))
    for qty, price in trades:
        ledger.apply(D(qty), D(price))
    cash = -sum(D(q) * D(p) for q, p in trades) * multiplier
    expected = cash + ledger.quantity * D(mark) * multiplier
    assert ledger.quantity == sum(q for q, _ in trades)
    assert ledger.realised + ledger.unrealised(D(mark)) == pytest.approx(expected, abs=D("1e-12"))
