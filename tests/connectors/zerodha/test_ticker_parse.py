"""The Kite Ticker binary parser: reference vectors, kiteconnect parity, round trips, malformed messages."""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.emulator.kite.packets import HEARTBEAT, RawTick, encode_frame, encode_packet
from connectors.zerodha.ticker import FULL_PACKET, QUOTE_PACKET, MalformedFrame, parse_frame, parse_packet
from connectors.zerodha.ticks import to_book, to_tick, to_trade
from core.domain import InstrumentId, Venue

# kite.md C15 test vectors (kiteconnect-mocks ticker_quote.packet / ticker_full.packet), rebuilt from their integers
QUOTE_VECTOR = QUOTE_PACKET.pack(408065, 157315, 1, 157033, 1175986, 256511, 360503, 156915, 157500, 156105, 156780)
FULL_VECTOR = FULL_PACKET.pack(
    408065, 157370, 7, 157037, 1192471, 256443, 363009, 156915, 157500, 156105, 156780, 1625461887, 0, 0, 0, 1625461887,
    5, 157340, 1, 140, 157300, 2, 2, 157295, 1, 219, 157290, 7, 50, 157285, 1,
    172, 157370, 3, 44, 157375, 3, 302, 157385, 3, 141, 157390, 2, 724, 157395, 5)
INFY = InstrumentId(Venue.ZERODHA, "INFY")


def test_quote_vector() -> None:
    tick = parse_packet(QUOTE_VECTOR)
    assert len(QUOTE_VECTOR) == 44
    assert tick.as_dict() == {
        "tradable": True, "mode": "quote", "instrument_token": 408065, "last_price": 1573.15, "last_traded_quantity": 1,
        "average_traded_price": 1570.33, "volume_traded": 1175986, "total_buy_quantity": 256511, "total_sell_quantity": 360503,
        "ohlc": {"open": 1569.15, "high": 1575.0, "low": 1561.05, "close": 1567.8}, "change": pytest.approx(0.3412425),
    }
    assert tick.segment == 1 and tick.depth is None and tick.oi is None


def test_full_vector() -> None:
    tick = parse_packet(FULL_VECTOR)
    assert len(FULL_VECTOR) == 184
    assert (tick.mode, tick.last_price, tick.last_traded_quantity, tick.average_traded_price) == ("full", 1573.70, 7, 1570.37)
    assert (tick.volume_traded, tick.total_buy_quantity, tick.total_sell_quantity) == (1192471, 256443, 363009)
    assert tick.last_trade_time == datetime(2021, 7, 5, 5, 11, 27, tzinfo=timezone.utc)  # 10:41:27 IST
    assert tick.exchange_timestamp == tick.last_trade_time
    assert (tick.oi, tick.oi_day_high, tick.oi_day_low) == (0, 0, 0)
    depth = tick.depth
    assert depth is not None
    assert [(d["quantity"], d["price"], d["orders"]) for d in depth["buy"]] == [
        (5, 1573.40, 1), (140, 1573.00, 2), (2, 1572.95, 1), (219, 1572.90, 7), (50, 1572.85, 1)]
    assert [(d["quantity"], d["price"], d["orders"]) for d in depth["sell"]] == [
        (172, 1573.70, 3), (44, 1573.75, 3), (302, 1573.85, 3), (141, 1573.90, 2), (724, 1573.95, 5)]


def test_vectors_inside_a_message_and_exact_conversion() -> None:
    records = parse_frame(encode_frame([QUOTE_VECTOR, FULL_VECTOR]))
    assert [r.mode for r in records] == ["quote", "full"]
    tick = to_tick(records[1], INFY, received_ns=1)
    assert (tick.last_price, tick.bid, tick.bid_quantity, tick.ask, tick.ask_quantity) == (
        Decimal("1573.70"), Decimal("1573.40"), 5, Decimal("1573.70"), 172)
    assert (tick.open, tick.close, tick.average_price, tick.volume) == (Decimal("1569.15"), Decimal("1567.80"), Decimal("1570.37"), 1192471)
    assert tick.ts_ns == 1625461887 * 10**9
    book = to_book(records[1], INFY, 1)
    assert book is not None and book.is_snapshot and len(book.bids) == len(book.asks) == 5
    assert book.asks[-1] == (Decimal("1573.95"), Decimal(724))
    assert to_book(records[0], INFY, 1) is None
    trade = to_trade(records[1], INFY, previous_volume=1192464, received_ns=5)
    assert trade is not None and (trade.price, trade.quantity) == (Decimal("1573.70"), Decimal(7))
    assert to_trade(records[1], INFY, previous_volume=1192471, received_ns=5) is None


def test_kiteconnect_parses_the_same_values() -> None:
    from kiteconnect import KiteTicker

    frame = encode_frame([
        FULL_VECTOR, QUOTE_VECTOR, struct.pack(">Ii", 408065, 157315),
        encode_packet(RawTick(256265, 2500085, open=2499040, high=2501000, low=2480000, close=2513580, exchange_timestamp=1625461887), "full"),
        encode_packet(RawTick(260105, 5500000, open=5490000, high=5510000, low=5480000, close=5495000), "quote"),
        encode_packet(RawTick(412675 & ~0xFF | 3, 7_212_345_67, close=7_200_000_00), "quote"),  # CDS: 7 decimals
        encode_packet(RawTick(1000 << 8 | 6, 72_1234, close=72_0000), "quote"),  # BCD: 4 decimals
        encode_packet(RawTick(1001 << 8 | 12, 5_4321, close=5_0000), "ltp"),  # NCO: 4 decimals
    ])
    ours = [r.as_dict() for r in parse_frame(frame)]
    theirs = KiteTicker("key", "token")._parse_binary(frame)
    assert len(ours) == len(theirs) == 8
    for mine, ref in zip(ours, theirs):
        assert mine.keys() == ref.keys()
        for key in mine:
            if key in ("last_trade_time", "exchange_timestamp"):
                assert (mine[key] and mine[key].timestamp()) == (ref[key] and ref[key].timestamp())
            elif key == "change":
                assert mine[key] == pytest.approx(ref[key])
            else:
                assert mine[key] == ref[key], key
    assert (ours[5]["last_price"], ours[6]["last_price"], ours[7]["last_price"]) == (72.1234567, 72.1234, 5.4321)


def test_heartbeats_and_empty_messages() -> None:
    assert parse_frame(HEARTBEAT) == []
    assert parse_frame(b"") == []
    assert parse_frame(struct.pack(">H", 0)) == []


@pytest.mark.parametrize("payload, problem", [
    (struct.pack(">HH", 1, 50) + b"\x00" * 50, "50 bytes"),  # no such layout
    (struct.pack(">HH", 1, 184) + b"\x00" * 60, "claims 184 bytes"),  # truncated
    (struct.pack(">H", 2) + struct.pack(">H", 8) + struct.pack(">Ii", 408065, 1), "header of packet 2"),  # count too high
    (encode_frame([QUOTE_VECTOR]) + b"\x00\x01", "left over"),  # trailing bytes
    (encode_frame([QUOTE_PACKET.pack(256265, *range(10))]), "index packet of 44"),  # tradable size, index token
    (encode_frame([struct.pack(">Iiiiiiii", 408065, *range(7))]), "packet of 32 bytes"),  # index size, tradable token
])
def test_malformed_messages_are_rejected_whole(payload: bytes, problem: str) -> None:
    with pytest.raises(MalformedFrame, match=problem):
        parse_frame(payload)


def test_a_bad_packet_among_many_rejects_the_message() -> None:
    good = [FULL_VECTOR] * 40
    frame = bytearray(encode_frame(good))
    struct.pack_into(">H", frame, 2 + 17 * 186, 183)  # packet 18's length off by one: the rest no longer adds up
    with pytest.raises(MalformedFrame):
        parse_frame(bytes(frame))
    index_token = bytearray(encode_frame(good))
    struct.pack_into(">I", index_token, 4 + 5 * 186, 256265)  # an index token in a full tradable packet
    with pytest.raises(MalformedFrame, match="index packet of 184"):
        parse_frame(bytes(index_token))


def test_uniform_and_mixed_paths_agree() -> None:
    """Equal-length messages take the vectorised path; mixed lengths the packet walk: same records."""
    many = [FULL_PACKET.pack(i << 8 | 2, *FULL_PACKET.unpack(FULL_VECTOR)[1:]) for i in range(1, 41)]
    uniform = [r.as_dict() for r in parse_frame(encode_frame(many))]
    one_by_one = [r.as_dict() for p in many for r in parse_frame(encode_frame([p]))]
    assert uniform == one_by_one
    mixed = parse_frame(encode_frame([QUOTE_VECTOR] * 10 + [struct.pack(">Ii", 408065, 1)] * 20 + [FULL_VECTOR] * 10))
    assert [r.mode for r in mixed] == ["quote"] * 10 + ["ltp"] * 20 + ["full"] * 10


u32 = st.integers(0, 2**32 - 1)
i32 = st.integers(-2**31, 2**31 - 1)
level = st.tuples(u32, i32, st.integers(0, 65535))
segments = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 12])


raw_ticks = st.builds(
    lambda token, seg, ints, bids, asks, mode: (RawTick(token << 8 | seg, *ints, bids=tuple(bids), asks=tuple(asks)), mode),
    st.integers(0, 2**24 - 1), segments,
    st.tuples(i32, u32, i32, u32, u32, u32, i32, i32, i32, i32, u32, u32, u32, u32, u32, i32),
    st.lists(level, max_size=5), st.lists(level, max_size=5), st.sampled_from(["ltp", "quote", "full"]))


@settings(max_examples=100, deadline=None)
@given(st.lists(raw_ticks, max_size=6))
def test_round_trip(items: list[tuple[RawTick, str]]) -> None:
    records = parse_frame(encode_frame(encode_packet(t, mode) for t, mode in items))
    assert len(records) == len(items)
    for record, (tick, mode) in zip(records, items):
        exp = {3: 7, 6: 4, 12: 4}.get(tick.instrument_token & 0xFF, 2)
        div = 10**exp
        assert (record.instrument_token, record.mode, record.tradable) == (tick.instrument_token, mode, not tick.is_index)
        assert record.last_price == tick.last_price / div
        core = to_tick(record, INFY, received_ns=7)
        assert core.last_price == Decimal(tick.last_price).scaleb(-exp)
        if mode == "ltp":
            assert record.ohlc is None and record.volume_traded is None
            continue
        assert record.ohlc == {"open": tick.open / div, "high": tick.high / div, "low": tick.low / div, "close": tick.close / div}
        if tick.is_index:
            assert record.volume_traded is None and record.depth is None
            assert record.exchange_timestamp == (_utc(tick.exchange_timestamp) if mode == "full" else None)
            continue
        assert (record.last_traded_quantity, record.volume_traded, record.total_buy_quantity, record.total_sell_quantity) == (
            tick.last_traded_quantity, tick.volume_traded, tick.total_buy_quantity, tick.total_sell_quantity)
        assert record.average_traded_price == tick.average_traded_price / div
        if mode == "full":
            assert (record.oi, record.oi_day_high, record.oi_day_low) == (tick.oi, tick.oi_day_high, tick.oi_day_low)
            assert record.last_trade_time == _utc(tick.last_trade_time)
            assert record.exchange_timestamp == _utc(tick.exchange_timestamp)
            padded = [*tick.bids, *[(0, 0, 0)] * (5 - len(tick.bids)), *tick.asks, *[(0, 0, 0)] * (5 - len(tick.asks))]
            depth = record.depth
            assert depth is not None
            assert [(d["quantity"], d["price"], d["orders"]) for d in depth["buy"] + depth["sell"]] == [
                (q, p / div, n) for q, p, n in padded]
            book = to_book(record, INFY, 7)
            assert book is not None
            assert book.bids == tuple((Decimal(p).scaleb(-exp), Decimal(q)) for q, p, _ in tick.bids if q)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_misparse(payload: bytes) -> None:
    """Arbitrary bytes either parse into packets whose lengths add up exactly, or are rejected."""
    try:
        records = parse_frame(payload)
    except MalformedFrame:
        return
    if len(payload) < 2:
        assert records == []
        return
    assert 2 + sum(2 + r.length for r in records) == len(payload)
    assert all(r.length in (8, 28, 32, 44, 184) for r in records)


def _utc(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds else None
