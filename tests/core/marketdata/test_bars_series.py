"""BarSeries: growth, last-row updates, the memory cap, and joining backfilled history with live bars."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import BarEvent, InstrumentId, Venue
from core.marketdata.series import BarSeries


@dataclass(frozen=True)
class Row:
    start_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float


def row(start: int, close: float) -> Row:
    return Row(start, close, close + 1, close - 1, close, 10.0)


def fill(series: BarSeries, starts: range, offset: float = 0.0) -> None:
    for s in starts:
        series.append(s, s + offset, s + offset + 1, s + offset - 1, s + offset, 1.0)


def test_append_grows_and_keeps_columns() -> None:
    series = BarSeries()
    fill(series, range(1000))
    assert len(series) == 1000
    assert series.start_ns.dtype == np.int64 and series.close.dtype == np.float64
    assert series.start_ns.tolist() == list(range(1000))
    assert series.high.tolist() == [s + 1.0 for s in range(1000)]
    assert series.revision == 1000


def test_columns_are_read_only_views() -> None:
    series = BarSeries()
    fill(series, range(3))
    with pytest.raises(ValueError):
        series.close[0] = 5.0


def test_append_refuses_an_older_start() -> None:
    series = BarSeries()
    fill(series, range(3))
    with pytest.raises(ValueError):
        series.append(2, 1, 1, 1, 1, 1)


def test_upsert_updates_the_last_or_an_earlier_row_and_appends_later_ones() -> None:
    series = BarSeries()
    fill(series, range(0, 50, 10))
    series.upsert(40, 1, 2, 0, 1.5, 7)
    series.upsert(20, 5, 6, 4, 5.5, 3)
    series.upsert(50, 9, 9, 9, 9, 1)
    assert series.close.tolist() == [0.0, 10.0, 5.5, 30.0, 1.5, 9.0]
    assert series.volume.tolist() == [1.0, 1.0, 3.0, 1.0, 7.0, 1.0]
    with pytest.raises(ValueError):
        series.upsert(15, 1, 1, 1, 1, 1)


def test_the_cap_keeps_the_newest_rows() -> None:
    series = BarSeries(max_len=3)
    fill(series, range(1000))
    assert series.start_ns.tolist() == [997, 998, 999]
    assert series.close.tolist() == [997.0, 998.0, 999.0]
    series.upsert(998, 0, 0, 0, -1, 0)
    assert series.close.tolist() == [997.0, -1.0, 999.0]
    with pytest.raises(ValueError):
        BarSeries(max_len=0)


def test_join_history_history_fills_before_the_first_live_bar_and_live_wins_after() -> None:
    series = BarSeries()
    series.append(30, 100, 101, 99, 100.5, 2)  # live, partial: the builder started mid-bucket
    series.append(40, 100.5, 102, 100, 101, 5)
    history = [row(20, 20), row(0, 0), row(10, 10), row(10, 11), row(30, 30), row(40, 40)]
    series.join_history(history)
    assert series.start_ns.tolist() == [0, 10, 20, 30, 40]
    assert series.close.tolist() == [0.0, 11.0, 20.0, 100.5, 101.0]  # the later copy of 10 wins
    series.upsert(40, 100.5, 103, 100, 103, 6)  # the live bar keeps building after the join
    series.append(50, 103, 103, 103, 103, 1)
    assert series.close.tolist()[-2:] == [103.0, 103.0]


def test_join_history_into_an_empty_series_takes_decimal_bar_events() -> None:
    series = BarSeries()
    iid = InstrumentId(Venue.BINANCE, "BTCUSDT")
    events = [BarEvent(iid, "1m", s, Decimal("1.5"), Decimal(2), Decimal(1), Decimal("1.25"), Decimal(3), True)
              for s in (120, 0, 60)]
    series.join_history(events)
    assert series.start_ns.tolist() == [0, 60, 120]
    assert series.close.tolist() == [1.25, 1.25, 1.25]


def test_join_history_respects_the_cap() -> None:
    series = BarSeries(max_len=4)
    fill(series, range(100, 103))
    series.join_history([row(s, s) for s in range(100)])
    assert series.start_ns.tolist() == [99, 100, 101, 102]
    fill(series, range(103, 110))
    assert series.start_ns.tolist() == [106, 107, 108, 109]


@settings(max_examples=100, deadline=None)
@given(live=st.lists(st.integers(0, 200), unique=True, max_size=30),
       history=st.lists(st.integers(0, 200), max_size=60), cap=st.none() | st.integers(1, 40))
def test_join_history_is_sorted_gap_free_and_keeps_live_rows(live: list[int], history: list[int],
                                                             cap: int | None) -> None:
    series = BarSeries(max_len=cap)
    for s in sorted(live):
        series.append(s, 0, 0, 0, -float(s), 0)
    series.join_history([row(s, float(s)) for s in history])
    first_live = min(live) if live else None
    expected = sorted({s for s in history if first_live is None or s < first_live} | set(live))
    expected = expected[-cap:] if cap else expected
    assert series.start_ns.tolist() == expected
    assert series.close.tolist() == [-float(s) if s in live else float(s) for s in expected]
