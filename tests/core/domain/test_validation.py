from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.domain import (Instrument, InstrumentId, InstrumentKind, OrderRequest, OrderType, Side, Venue, order_problems,
                         validate_order)
from core.errors import ValidationError

NIFTY_OPT = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE"), InstrumentKind.OPTION, "NFO", D("0.05"), D("75"), min_quantity=D("75"))
BTC = Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"),
                 quote_currency="USDT", min_quantity=D("0.00001"), max_quantity=D("9000"), min_notional=D("5"))
INDEX = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY 50"), InstrumentKind.INDEX, "NSE", D("0.05"), D("1"))


def req(inst: Instrument, qty: str, price: str | None = "100", **kw: object) -> OrderRequest:
    return OrderRequest(inst.id, Side.BUY, D(qty), OrderType.LIMIT if price else OrderType.MARKET,
                        price=D(price) if price else None, **kw)  # type: ignore[arg-type]


def test_a_good_order_passes() -> None:
    validate_order(NIFTY_OPT, req(NIFTY_OPT, "150", "101.05"))
    validate_order(BTC, req(BTC, "0.001", "90000.01"))


@pytest.mark.parametrize("inst,qty,price,message", [
    (NIFTY_OPT, "100", "101.05", "not a multiple of the lot size 75"),
    (NIFTY_OPT, "75", "101.03", "price 101.03 is off the tick 0.05 (nearest: 101.00 or 101.05)"),
    (BTC, "0.00001", "100", "order value 0.001 USDT is below the minimum 5 USDT"),
    (BTC, "10000", "100", "above the maximum 9000"),
    (BTC, "0.000015", "100", "not a multiple of the quantity step 0.00001"),
    (INDEX, "1", "100", "is an index and cannot be traded"),
])
def test_each_problem_is_named(inst: Instrument, qty: str, price: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_order(inst, req(inst, qty, price))
    assert message in str(info.value)


def test_min_notional_of_market_orders_uses_the_reference_price() -> None:
    market = req(BTC, "0.00002", None)
    assert order_problems(BTC, market) == []
    assert "below the minimum" in order_problems(BTC, market, reference_price=D("100"))[0]


def test_all_problems_are_listed_together() -> None:
    problems = order_problems(NIFTY_OPT, req(NIFTY_OPT, "100", "101.03"))
    assert len(problems) == 2


def test_stop_limit_sides() -> None:
    bad = OrderRequest(BTC.id, Side.BUY, D("1"), OrderType.STOP_LIMIT, price=D("99"), trigger_price=D("100"))
    assert any("far side" in p for p in order_problems(BTC, bad))
    good = OrderRequest(BTC.id, Side.BUY, D("1"), OrderType.STOP_LIMIT, price=D("101"), trigger_price=D("100"))
    assert order_problems(BTC, good) == []
