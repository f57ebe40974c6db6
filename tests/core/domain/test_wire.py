from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import (BarEvent, BookDelta, ClientOrderId, Fill, Instrument, InstrumentId, InstrumentKind, OptionRight, Order,
                         OrderRequest, OrderStatus, OrderType, Position, Product, Side, Tick, Venue)
from core.domain.wire import decode, encode

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
decimals = st.decimals(min_value=D("0.00000001"), max_value=D("100000000"), places=8, allow_nan=False, allow_infinity=False)


def roundtrip(value: object) -> object:
    return decode(json.loads(json.dumps(encode(value))))


@settings(max_examples=150)
@given(decimals, decimals, st.sampled_from(list(Side)), st.sampled_from(list(OrderStatus)))
def test_orders_round_trip_exactly(qty: D, price: D, side: Side, status: OrderStatus) -> None:
    order = Order(ClientOrderId("SQ1"), OrderRequest(BTC, side, qty, OrderType.LIMIT, price=price, source="console"),
                  status=status, filled_quantity=D(0), venue_order_id="42")
    assert roundtrip(order) == order


@settings(max_examples=100)
@given(st.lists(st.tuples(decimals, decimals), max_size=5), st.integers(0, 2**62))
def test_book_deltas_round_trip(levels: list[tuple[D, D]], uid: int) -> None:
    delta = BookDelta(BTC, 1, tuple(levels), tuple(reversed(levels)), uid, True)
    assert roundtrip(delta) == delta


def test_other_types_round_trip() -> None:
    values = [
        Tick(BTC, 5, last_price=D("1.5"), bid=D("1.4")),
        Fill(ClientOrderId("c"), "v", "t1", BTC, Side.SELL, D("0.1"), D("100.25"), D("0.01"), "USDT", 7),
        Position(BTC, Product.SPOT, D("-1"), D("100")),
        BarEvent(BTC, "1m", 60, D(1), D(2), D("0.5"), D("1.5"), D(10), True),
        Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE"), InstrumentKind.OPTION, "NFO", D("0.05"), D("75"),
                   expiry=datetime(2025, 12, 30, 15, 30), strike=D("25000"), right=OptionRight.CALL, underlying="NIFTY"),
    ]
    for value in values:
        assert roundtrip(value) == value


def test_unknown_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown wire type"):
        decode({"__type__": "Spaceship"})
    with pytest.raises(TypeError):
        encode(object())


def test_containers_of_domain_objects_decode_without_a_hint() -> None:
    tick = Tick(BTC, 5, last_price=D("1.5"))
    assert roundtrip([tick, {"t": tick, "n": 1}]) == [tick, {"t": tick, "n": 1}]
