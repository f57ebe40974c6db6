"""The Kite instruments dump (kite.md C9): parsed into columns, indexed, cached for the day, converted.

parse_dump() reads the CSV with the csv module and transposes it into one list per column (100,000
rows in a fraction of a second); numbers that are money (strike, tick size) stay strings until an
Instrument is made, so they become exact Decimals. InstrumentIndex finds rows by (exchange,
tradingsymbol), token and core symbol, searches symbols, and lists expiries and option chains by
underlying. DumpCache keeps one file per day: a dump fetched before today's 08:30 IST regeneration is
stale after it.

Core symbols: NSE and NFO instruments keep their tradingsymbol (INFY, NIFTY25DECFUT); other exchanges
prefix it (BSE:INFY, MCX:GOLDM25DECFUT), since the same tradingsymbol exists on several exchanges.
"""
from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Venue

IST = ZoneInfo("Asia/Kolkata")
COLUMNS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size",
           "lot_size", "instrument_type", "segment", "exchange")
PRIMARY_EXCHANGES = frozenset({"NSE", "NFO"})
REFRESH_AT = dtime(8, 30)
EXPIRY_TIME = {"MCX": dtime(23, 30), "CDS": dtime(12, 0), "BCD": dtime(12, 0)}  # others: 15:30
_RIGHTS = {"CE": OptionRight.CALL, "PE": OptionRight.PUT}
_DEFAULT_TICK = Decimal("0.05")  # indices carry tick 0 in the dump
_KINDS = {"FUT": InstrumentKind.FUTURE, "CE": InstrumentKind.OPTION, "PE": InstrumentKind.OPTION}


@dataclass
class InstrumentTable:
    """The dump as columns: row i of every list describes one instrument."""

    instrument_token: list[int]
    exchange_token: list[int]
    tradingsymbol: list[str]
    name: list[str]
    last_price: list[str]
    expiry: list[str]
    strike: list[str]
    tick_size: list[str]
    lot_size: list[int]
    instrument_type: list[str]
    segment: list[str]
    exchange: list[str]

    def __len__(self) -> int:
        return len(self.instrument_token)

    def row(self, i: int) -> dict[str, object]:
        """Row i with Kite's column names."""
        return {name: getattr(self, name)[i] for name in COLUMNS}


def parse_dump(data: bytes | str) -> InstrumentTable:
    """Parse the CSV dump (header row first; columns located by name)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    header, columns = _split_plain(text) if '"' not in text else (None, None)
    if header is None or columns is None:
        header, columns = _split_csv(text)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"the instruments dump lacks columns {missing}")
    at = {name: columns[header.index(name)] for name in COLUMNS}
    return InstrumentTable(
        list(map(int, at["instrument_token"])), list(map(int, at["exchange_token"])), at["tradingsymbol"], at["name"],
        at["last_price"], at["expiry"], at["strike"], at["tick_size"], list(map(int, at["lot_size"])),
        at["instrument_type"], at["segment"], at["exchange"])


def _split_plain(text: str) -> tuple[list[str] | None, list[list[str]] | None]:
    """The common case, no quoted fields: split on commas and slice columns out of one flat list.

    (None, None) if any line has the wrong number of fields: the csv path then names the row.
    """
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if not lines or not lines[0]:
        return None, None
    header = lines[0].split(",")
    width = len(header)
    body = lines[1:]
    if any(line.count(",") != width - 1 for line in body):
        return None, None
    flat = ",".join(body).split(",") if body else []
    return header, [flat[k::width] for k in range(width)]


def _split_csv(text: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ValueError("the instruments dump is empty")
    rows = [row for row in reader if row]
    bad = next((i for i, row in enumerate(rows) if len(row) != len(header)), None)
    if bad is not None:
        raise ValueError(f"instruments dump row {bad + 2} has {len(rows[bad])} fields, expected {len(header)}")
    return header, [list(column) for column in zip(*rows)] if rows else [[] for _ in header]


def core_symbol(exchange: str, tradingsymbol: str) -> str:
    """The core symbol of a Kite instrument (see the module docstring)."""
    return tradingsymbol if exchange in PRIMARY_EXCHANGES else f"{exchange}:{tradingsymbol}"


@dataclass(frozen=True)
class ChainRow:
    """One strike of an option chain: the rows of its call and put (None if not listed)."""

    strike: Decimal
    call: int | None  # row numbers in the table
    put: int | None


@dataclass
class InstrumentIndex:
    """Lookups over a table; Instruments are built on first request and kept."""

    table: InstrumentTable
    _by_key: dict[tuple[str, str], int] = field(default_factory=dict)
    _by_token: dict[int, int] = field(default_factory=dict)
    _by_symbol: dict[str, int] = field(default_factory=dict)
    _derivatives: dict[str, list[int]] = field(default_factory=dict)
    _lower: list[str] = field(default_factory=list)
    _built: dict[int, Instrument] = field(default_factory=dict)
    _decimals: dict[str, Decimal] = field(default_factory=dict)
    _lots: dict[int, Decimal] = field(default_factory=dict)
    _expiries: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = self.table
        self._by_key = {key: i for i, key in enumerate(zip(t.exchange, t.tradingsymbol))}
        self._by_token = {token: i for i, token in enumerate(t.instrument_token)}
        self._by_symbol = {core_symbol(e, s): i for i, (e, s) in enumerate(zip(t.exchange, t.tradingsymbol))}
        for i, kind in enumerate(t.instrument_type):
            if kind in _KINDS:
                self._derivatives.setdefault(self.underlying(i), []).append(i)
        self._lower = [s.lower() for s in t.tradingsymbol]

    def __len__(self) -> int:
        return len(self.table)

    def find(self, exchange: str, tradingsymbol: str) -> int | None:
        """The row of (exchange, tradingsymbol), or None."""
        return self._by_key.get((exchange, tradingsymbol))

    def by_token(self, token: int) -> int | None:
        """The row of an instrument_token, or None."""
        return self._by_token.get(token)

    def by_symbol(self, symbol: str) -> int | None:
        """The row of a core symbol (INFY, NIFTY25DECFUT, BSE:INFY)."""
        return self._by_symbol.get(symbol)

    def underlying(self, i: int) -> str:
        """The underlying's name: the name column, or the letters that start a derivative's symbol."""
        name = self.table.name[i]
        if name:
            return name
        symbol = self.table.tradingsymbol[i]
        end = next((k for k, ch in enumerate(symbol) if ch.isdigit()), len(symbol))
        return symbol[:end]

    def search(self, query: str, limit: int = 50) -> list[int]:
        """Rows whose tradingsymbol contains every word of the query; prefix matches first, shorter first."""
        words = query.lower().split()
        if not words:
            return []
        hits = [i for i, s in enumerate(self._lower) if all(w in s for w in words)]
        hits.sort(key=lambda i: (not self._lower[i].startswith(words[0]), len(self._lower[i]), self._lower[i]))
        return hits[:limit]

    def expiries(self, underlying: str, instrument_type: str = "CE") -> list[date]:
        """Expiry dates of an underlying's options (or futures with "FUT"), nearest first."""
        t = self.table
        kinds = ("CE", "PE") if instrument_type in ("CE", "PE") else (instrument_type,)
        found = {t.expiry[i] for i in self._derivatives.get(underlying, ()) if t.instrument_type[i] in kinds and t.expiry[i]}
        return sorted(date.fromisoformat(e) for e in found)

    def chain(self, underlying: str, expiry: date) -> list[ChainRow]:
        """The option chain of one expiry: (strike, call row, put row), by strike."""
        t, wanted = self.table, expiry.isoformat()
        by_strike: dict[Decimal, dict[str, int]] = {}
        for i in self._derivatives.get(underlying, ()):
            if t.expiry[i] == wanted and t.instrument_type[i] in ("CE", "PE"):
                by_strike.setdefault(self._decimal(t.strike[i]), {})[t.instrument_type[i]] = i
        return [ChainRow(k, v.get("CE"), v.get("PE")) for k, v in sorted(by_strike.items())]

    def instrument(self, i: int) -> Instrument:
        """Row i as a core Instrument."""
        built = self._built.get(i)
        if built is None:
            built = self._built[i] = self._convert(i)
        return built

    def instruments(self, exchanges: Iterable[str] | None = None) -> list[Instrument]:
        """Core Instruments of every row (of the given exchanges)."""
        wanted = set(exchanges) if exchanges is not None else None
        return [self.instrument(i) for i in range(len(self.table)) if wanted is None or self.table.exchange[i] in wanted]

    def _decimal(self, text: str) -> Decimal:
        value = self._decimals.get(text)
        if value is None:
            value = self._decimals[text] = Decimal(text or "0")
        return value

    def _convert(self, i: int) -> Instrument:
        t = self.table
        exchange, kind_code = t.exchange[i], t.instrument_type[i]
        kind = InstrumentKind.INDEX if t.segment[i] == "INDICES" else _KINDS.get(kind_code, InstrumentKind.EQUITY)
        lot = self._lots.get(t.lot_size[i])
        if lot is None:
            lot = self._lots[t.lot_size[i]] = Decimal(t.lot_size[i] or 1)
        option = kind is InstrumentKind.OPTION
        return Instrument(
            InstrumentId(Venue.ZERODHA, core_symbol(exchange, t.tradingsymbol[i])), kind, exchange,
            self._decimal(t.tick_size[i]) or _DEFAULT_TICK, lot, quote_currency="INR", min_quantity=lot,
            expiry=self._expiry(t.expiry[i], exchange) if t.expiry[i] else None,
            strike=self._decimal(t.strike[i]) if option else None, right=_RIGHTS.get(kind_code),
            underlying=self.underlying(i) if kind is InstrumentKind.FUTURE or option else None,
            venue_token=str(t.instrument_token[i]), name=t.name[i] or t.tradingsymbol[i],
            extra={"tradingsymbol": t.tradingsymbol[i], "segment": t.segment[i], "exchange_token": str(t.exchange_token[i])})

    def _expiry(self, text: str, exchange: str) -> datetime:
        key = (text, exchange)
        value = self._expiries.get(key)
        if value is None:
            value = self._expiries[key] = datetime.combine(date.fromisoformat(text), EXPIRY_TIME.get(exchange, dtime(15, 30)), IST)
        return value


class DumpCache:
    """One dump file per day in a directory; stale once the 08:30 IST regeneration after it has passed."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time, name: str = "kite-instruments.csv") -> None:
        self.path = Path(directory) / name
        self._clock = clock

    def load(self) -> bytes | None:
        """The cached dump if it is from after the latest regeneration, else None."""
        try:
            fetched = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        if fetched < last_refresh(self._clock()):
            return None
        return self.path.read_bytes()

    def store(self, data: bytes) -> None:
        """Write a freshly downloaded dump (atomically)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, self.path)
        now = self._clock()
        os.utime(self.path, (now, now))


def last_refresh(now_s: float) -> float:
    """Epoch seconds of the latest 08:30 IST at or before now."""
    now = datetime.fromtimestamp(now_s, IST)
    boundary = datetime.combine(now.date(), REFRESH_AT, IST)
    if now < boundary:
        boundary -= timedelta(days=1)
    return boundary.timestamp()
