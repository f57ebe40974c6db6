"""Backtest input: bars as BarEvents or as columns (BarArrays), or ticks; normalised into feeds.

A feed is one instrument's data in time order. Bar feeds of one run share one timeframe (so bars of
several instruments line up in slots by start time). Column prices are rounded to the instrument's
tick (nearest), so every price the strategy and the book see is on the tick and exact; column volumes
are rounded to the quantity step (at most 1).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from core.domain import BarEvent, Instrument, InstrumentId, Tick
from core.errors import UnknownInstrument
from core.marketdata.series import BarSeries
from core.marketdata.timeframes import DAY_NS, UTC_SESSION, Timeframe, bucket_end

_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class BarArrays:
    """One instrument's bars as float columns, oldest first: the fast input for long backtests."""

    instrument_id: InstrumentId
    timeframe: str
    start_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        Timeframe(self.timeframe)
        object.__setattr__(self, "start_ns", np.asarray(self.start_ns, dtype=np.int64))
        for name in _COLUMNS:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        n = len(self.start_ns)
        if any(len(getattr(self, name)) != n for name in _COLUMNS):
            raise ValueError("bar columns differ in length")
        if n > 1 and not np.all(np.diff(self.start_ns) > 0):
            raise ValueError("bar starts must be strictly increasing")
        bad = (self.high < np.maximum(self.open, self.close)) | (self.low > np.minimum(self.open, self.close))
        if np.any(bad | (self.low <= 0)):
            raise ValueError(f"bar {int(np.argmax(bad | (self.low <= 0)))} has inconsistent or non-positive prices")

    def __len__(self) -> int:
        return len(self.start_ns)

    @classmethod
    def from_events(cls, bars: Sequence[BarEvent]) -> "BarArrays":
        """Columns of one instrument's bar events (in time order)."""
        if not bars:
            raise ValueError("no bars")
        first = bars[0]
        return cls(first.instrument_id, first.timeframe, np.array([b.start_ns for b in bars], dtype=np.int64),
                   *(np.array([float(getattr(b, name)) for b in bars]) for name in _COLUMNS))

    @classmethod
    def from_series(cls, instrument_id: InstrumentId, timeframe: str, series: BarSeries) -> "BarArrays":
        """Columns copied from a BarSeries (a chart's or a candle cache's bars)."""
        return cls(instrument_id, timeframe, series.start_ns.copy(), *(getattr(series, name).copy() for name in _COLUMNS))


class BarFeed(ABC):
    """One instrument's bars as the replay reads them: start and end times, and bar(i) as an event."""

    def __init__(self, instrument: Instrument, timeframe: str, starts: np.ndarray) -> None:
        self.instrument = instrument
        self.instrument_id = instrument.id
        self.timeframe = timeframe
        self.starts: list[int] = starts.tolist()
        self.ends: list[int] = _ends(starts, Timeframe(timeframe)).tolist()

    def __len__(self) -> int:
        return len(self.starts)

    @abstractmethod
    def bar(self, i: int) -> BarEvent:
        """Return bar i as the event the strategy receives."""


class _EventFeed(BarFeed):
    def __init__(self, instrument: Instrument, bars: list[BarEvent]) -> None:
        super().__init__(instrument, bars[0].timeframe, np.array([b.start_ns for b in bars], dtype=np.int64))
        self._bars = bars

    def bar(self, i: int) -> BarEvent:
        return self._bars[i]


class _ArrayFeed(BarFeed):
    def __init__(self, instrument: Instrument, arrays: BarArrays) -> None:
        super().__init__(instrument, arrays.timeframe, arrays.start_ns)
        self._tick = instrument.tick_size
        self._step = min(instrument.lot_size, Decimal(1))
        columns = [arrays.open, arrays.high, arrays.low, arrays.close]
        units = np.stack([c / float(self._tick) for c in columns] + [arrays.volume / float(self._step)], axis=1)
        self._units = np.rint(units).astype(np.int64)

    def bar(self, i: int) -> BarEvent:
        tick = self._tick
        o, h, l, c, v = self._units[i].tolist()
        return BarEvent(self.instrument_id, self.timeframe, self.starts[i], o * tick, h * tick, l * tick, c * tick,
                        v * self._step, True)


def price_path(bar: BarEvent) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The order the market visits a bar's prices: open, low, high, close for an up bar (close >= open),
    open, high, low, close for a down bar."""
    if bar.close >= bar.open:
        return bar.open, bar.low, bar.high, bar.close
    return bar.open, bar.high, bar.low, bar.close


def bar_feeds(data: object, instruments: dict[InstrumentId, Instrument]) -> list[BarFeed]:
    """Normalise bar data (BarArrays, a sequence of them, or BarEvents of any instruments) into feeds."""
    if isinstance(data, BarArrays):
        data = [data]
    items = list(data)  # type: ignore[call-overload]
    if items and all(isinstance(x, BarArrays) for x in items):
        feeds: list[BarFeed] = [_ArrayFeed(_instrument(instruments, a.instrument_id), a) for a in items if len(a)]
    elif items and all(isinstance(x, BarEvent) for x in items):
        grouped: dict[InstrumentId, list[BarEvent]] = {}
        for bar in items:
            if not bar.closed:
                raise ValueError("backtest bars must be closed bars")
            grouped.setdefault(bar.instrument_id, []).append(bar)
        feeds = []
        for iid, bars in grouped.items():
            bars.sort(key=lambda b: b.start_ns)
            if len({b.start_ns for b in bars}) != len(bars):
                raise ValueError(f"{iid} has two bars with the same start")
            feeds.append(_EventFeed(_instrument(instruments, iid), bars))
    else:
        raise ValueError("data must be BarArrays, BarEvents or Ticks (one kind)")
    if not feeds:
        raise ValueError("no bars to replay")
    if len({f.timeframe for f in feeds}) > 1:
        raise ValueError("all bars of a backtest must share one timeframe")
    return feeds


def tick_stream(data: Sequence[Tick], instruments: dict[InstrumentId, Instrument]) -> list[Tick]:
    """Ticks of every instrument in time order (ties keep their input order); each needs a price."""
    for tick in data:
        _instrument(instruments, tick.instrument_id)
        if tick.last_price is None and tick.mid is None:
            raise ValueError(f"tick of {tick.instrument_id} at {tick.ts_ns} has no last price and no bid/ask")
    return sorted(data, key=lambda t: t.ts_ns)


def is_tick_data(data: object) -> bool:
    return isinstance(data, Sequence) and bool(data) and all(isinstance(x, Tick) for x in data)


def _instrument(instruments: dict[InstrumentId, Instrument], iid: InstrumentId) -> Instrument:
    if iid not in instruments:
        raise UnknownInstrument(f"data for {iid}, which is not among the backtest's instruments")
    return instruments[iid]


def _ends(starts: np.ndarray, timeframe: Timeframe) -> np.ndarray:
    step = timeframe.step_ns or {Timeframe.D1: DAY_NS, Timeframe.W1: 7 * DAY_NS}.get(timeframe)
    if step is not None:
        return starts + step
    return np.array([bucket_end(int(s), timeframe, UTC_SESSION) for s in starts], dtype=np.int64)
