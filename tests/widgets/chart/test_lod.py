from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.chart.lod import aggregate_envelope, aggregate_ohlc, groups, lod_bucket


def test_ohlc_of_hand_made_groups() -> None:
    o = np.array([10, 11, 12, 13, 14, 15, 16], dtype=float)
    h = np.array([12, 15, 13, 14, 20, 16, 17], dtype=float)
    lo = np.array([9, 10, 8, 12, 13, 11, 15], dtype=float)
    c = np.array([11, 12, 13, 14, 15, 16, 17], dtype=float)
    g, go, gh, gl, gc = aggregate_ohlc(o, h, lo, c, 1, 7, 4)  # rows 1-3 (up to the multiple 4), then 4-6
    assert g.first.tolist() == [1, 4] and g.last.tolist() == [3, 6]
    assert g.x.tolist() == [2.0, 5.0]
    assert go.tolist() == [11, 14] and gh.tolist() == [15, 20] and gl.tolist() == [8, 11] and gc.tolist() == [14, 17]


def test_bucket_one_is_the_rows_themselves() -> None:
    o, h, lo, c = (np.arange(5, dtype=float) + k for k in (0, 2, -2, 1))
    g, go, gh, gl, gc = aggregate_ohlc(o, h, lo, c, 0, 5, 1)
    assert g.x.tolist() == [0, 1, 2, 3, 4]
    assert (go == o).all() and (gh == h).all() and (gl == lo).all() and (gc == c).all()


def test_empty_range_gives_no_groups() -> None:
    assert len(groups(5, 5, 4)) == 0
    g, low, high = aggregate_envelope(np.arange(3.0), 2, 2, 2)
    assert len(g) == 0 and len(low) == 0 and len(high) == 0


def test_envelope_skips_nan_and_keeps_all_nan_groups_nan() -> None:
    values = np.array([np.nan, np.nan, 3.0, np.nan, 1.0, 5.0])
    g, low, high = aggregate_envelope(values, 0, 6, 2)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert low[1:].tolist() == [3.0, 1.0] and high[1:].tolist() == [3.0, 5.0]


def test_bucket_is_one_up_to_two_rows_a_pixel_then_a_power_of_two() -> None:
    assert lod_bucket(0.1) == lod_bucket(2.0) == 1
    assert lod_bucket(2.1) == 4 and lod_bucket(4.0) == 4 and lod_bucket(700.0) == 1024


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), st.integers(0, 299), st.integers(0, 300),
       st.integers(1, 64))
def test_groups_partition_the_range_and_fold_each_column(values: list[float], a: int, b: int, bucket: int) -> None:
    n = len(values)
    start, stop = sorted((min(a, n), min(b, n)))
    base = np.array(values)
    o, c = base, base[::-1].copy()
    h, lo = np.maximum(o, c) + 1, np.minimum(o, c) - 1
    g, go, gh, gl, gc = aggregate_ohlc(o, h, lo, c, start, stop, bucket)
    covered = [r for f, last in zip(g.first.tolist(), g.last.tolist()) for r in range(f, last + 1)]
    assert covered == list(range(start, stop))
    for i, (f, last) in enumerate(zip(g.first.tolist(), g.last.tolist())):
        assert last - f < bucket and (f == start or f % bucket == 0)
        assert gh[i] == h[f: last + 1].max() and gl[i] == lo[f: last + 1].min()
        assert go[i] == o[f] and gc[i] == c[last]
    _, env_low, env_high = aggregate_envelope(base, start, stop, bucket)
    for i, (f, last) in enumerate(zip(g.first.tolist(), g.last.tolist())):
        assert env_low[i] == base[f: last + 1].min() and env_high[i] == base[f: last + 1].max()
