"""InstrumentCatalog: lookup by id or venue token, and search that answers while the user types.

Search is token-AND over a precomputed lowercase key per instrument (symbol, name, exchange, expiry as
'09dec25 dec 2025-12-09', strike, right), so 'nifty 25000 ce dec' finds NIFTY25DEC25000CE. Results
are ranked: exact symbol, symbol prefix, symbol substring, then the rest; within a rank indices and
stocks before futures before options, nearer expiries and shorter symbols first. That second part of
the order does not depend on the query, so the catalog keeps its instruments sorted by it: a search
scans in that order and stops once enough exact and prefix matches are in hand. A one-letter query
over 100,000 instruments thus costs a few dozen matches, not a sort of the whole catalog.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from core.domain import Instrument, InstrumentId, InstrumentKind, Venue
from core.errors import UnknownInstrument

_KIND_RANK = {InstrumentKind.INDEX: 0, InstrumentKind.EQUITY: 1, InstrumentKind.SPOT: 1, InstrumentKind.FUTURE: 2, InstrumentKind.OPTION: 3}
_FAR = float("inf")


class InstrumentCatalog:
    """All known instruments. Not thread-safe: replace() it on the loop thread."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_id: dict[InstrumentId, Instrument] = {}
        self._pos: dict[InstrumentId, int] = {}
        self._by_token: dict[tuple[Venue, str], Instrument] = {}
        self._items: list[Instrument] = []
        self._keys: list[str] = []
        self._symbols: list[str] = []
        self._exact: dict[str, list[int]] = {}  # lowercase symbol -> positions
        self._order: list[int] | None = None  # positions sorted by the query-independent ranking; built on first search
        self._derivatives: dict[tuple[Venue, str], list[Instrument]] | None = None  # built on first use
        self.add(instruments)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def add(self, instruments: Iterable[Instrument]) -> None:
        """Add or replace instruments (by id)."""
        for inst in instruments:
            index = self._pos.get(inst.id)
            if index is not None:
                self._items[index], self._keys[index], self._symbols[index] = inst, _key(inst), inst.symbol.lower()
            else:
                self._pos[inst.id] = len(self._items)
                self._items.append(inst)
                self._keys.append(_key(inst))
                self._symbols.append(inst.symbol.lower())
            self._by_id[inst.id] = inst
            if inst.venue_token:
                self._by_token[(inst.venue, inst.venue_token)] = inst
        self._order = None  # re-sorted on the next search, not once per venue loaded at start-up
        self._derivatives = None

    def _search_order(self) -> list[int]:
        if self._order is not None:
            return self._order
        items, symbols = self._items, self._symbols
        self._order = sorted(range(len(items)), key=lambda i: (_KIND_RANK.get(items[i].kind, 4),
                                                              _expiry_rank(items[i].expiry), len(symbols[i]), symbols[i]))
        self._exact = {}
        for pos in self._order:
            self._exact.setdefault(symbols[pos], []).append(pos)
        return self._order

    def get(self, instrument_id: InstrumentId) -> Instrument:
        """Return an instrument; UnknownInstrument (a ValidationError) says which one is missing."""
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownInstrument(f"unknown instrument {instrument_id}") from None

    def find(self, instrument_id: InstrumentId) -> Instrument | None:
        return self._by_id.get(instrument_id)

    def by_token(self, venue: Venue, token: str) -> Instrument | None:
        return self._by_token.get((venue, token))

    def of_venue(self, venue: Venue) -> list[Instrument]:
        return [i for i in self._items if i.venue is venue]

    def options(self, underlying: str, venue: Venue = Venue.ZERODHA) -> list[Instrument]:
        """Every option on an underlying (by its name, e.g. 'NIFTY')."""
        return [i for i in self.derivatives(underlying, venue) if i.kind is InstrumentKind.OPTION]

    def futures(self, underlying: str, venue: Venue = Venue.ZERODHA) -> list[Instrument]:
        """Every future on an underlying, nearest expiry first."""
        return sorted((i for i in self.derivatives(underlying, venue) if i.kind is InstrumentKind.FUTURE),
                      key=lambda i: _expiry_rank(i.expiry))

    def derivatives(self, underlying: str, venue: Venue = Venue.ZERODHA) -> list[Instrument]:
        """Futures and options on an underlying, from an index (a chain refreshes several times a second)."""
        if self._derivatives is None:
            index: dict[tuple[Venue, str], list[Instrument]] = {}
            for inst in self._items:
                if inst.underlying and inst.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION):
                    index.setdefault((inst.venue, inst.underlying), []).append(inst)
            self._derivatives = index
        return self._derivatives.get((venue, underlying), [])

    def search(self, query: str, limit: int = 50) -> list[Instrument]:
        """Return up to `limit` instruments matching every word of the query, best first."""
        tokens = query.lower().split()
        if not tokens or limit < 1:
            return []
        first = tokens[0]
        keys, symbols = self._keys, self._symbols
        order = self._search_order()
        exact = [i for i in self._exact.get(first, ()) if all(t in keys[i] for t in tokens[1:])]
        prefix: list[int] = []
        inside: list[int] = []
        elsewhere: list[int] = []
        wanted = limit - len(exact)
        for i in order:
            key = keys[i]
            if first not in key or not all(t in key for t in tokens[1:]):
                continue
            sym = symbols[i]
            if sym == first:
                continue  # already in `exact`
            if sym.startswith(first):
                prefix.append(i)
                if len(prefix) >= wanted:
                    break  # nothing later in the scan can rank above these
            elif first in sym:
                inside.append(i)
            else:
                elsewhere.append(i)
        return [self._items[i] for i in (exact + prefix + inside + elsewhere)[:limit]]


def _expiry_rank(expiry: datetime | None) -> float:
    """Sort key of an expiry: venues give aware (Kite, IST) or naive (UTC) times; no expiry sorts last."""
    if expiry is None:
        return _FAR
    return (expiry if expiry.tzinfo is not None else expiry.replace(tzinfo=timezone.utc)).timestamp()


def _key(inst: Instrument) -> str:
    parts = [inst.symbol, inst.name, inst.exchange, inst.venue.value, inst.kind.value]
    if inst.expiry is not None:
        e = inst.expiry
        parts += [e.strftime("%d%b%y"), e.strftime("%b"), e.strftime("%Y-%m-%d")]
    if inst.strike is not None:
        parts.append(f"{inst.strike.normalize():f}")
    if inst.right is not None:
        parts.append(inst.right.value)
    if inst.underlying:
        parts.append(inst.underlying)
    return " ".join(parts).lower()
