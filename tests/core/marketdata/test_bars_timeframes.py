"""Timeframe buckets: UTC for Binance, IST anchored at 09:15 for NSE, calendar days, weeks and months."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.marketdata.timeframes import (
    NS, NSE_SESSION, UTC_SESSION, Session, Timeframe, bucket_end, bucket_start, is_trading_bucket,
    next_trading_bucket, trading_day_ids,
)

IST = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")


def ns(*parts: int, tz: ZoneInfo = UTC, nanos: int = 0) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp()) * NS + nanos


def ist(*parts: int, nanos: int = 0) -> int:
    return ns(*parts, tz=IST, nanos=nanos)


def test_timeframe_values_are_the_venue_interval_names() -> None:
    assert [tf.value for tf in Timeframe] == ["1s", "5s", "15s", "1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d",
                                               "1w", "1M"]
    assert Timeframe("1M") is Timeframe.MN1 and Timeframe("1m") is Timeframe.M1
    assert Timeframe.M15.step_ns == 900 * NS and Timeframe.D1.step_ns is None
    assert Timeframe.H4.is_intraday and not Timeframe.W1.is_intraday


@pytest.mark.parametrize(("moment", "timeframe", "expected"), [
    (ist(2024, 5, 6, 9, 15), Timeframe.M15, ist(2024, 5, 6, 9, 15)),
    (ist(2024, 5, 6, 9, 29, 59, nanos=999_999_999), Timeframe.M15, ist(2024, 5, 6, 9, 15)),
    (ist(2024, 5, 6, 9, 30), Timeframe.M15, ist(2024, 5, 6, 9, 30)),
    (ist(2024, 5, 6, 10, 14, 59), Timeframe.H1, ist(2024, 5, 6, 9, 15)),
    (ist(2024, 5, 6, 10, 15), Timeframe.H1, ist(2024, 5, 6, 10, 15)),
    (ist(2024, 5, 6, 15, 29), Timeframe.H1, ist(2024, 5, 6, 15, 15)),
    (ist(2024, 5, 6, 10, 20, 5), Timeframe.M3, ist(2024, 5, 6, 10, 18)),
    (ist(2024, 5, 6, 14, 0), Timeframe.H4, ist(2024, 5, 6, 13, 15)),
    (ist(2024, 5, 6, 9, 5), Timeframe.M15, ist(2024, 5, 6, 9, 0)),  # pre-open: the grid runs backwards
    (ist(2024, 5, 6, 9, 5), Timeframe.H1, ist(2024, 5, 6, 8, 15)),
    (ist(2024, 5, 6, 3, 0), Timeframe.D1, ist(2024, 5, 6)),  # 2024-05-05 21:30 UTC, still the 6th in IST
    (ist(2024, 5, 6, 23, 59, 59), Timeframe.D1, ist(2024, 5, 6)),
])
def test_nse_buckets_are_anchored_to_the_0915_open_in_ist(moment: int, timeframe: Timeframe, expected: int) -> None:
    assert bucket_start(moment, timeframe, NSE_SESSION) == expected


@pytest.mark.parametrize(("moment", "timeframe", "expected"), [
    (ns(2024, 5, 6, 23, 59, 59, nanos=999_999_999), Timeframe.D1, ns(2024, 5, 6)),
    (ns(2024, 5, 7), Timeframe.D1, ns(2024, 5, 7)),
    (ns(2024, 5, 6, 7, 59, 59), Timeframe.H4, ns(2024, 5, 6, 4)),
    (ns(2024, 5, 6, 0, 14, 59), Timeframe.M15, ns(2024, 5, 6, 0, 0)),
    (ns(2024, 5, 12, 23, 59), Timeframe.W1, ns(2024, 5, 6)),  # Sunday belongs to the week of Monday the 6th
    (ns(2024, 5, 13), Timeframe.W1, ns(2024, 5, 13)),
    (ns(2024, 2, 29, 12), Timeframe.MN1, ns(2024, 2, 1)),
    (ns(2024, 3, 1), Timeframe.MN1, ns(2024, 3, 1)),
    (ns(2024, 5, 6, 10, 0, 7, nanos=5), Timeframe.S5, ns(2024, 5, 6, 10, 0, 5)),
])
def test_binance_buckets_in_utc(moment: int, timeframe: Timeframe, expected: int) -> None:
    assert bucket_start(moment, timeframe, UTC_SESSION) == expected


@pytest.mark.parametrize(("start", "timeframe", "expected"), [
    (ns(2024, 5, 6), Timeframe.D1, ns(2024, 5, 7)),
    (ns(2024, 5, 6), Timeframe.W1, ns(2024, 5, 13)),
    (ns(2024, 2, 1), Timeframe.MN1, ns(2024, 3, 1)),
    (ns(2023, 12, 1), Timeframe.MN1, ns(2024, 1, 1)),
    (ns(2024, 5, 6, 4), Timeframe.H4, ns(2024, 5, 6, 8)),
])
def test_bucket_end(start: int, timeframe: Timeframe, expected: int) -> None:
    assert bucket_end(start, timeframe, UTC_SESSION) == expected


def test_ist_day_ends_at_ist_midnight() -> None:
    assert bucket_end(ist(2024, 5, 6), Timeframe.D1, NSE_SESSION) == ist(2024, 5, 7) == ns(2024, 5, 6, 18, 30)


@settings(max_examples=200, deadline=None)
@given(ts=st.integers(min_value=ns(2000, 1, 1), max_value=ns(2040, 1, 1)), timeframe=st.sampled_from(Timeframe),
       session=st.sampled_from([UTC_SESSION, NSE_SESSION]))
def test_buckets_tile_time(ts: int, timeframe: Timeframe, session: Session) -> None:
    start = bucket_start(ts, timeframe, session)
    end = bucket_end(start, timeframe, session)
    assert start <= ts < end
    assert bucket_start(start, timeframe, session) == start
    assert bucket_start(end, timeframe, session) == end


def test_trading_buckets_skip_nights_and_weekends() -> None:
    friday_close = ist(2024, 5, 10, 15, 30)
    assert not is_trading_bucket(friday_close, Timeframe.M15, NSE_SESSION)
    assert is_trading_bucket(ist(2024, 5, 10, 15, 15), Timeframe.M15, NSE_SESSION)
    assert next_trading_bucket(friday_close, Timeframe.M15, NSE_SESSION) == ist(2024, 5, 13, 9, 15)
    assert next_trading_bucket(ist(2024, 5, 11), Timeframe.D1, NSE_SESSION) == ist(2024, 5, 13)
    assert next_trading_bucket(ns(2024, 5, 11), Timeframe.D1, UTC_SESSION) == ns(2024, 5, 11)
    assert next_trading_bucket(ist(2024, 5, 6, 9, 30), Timeframe.M15, NSE_SESSION) == ist(2024, 5, 6, 9, 30)


def test_session_rejects_close_before_open() -> None:
    with pytest.raises(ValueError):
        Session(IST, time(15, 30), time(9, 15))


def test_trading_day_ids_follow_the_local_date() -> None:
    stamps = np.array([ist(2024, 5, 6, 0, 30), ist(2024, 5, 6, 9, 15), ist(2024, 5, 6, 23, 59), ist(2024, 5, 7, 0, 1)])
    ids = trading_day_ids(stamps, NSE_SESSION)
    day = (datetime(2024, 5, 6) - datetime(1970, 1, 1)).days
    assert ids.tolist() == [day, day, day, day + 1]
    utc_ids = trading_day_ids(stamps, UTC_SESSION)  # 00:30 IST is still the 5th in UTC
    assert utc_ids.tolist() == [day - 1, day, day, day]
