from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from sqbt_helpers import BTC, ETH, MINUTE, T0, bars, spot

from core.backtest import BarArrays, price_path, random_walk_bars
from core.backtest.data import bar_feeds, tick_stream
from core.domain import BarEvent, Tick
from core.errors import UnknownInstrument
from core.marketdata.series import BarSeries

INSTRUMENTS = {BTC: spot(BTC), ETH: spot(ETH)}


def test_the_path_visits_the_nearer_extreme_by_the_bar_direction() -> None:
    up, down = bars([("10", "12", "9", "11"), ("11", "12", "9", "10")])
    assert price_path(up) == (D(10), D(9), D(12), D(11))
    assert price_path(down) == (D(11), D(12), D(9), D(10))


def test_columns_are_checked_and_rounded_to_the_tick_and_step() -> None:
    arrays = BarArrays(BTC, "1m", [T0, T0 + MINUTE], [100.004, 101.0], [100.5, 101.0], [99.996, 100.0],
                       [100.2, 100.5], [1.23456, 2.0])
    feed = bar_feeds(arrays, INSTRUMENTS)[0]
    bar = feed.bar(0)
    assert (bar.open, bar.low, bar.close, bar.volume) == (D("100.00"), D("100.00"), D("100.20"), D("1.235"))
    assert feed.ends == [T0 + MINUTE, T0 + 2 * MINUTE] and bar.closed and bar.timeframe == "1m"
    with pytest.raises(ValueError, match="inconsistent"):
        BarArrays(BTC, "1m", [T0], [100.0], [99.0], [98.0], [100.0], [1.0])  # high below the open
    with pytest.raises(ValueError, match="strictly increasing"):
        BarArrays(BTC, "1m", [T0, T0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError):
        BarArrays(BTC, "7m", [T0], [1.0], [1.0], [1.0], [1.0], [1.0])


def test_events_are_grouped_per_instrument_sorted_and_checked() -> None:
    events = bars([("1", "1", "1", "1")] * 3) + bars([("2", "2", "2", "2")] * 2, ETH)
    feeds = bar_feeds(list(reversed(events)), INSTRUMENTS)
    assert [(f.instrument_id, len(f)) for f in feeds] == [(ETH, 2), (BTC, 3)]
    assert feeds[1].starts == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    with pytest.raises(ValueError, match="closed bars"):
        bar_feeds([BarEvent(BTC, "1m", T0, D(1), D(1), D(1), D(1), D(1), False)], INSTRUMENTS)
    with pytest.raises(UnknownInstrument):
        bar_feeds(bars([("1", "1", "1", "1")]), {ETH: spot(ETH)})
    with pytest.raises(ValueError, match="one kind"):
        bar_feeds([], INSTRUMENTS)


def test_daily_and_monthly_bars_span_their_calendar_period() -> None:
    day = BarArrays(BTC, "1d", [T0], [1.0], [1.0], [1.0], [1.0], [1.0])
    month = BarArrays(BTC, "1M", [T0], [1.0], [1.0], [1.0], [1.0], [1.0])
    assert bar_feeds(day, INSTRUMENTS)[0].ends == [T0 + 1440 * MINUTE]
    assert bar_feeds(month, INSTRUMENTS)[0].ends == [T0 + 31 * 1440 * MINUTE]  # January


def test_from_series_and_from_events_round_trip() -> None:
    walk = random_walk_bars(BTC, "5m", 50, seed=2)
    series = BarSeries()
    for row in zip(walk.start_ns.tolist(), walk.open, walk.high, walk.low, walk.close, walk.volume):
        series.append(*row)
    copied = BarArrays.from_series(BTC, "5m", series)
    assert np.array_equal(copied.close, walk.close) and np.array_equal(copied.start_ns, walk.start_ns)
    events = bars([("10", "12", "9", "11")] * 2)
    assert BarArrays.from_events(events).high.tolist() == [12.0, 12.0]


def test_ticks_need_a_price_and_are_ordered_by_time() -> None:
    late, early = Tick(BTC, T0 + 5, last_price=D(1)), Tick(ETH, T0, bid=D(1), ask=D(2))
    assert tick_stream([late, early], INSTRUMENTS) == [early, late]
    with pytest.raises(ValueError, match="no last price"):
        tick_stream([Tick(BTC, T0, bid=D(1))], INSTRUMENTS)
