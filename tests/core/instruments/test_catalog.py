from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Venue
from core.errors import UnknownInstrument, ValidationError
from core.instruments import InstrumentCatalog


def option(strike: int, right: OptionRight, expiry: datetime, symbol: str) -> Instrument:
    return Instrument(InstrumentId(Venue.ZERODHA, symbol), InstrumentKind.OPTION, "NFO", D("0.05"), D("75"),
                      expiry=expiry, strike=D(strike), right=right, underlying="NIFTY", venue_token=str(strike * 10 + (right is OptionRight.PUT)))


def catalog() -> InstrumentCatalog:
    dec, jan = datetime(2025, 12, 30, 15, 30), datetime(2026, 1, 27, 15, 30)
    return InstrumentCatalog([
        Instrument(InstrumentId(Venue.ZERODHA, "NIFTY 50"), InstrumentKind.INDEX, "NSE", D("0.05"), D("1"), name="NIFTY 50"),
        Instrument(InstrumentId(Venue.ZERODHA, "INFY"), InstrumentKind.EQUITY, "NSE", D("0.05"), D("1"), name="INFOSYS", venue_token="408065"),
        Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), name="BTC/USDT"),
        option(25000, OptionRight.CALL, dec, "NIFTY25DEC25000CE"),
        option(25000, OptionRight.PUT, dec, "NIFTY25DEC25000PE"),
        option(25000, OptionRight.CALL, jan, "NIFTY26JAN25000CE"),
        option(25100, OptionRight.CALL, dec, "NIFTY25DEC25100CE"),
    ])


def test_search_by_words_in_any_order() -> None:
    cat = catalog()
    hits = [i.symbol for i in cat.search("nifty 25000 ce")]
    assert hits == ["NIFTY25DEC25000CE", "NIFTY26JAN25000CE"]  # nearer expiry first
    assert [i.symbol for i in cat.search("25000 ce jan")] == ["NIFTY26JAN25000CE"]
    assert [i.symbol for i in cat.search("infosys")] == ["INFY"]
    assert cat.search("   ") == []


def test_exact_symbol_ranks_first() -> None:
    assert cat_first("infy") == "INFY"
    assert cat_first("btc") == "BTCUSDT"


def cat_first(q: str) -> str:
    return catalog().search(q)[0].symbol


def test_lookup_by_id_and_token_and_unknown_is_a_validation_error() -> None:
    cat = catalog()
    assert cat.by_token(Venue.ZERODHA, "408065").symbol == "INFY"  # type: ignore[union-attr]
    with pytest.raises(UnknownInstrument, match="unknown instrument NOPE.ZERODHA"):
        cat.get(InstrumentId(Venue.ZERODHA, "NOPE"))
    assert issubclass(UnknownInstrument, ValidationError)
    assert len(cat.options("NIFTY")) == 4


def test_add_replaces_by_id() -> None:
    cat = catalog()
    n = len(cat)
    new = Instrument(InstrumentId(Venue.ZERODHA, "INFY"), InstrumentKind.EQUITY, "NSE", D("0.05"), D("1"), name="INFOSYS LTD")
    cat.add([new])
    assert len(cat) == n and cat.get(new.id).name == "INFOSYS LTD"


def test_search_scales_to_a_full_instrument_dump() -> None:
    base = datetime(2025, 12, 30, 15, 30)
    many = [option(20000 + 50 * (k % 400), OptionRight.CALL if k % 2 else OptionRight.PUT, base + timedelta(days=7 * (k // 800)),
                   f"OPT{k}") for k in range(100_000)]
    cat = InstrumentCatalog(many)
    assert len(cat) == 100_000
    hits = cat.search("opt9999", limit=5)
    assert hits[0].symbol == "OPT9999"


def test_search_orders_aware_and_naive_expiries_together() -> None:
    """Kite expiries carry IST, others are naive UTC: one search over both must still rank by time."""
    ist = timezone(timedelta(hours=5, minutes=30))
    near = option(25000, OptionRight.CALL, datetime(2025, 12, 30, 15, 30, tzinfo=ist), "NIFTY25DEC25000CE")
    far = option(25000, OptionRight.CALL, datetime(2026, 1, 27, 10, 0), "NIFTY26JAN25000CE")  # naive: UTC
    perpetual = Instrument(InstrumentId(Venue.BINANCE_USDM, "NIFTYUSDT"), InstrumentKind.FUTURE, "PERP", D("0.1"), D("1"))
    found = InstrumentCatalog([perpetual, far, near]).search("nifty")
    assert [i.symbol for i in found] == ["NIFTYUSDT", "NIFTY25DEC25000CE", "NIFTY26JAN25000CE"]


def test_derivatives_by_underlying_follow_additions() -> None:
    cat = catalog()
    assert {i.symbol for i in cat.options("NIFTY")} == {"NIFTY25DEC25000CE", "NIFTY25DEC25000PE", "NIFTY26JAN25000CE",
                                                        "NIFTY25DEC25100CE"}
    assert cat.futures("NIFTY") == [] and cat.options("NIFTY", Venue.BINANCE) == [] and cat.options("BANKNIFTY") == []
    jan, dec = (Instrument(InstrumentId(Venue.ZERODHA, s), InstrumentKind.FUTURE, "NFO", D("0.1"), D("75"), expiry=e,
                           underlying="NIFTY") for s, e in (("NIFTY26JANFUT", datetime(2026, 1, 27, 15, 30)),
                                                            ("NIFTY25DECFUT", datetime(2025, 12, 30, 15, 30))))
    cat.add([jan, dec])  # the index built by the first call is rebuilt after an addition
    assert [i.symbol for i in cat.futures("NIFTY")] == ["NIFTY25DECFUT", "NIFTY26JANFUT"]  # nearest expiry first
    assert {i.symbol for i in cat.derivatives("NIFTY")} >= {"NIFTY25DECFUT", "NIFTY25DEC25000CE"}
