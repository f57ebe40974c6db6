"""Basket margin (POST /margins/basket) through the real Zerodha connector against the emulator over loopback,
and the pure parser of the answer."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.zerodha.client import ZerodhaClient
from connectors.zerodha.margins import parse_basket_margin
from core.chain.margin import BasketMargin, MarginLeg
from core.domain import Instrument, InstrumentKind, OptionRight, Side
from core.errors import ValidationError, VenueError

D = Decimal
RATE = D("0.15")  # the emulator's span + exposure on a short option's value


def series(client: ZerodhaClient, right: OptionRight) -> tuple[list[Instrument], list[Instrument]]:
    """Two option series (strike-sorted) of one underlying and right: the nearest expiry and the next."""
    by_expiry: dict[Any, list[Instrument]] = defaultdict(list)
    for inst in client.instruments():
        if inst.kind is InstrumentKind.OPTION and inst.right is right and inst.underlying == "NIFTY":
            by_expiry[inst.expiry].append(inst)
    first, second = sorted(by_expiry)[:2]
    return (sorted(by_expiry[first], key=lambda i: i.strike or 0), sorted(by_expiry[second], key=lambda i: i.strike or 0))


def leg(inst: Instrument, side: Side, lots: int, price: str) -> MarginLeg:
    return MarginLeg(inst.id, side, inst.lot_size * lots, D(price))


async def test_a_bull_call_spread_blocks_less_than_its_naked_short_call(client: ZerodhaClient) -> None:
    calls, _ = series(client, OptionRight.CALL)
    low, high = calls[len(calls) // 2], calls[len(calls) // 2 + 2]
    qty = low.lot_size
    naked = await client.basket_margin([leg(high, Side.SELL, 1, "80")])
    assert naked.initial == naked.final == RATE * 80 * qty and naked.benefit == 0
    spread = await client.basket_margin([leg(low, Side.BUY, 1, "150"), leg(high, Side.SELL, 1, "80")])
    assert spread.initial == 150 * qty + RATE * 80 * qty  # the legs one by one
    assert spread.final == 150 * qty  # the short call is covered by the lower-strike long call
    assert spread.benefit == RATE * 80 * qty and spread.option_premium == 150 * qty
    assert spread.legs == (150 * qty, RATE * 80 * qty)


async def test_only_hedging_longs_of_the_same_series_give_a_benefit(client: ZerodhaClient) -> None:
    calls, later_calls = series(client, OptionRight.CALL)
    puts, _ = series(client, OptionRight.PUT)
    mid = len(calls) // 2
    qty = calls[mid].lot_size
    # bear call spread: the long call is above the short, the worst loss (strike width) exceeds 15 % of premium
    bear = await client.basket_margin([leg(calls[mid], Side.SELL, 1, "150"), leg(calls[mid + 2], Side.BUY, 1, "80")])
    assert bear.benefit == 0
    # a long call of another expiry does not cover
    other = next(i for i in later_calls if i.strike == calls[mid].strike)
    calendar = await client.basket_margin([leg(other, Side.BUY, 1, "150"), leg(calls[mid + 2], Side.SELL, 1, "80")])
    assert calendar.benefit == 0
    # bear put spread: long the higher put, short the lower one -> covered
    mid_p = len(puts) // 2
    bear_put = await client.basket_margin([leg(puts[mid_p + 2], Side.BUY, 1, "150"), leg(puts[mid_p], Side.SELL, 1, "80")])
    assert bear_put.final == 150 * qty and bear_put.benefit == RATE * 80 * qty
    # two lots short, one lot long: only one lot is covered
    partial = await client.basket_margin([leg(calls[mid], Side.BUY, 1, "150"), leg(calls[mid + 2], Side.SELL, 2, "80")])
    assert partial.final == 150 * qty + RATE * 80 * qty and partial.benefit == RATE * 80 * qty


async def test_bad_baskets_raise_core_errors(client: ZerodhaClient) -> None:
    with pytest.raises(ValidationError, match="InputException"):
        await client.rest.request("POST", "/margins/basket", json_body=[{"exchange": "NFO", "tradingsymbol": "NOPE",
                                                                          "transaction_type": "SELL", "quantity": 75}])
    with pytest.raises(ValidationError, match="InputException"):
        await client.rest.request("POST", "/margins/basket", json_body={"not": "a list"})


def test_parse_reads_kite_totals() -> None:
    data = {"initial": {"total": D("1200.50"), "option_premium": 900}, "final": {"total": D("900"), "option_premium": 900},
            "orders": [{"total": 900}, {"total": D("300.50")}], "charges": {"total": 0}}
    assert parse_basket_margin(data) == BasketMargin(D("1200.50"), D("900"), D("900"), (D("900"), D("300.50")))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                           | st.decimals(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
                               ["initial", "final", "orders", "total", "option_premium"]), inner, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_parse_never_fails_with_anything_but_a_venue_error(data: Any) -> None:
    try:
        result = parse_basket_margin(data)
    except VenueError:
        return
    assert isinstance(result.initial, Decimal) and isinstance(result.final, Decimal)
