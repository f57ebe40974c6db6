from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Instrument, InstrumentId, InstrumentKind, Rounding, Side, Venue, round_price, round_quantity, to_decimal

ticks = st.sampled_from([Decimal("0.05"), Decimal("0.01"), Decimal("0.1"), Decimal("1"), Decimal("0.00001"), Decimal("25")])
prices = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("1000000"), places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=300)
@given(prices, ticks)
def test_rounding_lands_on_the_tick_in_the_stated_direction(price: Decimal, tick: Decimal) -> None:
    down = round_price(price, tick, Rounding.DOWN)
    up = round_price(price, tick, Rounding.UP)
    nearest = round_price(price, tick, Rounding.NEAREST)
    for value in (down, up, nearest):
        assert value % tick == 0
    assert down <= price <= up
    assert up - down in (Decimal(0), tick)
    assert abs(nearest - price) <= tick / 2
    if price % tick == 0:
        assert down == up == nearest == price


@settings(max_examples=200)
@given(prices, ticks)
def test_rounding_is_idempotent(price: Decimal, tick: Decimal) -> None:
    once = round_price(price, tick, Rounding.NEAREST)
    assert round_price(once, tick, Rounding.NEAREST) == once


@settings(max_examples=200)
@given(prices, st.sampled_from([Decimal("1"), Decimal("75"), Decimal("0.001"), Decimal("0.00001")]))
def test_quantity_rounds_down_to_whole_lots(qty: Decimal, lot: Decimal) -> None:
    rounded = round_quantity(qty, lot)
    assert rounded % lot == 0 and rounded <= qty < rounded + lot


def test_examples() -> None:
    assert round_price(Decimal("101.23"), Decimal("0.05"), Rounding.DOWN) == Decimal("101.20")
    assert round_price(Decimal("101.23"), Decimal("0.05"), Rounding.UP) == Decimal("101.25")
    assert str(round_price(Decimal("100"), Decimal("0.05"), Rounding.UP)) == "100.00"
    assert round_quantity(Decimal("160"), Decimal("75")) == Decimal("150")


def test_passive_rounding_never_pays_more() -> None:
    inst = Instrument(InstrumentId(Venue.ZERODHA, "INFY"), InstrumentKind.EQUITY, "NSE", Decimal("0.05"), Decimal("1"))
    assert inst.round_limit_price(Decimal("1500.03"), Side.BUY) == Decimal("1500.00")
    assert inst.round_limit_price(Decimal("1500.03"), Side.SELL) == Decimal("1500.05")
    assert inst.price_decimals == 2 and inst.is_on_tick(Decimal("1500.05")) and not inst.is_on_tick(Decimal("1500.03"))


def test_to_decimal_avoids_float_artefacts_and_rejects_junk() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    for bad in ("abc", float("nan"), float("inf"), "NaN"):
        with pytest.raises(ValueError):
            to_decimal(bad)


def test_bad_increment_is_refused() -> None:
    with pytest.raises(ValueError):
        round_price(Decimal(1), Decimal(0), Rounding.DOWN)


def test_instrument_id_round_trips_through_text() -> None:
    iid = InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE")
    assert InstrumentId.parse(str(iid)) == iid
    with pytest.raises(ValueError):
        InstrumentId.parse("nodot")
