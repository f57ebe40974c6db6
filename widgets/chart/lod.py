"""Level of detail for charts: fold consecutive rows into groups about one pixel column wide.

Drawing a million candles into a thousand pixels paints each column hundreds of times; the picture is
the same as drawing one candle per column whose high is the highest high and whose low the lowest low.
Groups are aligned to multiples of the bucket in row index (not to the visible edge), so panning does
not make the groups, and the picture, shimmer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOD_THRESHOLD = 2.0  # aggregate once more than this many rows fall into one pixel column


@dataclass(frozen=True, slots=True)
class Groups:
    """Consecutive row groups over [start, stop): first row, last row (inclusive) and centre of each."""

    first: np.ndarray
    last: np.ndarray

    @property
    def x(self) -> np.ndarray:
        return (self.first + self.last) / 2.0

    def __len__(self) -> int:
        return len(self.first)


def lod_bucket(rows_per_pixel: float, threshold: float = LOD_THRESHOLD) -> int:
    """Return the group size for a zoom level: 1 up to the threshold, else the next power of two.

    Powers of two keep the groups stable while the user zooms a little.
    """
    if not rows_per_pixel > threshold:
        return 1
    return 1 << max(1, math.ceil(math.log2(rows_per_pixel)))


def groups(start: int, stop: int, bucket: int) -> Groups:
    """Split rows [start, stop) at multiples of bucket."""
    if stop <= start:
        empty = np.empty(0, dtype=np.int64)
        return Groups(empty, empty)
    aligned = (start // bucket + 1) * bucket
    first = np.concatenate(([start], np.arange(aligned, stop, bucket, dtype=np.int64)))
    last = np.concatenate((first[1:] - 1, [stop - 1]))
    return Groups(first, last)


def aggregate_ohlc(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                   start: int, stop: int, bucket: int) -> tuple[Groups, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the groups and their OHLC: first open, highest high, lowest low, last close."""
    g = groups(start, stop, bucket)
    if not len(g):
        empty = np.empty(0)
        return g, empty, empty, empty, empty
    offsets = g.first - start
    hi = np.maximum.reduceat(high[start:stop], offsets)
    lo = np.minimum.reduceat(low[start:stop], offsets)
    return g, open_[g.first], hi, lo, close[g.last]


def aggregate_envelope(values: np.ndarray, start: int, stop: int, bucket: int) -> tuple[Groups, np.ndarray, np.ndarray]:
    """Return the groups with the smallest and largest value of each (NaN only where a group is all NaN)."""
    g = groups(start, stop, bucket)
    if not len(g):
        return g, np.empty(0), np.empty(0)
    offsets = g.first - start
    chunk = values[start:stop]
    return g, np.fmin.reduceat(chunk, offsets), np.fmax.reduceat(chunk, offsets)
