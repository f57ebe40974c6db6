"""One-minute candles per book (generated history, then live), served at any multiple of a minute.

The generated history is made on the first query (defer), so an emulator with hundreds of books starts
without making two days of minutes for books nobody charts.

Buckets are aligned to an origin: the UTC epoch by default (Binance), or a venue's own anchor, such as
Kite's 00:00 IST for day candles and the 09:15 IST session open for intraday ones.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

from ..contract import Candle

MINUTE_NS = 60 * 10**9
History = Callable[[], "tuple[np.ndarray, np.ndarray] | None"]  # (start_ns, open/high/low/close/volume rows), or None


class CandleSeries:
    """Columns of 1-minute bars: start_ns, open, high, low, close, volume, oi. Grows by amortised doubling."""

    def __init__(self) -> None:
        self._data = np.zeros((0, 7))
        self.n = 0
        self._history: History | None = None

    def load(self, start_ns: np.ndarray, ohlcv: np.ndarray, oi: np.ndarray | None = None) -> None:
        """Replace the history with whole rows (start_ns, then open/high/low/close/volume)."""
        n = len(start_ns)
        self._data = np.zeros((max(n * 2, 1024), 7))
        self._data[:n, 0] = start_ns
        self._data[:n, 1:6] = ohlcv
        self._data[:n, 6] = 0 if oi is None else oi
        self.n = n

    def defer(self, history: History) -> None:
        """Make the history with history() on the first query; it goes before the live minutes folded in meanwhile."""
        self._history = history

    def _make_history(self) -> None:
        history, self._history = self._history, None
        made = history() if history is not None else None
        if made is None or not len(made[0]):
            return
        live = self._data[: self.n]
        live = live[live[:, 0] > made[0][-1]]  # a minute is history or live, never both
        self.load(*made)
        if len(live):
            if self.n + len(live) > len(self._data):
                self._data = np.vstack([self._data, np.zeros((len(live), 7))])
            self._data[self.n: self.n + len(live)] = live
            self.n += len(live)

    def update(self, ts_ns: int, price: float, qty: float, oi: float | None = None) -> None:
        """Fold a trade (or an index value with qty 0) into the current minute."""
        start = ts_ns - ts_ns % MINUTE_NS
        if self.n and self._data[self.n - 1, 0] == start:
            row = self._data[self.n - 1]
            row[2] = max(row[2], price)
            row[3] = min(row[3], price)
            row[4] = price
            row[5] += qty
        else:
            if self.n and start < self._data[self.n - 1, 0]:
                return  # a late print for a closed minute: keep history immutable
            if self.n == len(self._data):
                self._data = np.vstack([self._data, np.zeros((max(len(self._data), 1024), 7))])
            self._data[self.n] = (start, price, price, price, price, qty, 0)
            self.n += 1
        if oi is not None:
            self._data[self.n - 1, 6] = oi

    def query(self, interval_s: int, start_ns: int, end_ns: int, origin_ns: int = 0) -> list[Candle]:
        """Candles of `interval_s` (a multiple of 60, or a day) between start and end, aggregated from minutes.

        Bucket starts are origin_ns plus a whole number of intervals (origin_ns a multiple of a minute).
        """
        if self._history is not None:
            self._make_history()
        rows = self._data[: self.n]
        rows = rows[(rows[:, 0] >= start_ns - start_ns % MINUTE_NS) & (rows[:, 0] <= end_ns)]
        if not len(rows):
            return []
        step = max(60, interval_s) * 10**9
        keys = ((rows[:, 0] - origin_ns) // step).astype(np.int64)
        cut = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], cut))
        ends = np.concatenate((cut, [len(rows)]))
        out = []
        for a, b in zip(starts, ends):
            chunk = rows[a:b]
            out.append(Candle(int(keys[a] * step + origin_ns), _d(chunk[0, 1]), _d(chunk[:, 2].max()), _d(chunk[:, 3].min()), _d(chunk[-1, 4]),
                              _d(chunk[:, 5].sum(), 6), int(b - a), _d(chunk[-1, 6], 0) if chunk[-1, 6] else None))
        return out


def _d(value: float, places: int = 2) -> Decimal:
    return Decimal(f"{value:.{places}f}")
