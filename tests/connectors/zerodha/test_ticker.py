from __future__ import annotations

import struct
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.emulator.contract import MarketSummary
from connectors.emulator.kite import codec
from connectors.zerodha.ticker import TickerFrameError, parse_frame, parse_packet

QUOTE_WORDS = (408065, 157315, 1, 157033, 1175986, 256511, 360503, 156915, 157500, 156105, 156780)
FULL_HEAD = (408065, 157370, 7, 157037, 1192471, 256443, 363009, 156915, 157500, 156105, 156780, 1625461887, 0, 0, 0, 1625461887)
FULL_BIDS = ((5, 157340, 1), (140, 157300, 2), (2, 157295, 1), (219, 157290, 7), (50, 157285, 1))
FULL_ASKS = ((172, 157370, 3), (44, 157375, 3), (302, 157385, 3), (141, 157390, 2), (724, 157395, 5))


def frame(*packets: bytes) -> bytes:
    return codec.message(list(packets))


def test_reference_quote_vector() -> None:
    (r,) = parse_frame(frame(struct.pack(">11I", *QUOTE_WORDS)))
    assert (r["instrument_token"], r["mode"], r["tradable"]) == (408065, "quote", True)
    assert r["last_price"] == 1573.15 and r["last_traded_quantity"] == 1 and r["average_traded_price"] == 1570.33
    assert (r["volume_traded"], r["total_buy_quantity"], r["total_sell_quantity"]) == (1175986, 256511, 360503)
    assert r["ohlc"] == {"open": 1569.15, "high": 1575.0, "low": 1561.05, "close": 1567.8}


def test_reference_full_vector_with_depth() -> None:
    depth = b"".join(struct.pack(">iiH2x", *lvl) for lvl in FULL_BIDS + FULL_ASKS)
    (r,) = parse_frame(frame(struct.pack(">16I", *FULL_HEAD) + depth))
    assert r["mode"] == "full" and r["last_price"] == 1573.70 and r["last_traded_quantity"] == 7
    assert r["last_trade_time"].timestamp() == 1625461887 and r["exchange_timestamp"].timestamp() == 1625461887
    assert r["depth"]["buy"][0] == {"quantity": 5, "price": 1573.40, "orders": 1}
    assert r["depth"]["sell"][4] == {"quantity": 724, "price": 1573.95, "orders": 5}


def test_index_packets_and_divisors() -> None:
    index = struct.pack(">8i", (1001 << 8) | 9, 2500050, 2510000, 2490000, 2495000, 2498000, 2050, 1700000000)
    (r,) = parse_frame(frame(index))
    assert r["tradable"] is False and r["mode"] == "full" and r["last_price"] == 25000.5
    assert r["ohlc"] == {"high": 25100.0, "low": 24900.0, "open": 24950.0, "close": 24980.0}
    (q,) = parse_frame(frame(index[:28]))
    assert q["mode"] == "quote" and "exchange_timestamp" not in q
    cds = struct.pack(">ii", (7 << 8) | 3, 833_456_700)  # segment 3: divide by 10,000,000
    assert parse_packet(cds)["last_price"] == pytest.approx(83.34567)
    bcd = struct.pack(">ii", (7 << 8) | 6, 833_456)  # segment 6: divide by 10,000
    assert parse_packet(bcd)["last_price"] == pytest.approx(83.3456)


def test_heartbeat_and_bad_frames() -> None:
    assert parse_frame(b"\x00") == []
    good = struct.pack(">11I", *QUOTE_WORDS)
    for bad, message in [
        (frame(good[:43]), "43 bytes"),
        (frame(b"\x00\x00\x01\x09" + b"\x00" * 26), "index packet of 30 bytes"),
        (frame(good)[:-3], "truncated"),
        (frame(good) + b"\x00", "trailing bytes"),
        (struct.pack(">H", 2) + struct.pack(">H", 44) + good, "truncated"),
    ]:
        with pytest.raises(TickerFrameError, match=message):
            parse_frame(bad)


prices = st.decimals(min_value=D("0.05"), max_value=D("99999.95"), places=2)
ints = st.integers(0, 2**31 - 1)


@settings(max_examples=200)
@given(st.integers(1, 2**20), prices, ints, prices, ints, ints, ints, prices, prices, prices, prices, ints, ints,
       st.lists(st.tuples(prices, st.integers(0, 10**6)), min_size=0, max_size=5),
       st.lists(st.tuples(prices, st.integers(0, 10**6)), min_size=0, max_size=5), st.sampled_from(["ltp", "quote", "full"]))
def test_round_trip_through_the_emulator_encoder(n: int, last: D, qty: int, avg: D, vol: int, buy: int, sell: int, o: D, h: D,
                                                  low: D, close: D, oi: int, ts: int, bids: list, asks: list, mode: str) -> None:  # type: ignore[type-arg]
    token = (n << 8) | 2  # NFO
    summary = MarketSummary("NFO", "X", last, D(qty), ts * 10**9, o, h, low, close, D(vol), avg, None, D(0), None, D(0), D(buy), D(sell),
                            D(oi), D(oi), D(oi))
    depth = ([(p, D(q)) for p, q in bids], [(p, D(q)) for p, q in asks])
    (r,) = parse_frame(frame(codec.tradable_packet(token, summary, mode, depth, ts)))
    assert r["instrument_token"] == token and r["mode"] == mode and r["last_price"] == pytest.approx(float(last))
    if mode != "ltp":
        assert r["volume_traded"] == vol and r["ohlc"]["close"] == pytest.approx(float(close))
    if mode == "full":
        assert r["oi"] == oi
        assert [(lvl["price"], lvl["quantity"]) for lvl in r["depth"]["buy"][:len(bids)]] == [(pytest.approx(float(p)), q) for p, q in bids]
        assert all(lvl["quantity"] == 0 for lvl in r["depth"]["sell"][len(asks):])
