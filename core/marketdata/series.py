"""BarSeries: a growable NumPy column store of bars for charts and indicators.

Columns are start_ns (int64) and open/high/low/close/volume (float64). Appending is amortised O(1)
(capacity doubles) and updating the last row is O(1). With max_len the series keeps only the newest
max_len rows: storage is 2 x max_len and the live rows are copied to the front when the end is reached,
so columns stay contiguous views and appends stay amortised O(1).

Column properties return read-only views; they are valid until the next append or join.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

import numpy as np

FLOAT_COLUMNS = ("open", "high", "low", "close", "volume")
_MIN_CAPACITY = 64


class BarLike(Protocol):
    """Anything with a bucket start and OHLCV: core Bar, BarEvent from a venue or the candle cache."""

    @property
    def start_ns(self) -> int: ...
    @property
    def open(self) -> Decimal | float: ...
    @property
    def high(self) -> Decimal | float: ...
    @property
    def low(self) -> Decimal | float: ...
    @property
    def close(self) -> Decimal | float: ...
    @property
    def volume(self) -> Decimal | float: ...


class BarSeries:
    """Bars in start order, one NumPy array per column."""

    def __init__(self, max_len: int | None = None) -> None:
        if max_len is not None and max_len < 1:
            raise ValueError("max_len must be at least 1")
        self.max_len = max_len
        self.revision = 0  # bumped on every change, so a chart can redraw only when dirty
        self._head = 0
        self._len = 0
        self._allocate(_MIN_CAPACITY if max_len is None else min(_MIN_CAPACITY, 2 * max_len))

    def __len__(self) -> int:
        return self._len

    @property
    def start_ns(self) -> np.ndarray:
        return self._view(self._start)

    @property
    def open(self) -> np.ndarray:
        return self._view(self._floats[0])

    @property
    def high(self) -> np.ndarray:
        return self._view(self._floats[1])

    @property
    def low(self) -> np.ndarray:
        return self._view(self._floats[2])

    @property
    def close(self) -> np.ndarray:
        return self._view(self._floats[3])

    @property
    def volume(self) -> np.ndarray:
        return self._view(self._floats[4])

    def append(self, start_ns: int, open_: float, high: float, low: float, close: float, volume: float) -> None:
        """Add a bar after the last one (its start must be later)."""
        if self._len and start_ns <= self._start[self._head + self._len - 1]:
            raise ValueError(f"bar start {start_ns} is not after the last bar")
        if self.max_len is not None and self._len == self.max_len:
            self._head += 1
            self._len -= 1
        if self._head + self._len == len(self._start):
            self._make_room()
        row = self._head + self._len
        self._start[row] = start_ns
        self._floats[:, row] = (open_, high, low, close, volume)
        self._len += 1
        self.revision += 1

    def upsert(self, start_ns: int, open_: float, high: float, low: float, close: float, volume: float) -> None:
        """Replace the bar with this start (O(1) for the last row, O(log n) before it), or append a later one."""
        row = self._head + self._len - 1
        if not self._len or start_ns > self._start[row]:
            self.append(start_ns, open_, high, low, close, volume)
            return
        if start_ns != self._start[row]:
            row = self._head + int(np.searchsorted(self._start[self._head: row], start_ns))
            if self._start[row] != start_ns:
                raise ValueError(f"no bar starts at {start_ns}; merge older bars with join_history")
        self._floats[:, row] = (open_, high, low, close, volume)
        self.revision += 1

    def join_history(self, history: Iterable[BarLike]) -> None:
        """Merge backfilled history under the live bars.

        History fills every bucket before the first live bar (for a bucket it repeats, its last copy
        wins); from the first live bar on, the live bars win, including the partial bar still building.
        The result is sorted with no duplicate starts, and capped to max_len.
        """
        rows = sorted(((int(b.start_ns), i, b) for i, b in enumerate(history)), key=lambda r: (r[0], r[1]))
        first_live = int(self._start[self._head]) if self._len else None
        by_start = {start: bar for start, _, bar in rows if first_live is None or start < first_live}
        hist_start = np.fromiter(by_start, dtype=np.int64, count=len(by_start))
        hist_floats = np.array([[float(getattr(b, name)) for b in by_start.values()] for name in FLOAT_COLUMNS],
                               dtype=np.float64).reshape(len(FLOAT_COLUMNS), len(by_start))
        live = slice(self._head, self._head + self._len)
        start = np.concatenate([hist_start, self._start[live]])
        floats = np.concatenate([hist_floats, self._floats[:, live]], axis=1)
        if self.max_len is not None:
            start, floats = start[-self.max_len:], floats[:, -self.max_len:]
        self._allocate(max(_MIN_CAPACITY, 2 * len(start)) if self.max_len is None else 2 * self.max_len)
        self._len = len(start)
        self._start[: self._len] = start
        self._floats[:, : self._len] = floats
        self.revision += 1

    def _allocate(self, capacity: int) -> None:
        self._start = np.zeros(capacity, dtype=np.int64)
        self._floats = np.zeros((len(FLOAT_COLUMNS), capacity), dtype=np.float64)
        self._head = 0

    def _make_room(self) -> None:
        live = slice(self._head, self._head + self._len)
        start, floats = self._start[live].copy(), self._floats[:, live].copy()
        if self.max_len is None or len(self._start) < 2 * self.max_len:
            capacity = 2 * len(self._start)
            self._allocate(capacity if self.max_len is None else min(capacity, 2 * self.max_len))
        self._head = 0
        self._start[: self._len] = start
        self._floats[:, : self._len] = floats

    def _view(self, column: np.ndarray) -> np.ndarray:
        view = column[self._head: self._head + self._len]
        view.flags.writeable = False
        return view
