"""BarBuilder: exact OHLCV from trades, bucket edges, empty intervals, late trades, clock closes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import BarEvent, InstrumentId, Venue
from core.marketdata.bars import Bar, BarBuilder
from core.marketdata.timeframes import NS, NSE_SESSION, Timeframe

IST = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")
KEY = "BTCUSDT.BINANCE"
S = NS  # one second in ns


def at(*parts: int, tz: ZoneInfo = UTC) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp()) * NS


class Recorder:
    def __init__(self) -> None:
        self.updates: list[Bar] = []
        self.closes: list[Bar] = []


def builder(timeframe: Timeframe = Timeframe.M1, **options: object) -> tuple[BarBuilder, Recorder]:
    seen = Recorder()
    return BarBuilder(KEY, timeframe, on_update=seen.updates.append, on_close=seen.closes.append,
                      **options), seen  # type: ignore[arg-type]


def ohlcv(bar: Bar) -> tuple[str, ...]:
    return tuple(str(v) for v in (bar.open, bar.high, bar.low, bar.close, bar.volume))


def test_a_bar_closes_exactly_at_the_bucket_edge() -> None:
    b, seen = builder()
    assert b.on_trade(Decimal("100"), Decimal("1"), 0) == []
    b.on_trade(Decimal("101"), Decimal("2"), 10 * S)
    b.on_trade(Decimal("99"), Decimal("1"), 60 * S - 1)
    closed = b.on_trade(Decimal("102"), Decimal("0.5"), 60 * S)
    assert len(closed) == 1 and closed == seen.closes
    first = closed[0]
    assert (first.start_ns, first.trades, first.closed) == (0, 3, True)
    assert ohlcv(first) == ("100", "101", "99", "99", "4")
    current = b.current
    assert current is not None and current.start_ns == 60 * S and not current.closed
    assert ohlcv(current) == ("102", "102", "102", "102", "0.5")
    assert [u.start_ns for u in seen.updates] == [0, 0, 0, 60 * S]
    assert b.series.start_ns.tolist() == [0, 60 * S]
    assert b.series.close.tolist() == [99.0, 102.0] and b.series.volume.tolist() == [4.0, 0.5]


def test_float_inputs_give_exact_decimals() -> None:
    b, _ = builder()
    b.on_trade(0.1, 0.1, 0)
    b.on_trade(0.3, 0.2, 1)
    bar = b.current
    assert bar is not None and bar.volume == Decimal("0.3") and bar.high == Decimal("0.3")


def test_empty_intervals_give_no_bar_by_default() -> None:
    b, seen = builder()
    b.on_trade(100, 1, 5 * S)
    b.on_trade(101, 1, 185 * S)
    assert [bar.start_ns for bar in seen.closes] == [0]
    assert b.series.start_ns.tolist() == [0, 180 * S]


def test_fill_empty_carries_the_last_close_into_flat_bars() -> None:
    b, seen = builder(fill_empty=True)
    b.on_trade(100, 1, 5 * S)
    b.on_trade(98, 1, 50 * S)
    closed = b.on_trade(101, 1, 185 * S)
    assert [bar.start_ns for bar in closed] == [0, 60 * S, 120 * S]
    flat = closed[1]
    assert ohlcv(flat) == ("98", "98", "98", "98", "0") and flat.trades == 0 and flat.closed
    assert b.series.start_ns.tolist() == [0, 60 * S, 120 * S, 180 * S]
    assert b.series.close.tolist() == [98.0, 98.0, 98.0, 101.0]
    assert seen.closes == closed


def test_on_time_closes_a_quiet_bar_and_fills_passed_buckets() -> None:
    b, seen = builder(fill_empty=True)
    b.on_trade(100, 1, 5 * S)
    assert b.on_time(60 * S - 1) == []
    closed = b.on_time(185 * S)
    assert [bar.start_ns for bar in closed] == [0, 60 * S, 120 * S]  # 180 s has not ended yet
    assert b.current is None and seen.closes == closed
    assert [bar.start_ns for bar in b.on_time(240 * S)] == [180 * S]


def test_on_time_without_fill_only_closes() -> None:
    b, _ = builder()
    b.on_trade(100, 1, 5 * S)
    closed = b.on_time(600 * S)
    assert [bar.start_ns for bar in closed] == [0] and len(b.series) == 1
    b.on_trade(101, 1, 601 * S)
    assert b.series.start_ns.tolist() == [0, 600 * S]


def test_late_trades_are_dropped_without_lateness() -> None:
    b, seen = builder()
    b.on_trade(100, 1, 10 * S)
    b.on_trade(101, 1, 61 * S)
    assert b.on_trade(50, 1, 30 * S) == []
    assert b.dropped == 1
    assert ohlcv(seen.closes[0]) == ("100", "100", "100", "100", "1")
    last_closed = b.last_closed
    assert last_closed is not None and last_closed.low == Decimal("100")


def test_a_late_trade_within_lateness_corrects_the_previous_bar() -> None:
    b, seen = builder(allowed_lateness_ns=5 * S)
    b.on_trade(100, 1, 10 * S)
    b.on_trade(101, 1, 61 * S)
    assert b.on_trade(90, 2, 50 * S) == []
    corrected = seen.updates[-1]
    assert corrected.start_ns == 0 and corrected.closed
    assert ohlcv(corrected) == ("100", "100", "90", "90", "3")  # the 50 s trade is the bar's latest: its close
    assert b.series.low.tolist() == [90.0, 101.0] and b.series.close.tolist() == [90.0, 101.0]
    assert len(seen.closes) == 1 and b.dropped == 0
    b.on_trade(102, 1, 65 * S)  # the watermark reaches 60 s + 5 s: no more corrections
    b.on_trade(80, 1, 20 * S)
    assert b.dropped == 1 and b.series.low.tolist()[0] == 90.0


def test_trades_older_than_the_previous_bar_are_dropped() -> None:
    b, _ = builder(allowed_lateness_ns=600 * S)
    b.on_trade(100, 1, 10 * S)
    b.on_trade(101, 1, 70 * S)
    b.on_trade(102, 1, 130 * S)
    b.on_trade(50, 1, 20 * S)
    assert b.dropped == 1 and b.series.low.tolist() == [100.0, 101.0, 102.0]


def test_a_late_trade_can_open_the_bucket_the_clock_just_passed() -> None:
    b, seen = builder(allowed_lateness_ns=10 * S)
    b.on_trade(100, 1, 5 * S)
    b.on_time(125 * S)
    closed = b.on_trade(99, 1, 119 * S)
    assert [bar.start_ns for bar in closed] == [60 * S] and closed[0].closed
    assert b.current is None
    b.on_time(131 * S)
    b.on_trade(98, 1, 100 * S)
    assert b.dropped == 1 and b.series.start_ns.tolist() == [0, 60 * S]


def test_open_and_close_follow_timestamps_not_arrival() -> None:
    b, _ = builder()
    b.on_trade(100, 1, 30 * S)
    b.on_trade(95, 1, 10 * S)
    b.on_trade(97, 1, 20 * S)
    bar = b.current
    assert bar is not None and ohlcv(bar) == ("95", "100", "95", "100", "3")


def test_nse_bars_anchor_at_0915_ist() -> None:
    b = BarBuilder("NIFTY.ZERODHA", Timeframe.M15, NSE_SESSION)
    b.on_trade(22000, 0, at(2024, 5, 6, 9, 14, 59, tz=IST))
    b.on_trade(22010, 0, at(2024, 5, 6, 9, 15, tz=IST))
    b.on_trade(22020, 0, at(2024, 5, 6, 9, 29, 59, tz=IST))
    b.on_trade(22030, 0, at(2024, 5, 6, 9, 30, tz=IST))
    assert b.series.start_ns.tolist() == [at(2024, 5, 6, 9, 0, tz=IST), at(2024, 5, 6, 9, 15, tz=IST),
                                          at(2024, 5, 6, 9, 30, tz=IST)]
    assert b.series.close.tolist() == [22000.0, 22020.0, 22030.0]


def test_nse_fill_skips_the_night_and_the_weekend() -> None:
    b = BarBuilder("NIFTY.ZERODHA", Timeframe.M15, NSE_SESSION, fill_empty=True)
    b.on_trade(22000, 0, at(2024, 5, 10, 15, 20, tz=IST))  # Friday
    b.on_trade(22100, 0, at(2024, 5, 13, 9, 16, tz=IST))  # Monday
    b.on_trade(22200, 0, at(2024, 5, 13, 10, 1, tz=IST))
    assert b.series.start_ns.tolist() == [at(2024, 5, 10, 15, 15, tz=IST), at(2024, 5, 13, 9, 15, tz=IST),
                                          at(2024, 5, 13, 9, 30, tz=IST), at(2024, 5, 13, 9, 45, tz=IST),
                                          at(2024, 5, 13, 10, 0, tz=IST)]
    assert b.series.volume.tolist()[2:4] == [0.0, 0.0]


@pytest.mark.parametrize(("timeframe", "stamps", "starts"), [
    (Timeframe.D1, [at(2024, 5, 6, 23, 59, 59), at(2024, 5, 7)], [at(2024, 5, 6), at(2024, 5, 7)]),
    (Timeframe.W1, [at(2024, 5, 6), at(2024, 5, 12, 23, 59), at(2024, 5, 13)], [at(2024, 5, 6), at(2024, 5, 13)]),
    (Timeframe.MN1, [at(2024, 1, 31, 23), at(2024, 2, 29), at(2024, 3, 1)], [at(2024, 1, 1), at(2024, 2, 1),
                                                                              at(2024, 3, 1)]),
])
def test_calendar_bars_in_utc(timeframe: Timeframe, stamps: list[int], starts: list[int]) -> None:
    b, _ = builder(timeframe)
    for price, ts in enumerate(stamps, start=1):
        b.on_trade(price, 1, ts)
    assert b.series.start_ns.tolist() == starts


def test_bar_to_event() -> None:
    b, _ = builder()
    b.on_trade(100, 2, 0)
    bar = b.current
    assert bar is not None
    assert bar.to_event() == BarEvent(InstrumentId(Venue.BINANCE, "BTCUSDT"), "1m", 0, Decimal(100), Decimal(100),
                                      Decimal(100), Decimal(100), Decimal(2), False)


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError):
        BarBuilder(KEY, Timeframe.M1, allowed_lateness_ns=-1)
    with pytest.raises(ValueError):
        BarBuilder(KEY, Timeframe.M1, series_max_len=1)


@settings(max_examples=100, deadline=None)
@given(trades=st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 50), st.integers(0, 20 * S)),
                       min_size=1, max_size=60))
def test_in_order_trades_match_a_reference_grouping(trades: list[tuple[int, int, int]]) -> None:
    """Prices in cents; gaps up to 20 s so 5s buckets are sometimes empty."""
    b, seen = builder(Timeframe.S5)
    ts, expected = 0, {}
    for cents, qty, gap in trades:
        ts += gap
        price = Decimal(cents) / 100
        start = ts // (5 * S) * 5 * S
        o, h, lo, _c, v, n = expected.get(start, (price, price, price, price, Decimal(0), 0))
        expected[start] = (o, max(h, price), min(lo, price), price, v + qty, n + 1)
        b.on_trade(price, qty, ts)
    bars = [*seen.closes, b.current]
    got = {bar.start_ns: (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trades) for bar in bars if bar}
    assert got == expected
    assert b.series.start_ns.tolist() == sorted(expected)
    assert b.series.close.tolist() == [float(expected[s][3]) for s in sorted(expected)]
    assert all(bar.closed for bar in seen.closes) and b.dropped == 0
