from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core.domain import Instrument, InstrumentId, InstrumentKind, OrderRequest, OrderType, Product, Side, Venue
from core.risk import OrderContext, RiskLimits
from core.risk.rules import (daily_loss, exit_only, gross_exposure, market_protection, max_order_quantity,
                             max_order_value, max_position, price_band, stale_feed)

NIFTY = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DECFUT"), InstrumentKind.FUTURE, "NFO", Decimal("0.05"),
                   Decimal(75), underlying="NIFTY")


def ctx(qty: str = "75", price: str | None = "25000", kind: OrderType = OrderType.LIMIT, side: Side = Side.BUY,
        **kw: object) -> OrderContext:
    trigger = Decimal(price or "25000") if kind.has_trigger else None
    req = OrderRequest(NIFTY.id, side, Decimal(qty), kind, price=Decimal(price) if kind.has_price and price else None,
                       trigger_price=trigger, product=Product.NRML)
    base = OrderContext(request=req, instrument=NIFTY, limits=RiskLimits(), reference_price=Decimal(25000),
                        position=Decimal(0), working_same_side=Decimal(0), gross_exposure=Decimal(0), day_pnl=Decimal(0),
                        feed_age_s=0.1, feed_stale=False, market_protection=None)
    return replace(base, **kw)  # type: ignore[arg-type]


def limits(**kw: object) -> RiskLimits:
    return RiskLimits.from_dict(kw)


def test_max_order_quantity() -> None:
    assert max_order_quantity(ctx("150", limits=limits(max_order_quantity=150))) is None
    v = max_order_quantity(ctx("225", limits=limits(max_order_quantity=150)))
    assert v is not None and (v.rule, v.message) == ("max_order_quantity", "225 > limit 150")


def test_max_order_value_names_both_amounts() -> None:
    lim = limits(max_order_value="1000000")
    assert max_order_value(ctx("40", limits=lim)) is None  # 1,000,000.00 exactly
    v = max_order_value(ctx("50", limits=lim))
    assert v is not None and v.message == "1,250,000.00 INR > limit 1,000,000.00 INR"


def test_max_order_value_of_market_orders_uses_the_last_price_and_needs_one() -> None:
    lim = limits(max_order_value="1000000")
    v = max_order_value(ctx("75", None, OrderType.MARKET, limits=lim))
    assert v is not None and v.message == "1,875,000.00 INR > limit 1,000,000.00 INR"
    v = max_order_value(ctx("1", None, OrderType.MARKET, limits=lim, reference_price=None))
    assert v is not None and "no price to value a market order" in v.message


def test_price_band() -> None:
    assert price_band(ctx(price="26250")) is None  # exactly 5%
    v = price_band(ctx(price="26500"))
    assert v is not None and v.message == "price 26500 is 6.00% from the last price 25000 > band 5.00%"
    v = price_band(ctx(reference_price=None))
    assert v is not None and "no last price for NIFTY25DECFUT" in v.message
    assert price_band(ctx(price="99999", limits=limits(price_band_pct="none"))) is None


def test_max_position_counts_working_orders_on_the_same_side() -> None:
    lim = limits(max_position_quantity=300)
    assert max_position(ctx("150", position=Decimal(150), limits=lim)) is None
    v = max_position(ctx("75", position=Decimal(150), working_same_side=Decimal(150), limits=lim))
    assert v is not None and v.message == "NIFTY25DECFUT position would be 375 (held 150, working 150) > limit 300"
    assert max_position(ctx("75", side=Side.SELL, position=Decimal(900), limits=lim)) is None  # reducing


def test_gross_exposure() -> None:
    lim = limits(max_gross_exposure="5000000")
    assert gross_exposure(ctx("75", gross_exposure=Decimal(3_000_000), limits=lim)) is None
    v = gross_exposure(ctx("150", gross_exposure=Decimal(3_000_000), limits=lim))
    assert v is not None and v.message == "6,750,000.00 INR after this order > limit 5,000,000.00 INR"


def test_daily_loss_halts_new_risk_but_not_reductions() -> None:
    lim = limits(daily_loss_limit="50000")
    assert daily_loss(ctx(day_pnl=Decimal(-49999), limits=lim)) is None
    v = daily_loss(ctx(day_pnl=Decimal(-50000), limits=lim))
    assert v is not None and v.message.startswith("day P&L -50,000.00 INR breached the limit -50,000.00 INR")
    assert daily_loss(ctx(side=Side.SELL, position=Decimal(75), day_pnl=Decimal(-90000), limits=lim)) is None


@pytest.mark.parametrize("kind", [OrderType.MARKET, OrderType.STOP_MARKET])
def test_market_protection_where_the_venue_needs_it(kind: OrderType) -> None:
    lim = limits(require_market_protection=True)
    v = market_protection(ctx(price=None, kind=kind, limits=lim))
    assert v is not None and v.message.startswith(f"ZERODHA needs market protection on {kind.value} orders")
    assert market_protection(ctx(price=None, kind=kind, limits=lim, market_protection=Decimal(0))) is not None
    bad = market_protection(ctx(price=None, kind=kind, limits=lim, market_protection=Decimal(150)))
    assert bad is not None and "not a valid protection" in bad.message
    assert market_protection(ctx(price=None, kind=kind, limits=lim, market_protection=Decimal(2))) is None
    assert market_protection(ctx(price=None, kind=kind, limits=lim, market_protection=Decimal(-1))) is None
    assert market_protection(ctx(price=None, kind=kind, limits=limits(require_market_protection=True,
                                                                      market_protection_pct="3"))) is None
    assert market_protection(ctx(price=None, kind=kind)) is None  # venue does not require it
    assert market_protection(ctx(limits=lim)) is None  # limit orders need none


def test_no_market_order_on_a_stale_feed() -> None:
    v = stale_feed(ctx(price=None, kind=OrderType.MARKET, feed_stale=True, feed_age_s=7.25))
    assert v is not None and v.message == ("no market order while the NIFTY25DECFUT feed is stale "
                                           "(last update 7.2 s ago; limit 5.0 s)")
    v = stale_feed(ctx(price=None, kind=OrderType.MARKET, feed_stale=True, feed_age_s=None))
    assert v is not None and "no update yet" in v.message
    assert stale_feed(ctx(feed_stale=True)) is None  # a limit order may rest on a stale feed
    assert stale_feed(ctx(price=None, kind=OrderType.MARKET)) is None


def test_exit_orders_must_reduce() -> None:
    assert exit_only(ctx(side=Side.SELL, position=Decimal(150), exit=True)) is None
    v = exit_only(ctx("225", side=Side.SELL, position=Decimal(150), exit=True))
    assert v is not None and v.message == "an exit order of -225 would not reduce the NIFTY25DECFUT position 150"
    assert exit_only(ctx("225", side=Side.SELL, position=Decimal(150))) is None  # not an exit
