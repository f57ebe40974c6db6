"""Instrument and candle caches in the journal file, for connectors and charts (see schema.py).

Instruments are replaced per venue (a fresh dump supersedes the old one); candles are upserted by
(instrument, timeframe, start), so re-storing a backfill is harmless.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from decimal import Decimal

from core.domain import BarEvent, Instrument, InstrumentId, Venue

from .codec import dumps, instrument_from_dict, instrument_to_dict


class MarketCache:
    """Reads and writes the instruments and candles tables."""

    def __init__(self, connection: sqlite3.Connection, clock_ns: Callable[[], int]) -> None:
        self._db = connection
        self._clock_ns = clock_ns

    def store_instruments(self, venue: Venue, instruments: Iterable[Instrument]) -> int:
        """Replace the cached instruments of a venue; return how many were stored."""
        now = self._clock_ns()
        rows = [(venue.value, i.symbol, dumps(instrument_to_dict(i)), now) for i in instruments if i.venue is venue]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM instruments WHERE venue = ?", (venue.value,))
            self._db.executemany("INSERT INTO instruments(venue, symbol, data, updated_ns) VALUES (?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return len(rows)

    def load_instruments(self, venue: Venue) -> list[Instrument]:
        """Return the cached instruments of a venue (empty when none are cached)."""
        rows = self._db.execute("SELECT data FROM instruments WHERE venue = ? ORDER BY symbol", (venue.value,))
        return [instrument_from_dict(json.loads(data)) for (data,) in rows]

    def instruments_updated_ns(self, venue: Venue) -> int | None:
        """When the venue's instruments were last stored (None if never)."""
        row = self._db.execute("SELECT MAX(updated_ns) FROM instruments WHERE venue = ?", (venue.value,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def store_candles(self, bars: Iterable[BarEvent]) -> int:
        """Insert or replace closed candles; return how many were written."""
        rows = [(b.instrument_id.venue.value, b.instrument_id.symbol, b.timeframe, b.start_ns, str(b.open), str(b.high),
                 str(b.low), str(b.close), str(b.volume)) for b in bars if b.closed]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO candles(venue, symbol, timeframe, start_ns, open, high, low, "
                                 "close, volume) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return len(rows)

    def load_candles(self, instrument_id: InstrumentId, timeframe: str, start_ns: int = 0,
                     end_ns: int = 2**63 - 1) -> list[BarEvent]:
        """Return cached candles with start in [start_ns, end_ns), oldest first."""
        rows = self._db.execute(
            "SELECT start_ns, open, high, low, close, volume FROM candles WHERE venue = ? AND symbol = ? "
            "AND timeframe = ? AND start_ns >= ? AND start_ns < ? ORDER BY start_ns",
            (instrument_id.venue.value, instrument_id.symbol, timeframe, start_ns, end_ns))
        return [BarEvent(instrument_id, timeframe, int(s), Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(v), True)
                for s, o, h, lo, c, v in rows]
