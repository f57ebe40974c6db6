"""BarBuilder: exact OHLCV bars from trades, bucketed by timeframe and session.

Prices and volumes in the public Bar records are Decimal, so they are exact; the builder mirrors every
bar as floats into a BarSeries for charts and indicators. Open and close are the prices of the
earliest and latest trade by timestamp, so a reordered trade inside a bar still gives the right open.

A bar closes when a trade for a later bucket arrives, or when on_time(ts_ns) says its bucket is over,
so a quiet market still closes bars. Feed on_time a clock aligned with the venue's timestamps (local
time minus a small grace delay) or allow some lateness: a trade stamped before the watermark (the
newest trade or clock time seen) is late. A late trade is kept only if its bucket is the last closed
bar's, or a new bucket after the last bar while no bar is building, and the watermark is less than
allowed_lateness_ns past that bucket's end (default 0: never); a corrected closed bar is reported
through on_update, a bar opened late is closed at once. Every other late trade is dropped, counted in
`dropped` and logged at debug. Empty intervals give no bar, or with fill_empty a flat closed bar at the
last close with zero volume and zero trades, for buckets in session hours only.

Threading: not thread-safe; call it from the one event loop.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.domain import BarEvent, InstrumentId, to_decimal

from .series import BarSeries
from .timeframes import UTC_SESSION, Session, Timeframe, bucket_end, bucket_start, next_trading_bucket

log = logging.getLogger(__name__)

BarCallback = Callable[["Bar"], None]
_FOREVER = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle. instrument_key is str(InstrumentId), e.g. "BTCUSDT.BINANCE"."""

    instrument_key: str
    timeframe: Timeframe
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    closed: bool

    def to_event(self) -> BarEvent:
        """Return the bus event for this bar."""
        return BarEvent(InstrumentId.parse(self.instrument_key), self.timeframe.value, self.start_ns, self.open,
                        self.high, self.low, self.close, self.volume, self.closed)


class _Building:
    """The mutable bar behind the frozen snapshots."""

    __slots__ = ("start", "end", "open", "high", "low", "close", "volume", "trades", "open_ts", "close_ts", "closed")

    def __init__(self, start: int, end: int, price: Decimal) -> None:
        self.start, self.end = start, end
        self.open = self.high = self.low = self.close = price
        self.volume = Decimal(0)
        self.trades = 0
        self.open_ts = self.close_ts = start
        self.closed = False

    def add(self, price: Decimal, qty: Decimal, ts_ns: int) -> None:
        if self.trades == 0:
            self.open = self.high = self.low = self.close = price
            self.open_ts = self.close_ts = ts_ns
        else:
            self.high = max(self.high, price)
            self.low = min(self.low, price)
            if ts_ns < self.open_ts:
                self.open, self.open_ts = price, ts_ns
            if ts_ns >= self.close_ts:
                self.close, self.close_ts = price, ts_ns
        self.volume += qty
        self.trades += 1


class BarBuilder:
    """Builds the bars of one instrument and timeframe from its trades."""

    def __init__(self, instrument_key: str, timeframe: Timeframe, session: Session = UTC_SESSION, *,
                 fill_empty: bool = False, allowed_lateness_ns: int = 0, on_update: BarCallback | None = None,
                 on_close: BarCallback | None = None, series_max_len: int | None = None) -> None:
        if allowed_lateness_ns < 0:
            raise ValueError("allowed_lateness_ns must not be negative")
        if series_max_len is not None and series_max_len < 2:
            raise ValueError("series_max_len must keep at least the live and the previous bar")
        self.instrument_key = instrument_key
        self.timeframe = timeframe
        self.session = session
        self.fill_empty = fill_empty
        self.allowed_lateness_ns = allowed_lateness_ns
        self.on_update = on_update
        self.on_close = on_close
        self.series = BarSeries(series_max_len)
        self.dropped = 0
        self.watermark_ns: int | None = None
        self._cur: _Building | None = None
        self._prev: _Building | None = None

    @property
    def current(self) -> Bar | None:
        """The bar still building, if any."""
        return None if self._cur is None else self._snapshot(self._cur)

    @property
    def last_closed(self) -> Bar | None:
        return None if self._prev is None else self._snapshot(self._prev)

    def on_trade(self, price: Decimal | float, qty: Decimal | float, ts_ns: int) -> list[Bar]:
        """Add a trade (qty 0 for a price-only tick); return the bars this closed, oldest first."""
        cur = self._cur
        if cur is not None and cur.start <= ts_ns < cur.end:
            cur.add(to_decimal(price), to_decimal(qty), ts_ns)
            self._advance(ts_ns)
            self._changed(cur)
            return []
        start = bucket_start(ts_ns, self.timeframe, self.session)
        watermark = -_FOREVER if self.watermark_ns is None else self.watermark_ns
        prev = self._prev
        if cur is not None and start > cur.start:
            return self._start_bar(start, price, qty, ts_ns)
        if cur is None and (prev is None or start > prev.start):
            end = bucket_end(start, self.timeframe, self.session)
            if watermark < end + self.allowed_lateness_ns:
                return self._start_bar(start, price, qty, ts_ns)
        elif prev is not None and start == prev.start and watermark < prev.end + self.allowed_lateness_ns:
            prev.add(to_decimal(price), to_decimal(qty), ts_ns)
            self._changed(prev)
            return []
        self.dropped += 1
        log.debug("dropped late trade of %s %s at %d (watermark %d)", self.instrument_key, self.timeframe.value,
                  ts_ns, watermark)
        return []

    def on_time(self, ts_ns: int) -> list[Bar]:
        """Advance the clock: close the building bar once its bucket is over; return the bars closed."""
        now = self._advance(ts_ns)
        closed: list[Bar] = []
        if self._cur is not None and now >= self._cur.end:
            closed.append(self._close(self._cur))
        if self._cur is None:
            closed += self._fill(_FOREVER, now)
        return closed

    def _start_bar(self, start: int, price: Decimal | float, qty: Decimal | float, ts_ns: int) -> list[Bar]:
        closed = [self._close(self._cur)] if self._cur is not None else []
        closed += self._fill(start, _FOREVER)
        bar = self._cur = _Building(start, bucket_end(start, self.timeframe, self.session), to_decimal(price))
        bar.add(bar.open, to_decimal(qty), ts_ns)
        watermark = self._advance(ts_ns)
        self._changed(bar)
        if watermark >= bar.end:
            closed.append(self._close(bar))
        return closed

    def _close(self, bar: _Building) -> Bar:
        bar.closed = True
        self._prev, self._cur = bar, None
        snapshot = self._snapshot(bar)
        if self.on_close is not None:
            self.on_close(snapshot)
        return snapshot

    def _fill(self, before_ns: int, ended_by_ns: int) -> list[Bar]:
        """Add flat bars for the empty trading buckets after the last bar (fill_empty only)."""
        last = self._prev
        if not self.fill_empty or last is None:
            return []
        tf, session = self.timeframe, self.session
        closed: list[Bar] = []
        start = next_trading_bucket(last.end, tf, session)
        while start < before_ns and (end := bucket_end(start, tf, session)) <= ended_by_ns:
            flat = _Building(start, end, last.close)
            self.series.append(start, *(float(last.close),) * 4, 0.0)
            closed.append(self._close(flat))
            last = flat
            start = next_trading_bucket(end, tf, session)
        return closed

    def _advance(self, ts_ns: int) -> int:
        if self.watermark_ns is None or ts_ns > self.watermark_ns:
            self.watermark_ns = ts_ns
        return self.watermark_ns

    def _changed(self, bar: _Building) -> None:
        self.series.upsert(bar.start, float(bar.open), float(bar.high), float(bar.low), float(bar.close),
                           float(bar.volume))
        if self.on_update is not None:
            self.on_update(self._snapshot(bar))

    def _snapshot(self, bar: _Building) -> Bar:
        return Bar(self.instrument_key, self.timeframe, bar.start, bar.open, bar.high, bar.low, bar.close,
                   bar.volume, bar.trades, bar.closed)
