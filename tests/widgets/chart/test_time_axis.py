from __future__ import annotations

from datetime import datetime

import numpy as np

from core.domain import Venue
from widgets.chart.time_axis import IST, NS, UTC, TickStep, format_bar_time, local_seconds, tick_labels, time_ticks, venue_tz

OPEN = int(datetime(2024, 5, 2, 9, 15, tzinfo=IST).timestamp()) * NS  # a Thursday


def nse_minutes(days: int) -> np.ndarray:
    """One-minute bar starts of NSE sessions (09:15-15:30 IST) on consecutive weekdays, no gaps in index."""
    day_starts = [OPEN + d * 86_400 * NS for d in (0, 1, 4, 5, 6)[:days]]  # Thu, Fri, then Mon-Wed
    return np.concatenate([s + np.arange(375, dtype=np.int64) * 60 * NS for s in day_starts])


def test_venue_zones() -> None:
    assert venue_tz(Venue.ZERODHA) is IST and venue_tz(Venue.BINANCE) is UTC and venue_tz(Venue.BINANCE_USDM) is UTC


def test_local_seconds_adds_the_zone_offset() -> None:
    ts = np.array([OPEN], dtype=np.int64)
    assert (local_seconds(ts, IST) - ts // NS).tolist() == [19_800]
    assert (local_seconds(ts, UTC) - ts // NS).tolist() == [0]


def test_ticks_fall_on_round_local_times_and_days_get_dates() -> None:
    starts = nse_minutes(2)
    ticks, step = time_ticks(starts, 0, len(starts), pixels=1400, tz=IST)
    assert step == TickStep("s", 3600)  # up to 15 labels on 1400 px: hours
    assert len(ticks) <= 15
    local = [datetime.fromtimestamp(int(starts[i]) / NS, IST) for i in ticks]
    assert all(m.minute == 0 for m in local if m.hour != 9)  # the new day opens at 09:15: its first bar
    labels = tick_labels(starts, ticks, step, IST)
    assert labels[0] == "10:00" and "3 May" in labels  # the second session is labelled with its date


def test_wide_views_switch_to_days_and_months() -> None:
    starts = nse_minutes(5)
    ticks, step = time_ticks(starts, 0, len(starts), pixels=400, tz=IST)
    assert step == TickStep("d", 1)
    assert tick_labels(starts, ticks, step, IST) == ["3 May", "6 May", "7 May", "8 May"]
    daily = np.array([int(datetime(2020 + m // 12, m % 12 + 1, 1, tzinfo=UTC).timestamp()) * NS for m in range(36)])
    ticks, step = time_ticks(daily, 0, len(daily), pixels=1200, tz=UTC)
    assert step == TickStep("M", 3)
    assert tick_labels(daily, ticks, step, UTC)[:4] == ["Apr", "Jul", "Oct", "2021"]


def test_an_empty_range_has_no_ticks() -> None:
    assert len(time_ticks(nse_minutes(1), 10, 10, 500, IST)[0]) == 0


def test_readout_time_shows_the_zone() -> None:
    assert format_bar_time(OPEN, IST) == "2024-05-02 09:15 IST"
    assert format_bar_time(OPEN, UTC, seconds=True) == "2024-05-02 03:45:00 UTC"
