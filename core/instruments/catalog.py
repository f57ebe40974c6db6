"""InstrumentCatalog: lookup by id or venue token, and search that answers while the user types.

Search is token-AND over a precomputed lowercase key per instrument (symbol, name, exchange, expiry as
'09dec25 dec 2025-12-09', strike, right), so 'nifty 25000 ce dec' finds NIFTY25DEC25000CE. Results
are ranked: exact symbol, symbol prefix, symbol substring, then the rest; nearer expiries and shorter
symbols first. A plain scan of 100,000 keys per token stays within a few milliseconds.
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
        return [i for i in self._items if i.kind is InstrumentKind.OPTION and i.underlying == underlying and i.venue is venue]

    def search(self, query: str, limit: int = 50) -> list[Instrument]:
        """Return up to `limit` instruments matching every word of the query, best first."""
        tokens = query.lower().split()
        if not tokens:
            return []
        first = tokens[0]
        hits: list[tuple[tuple[int, int, float, int, str], Instrument]] = []
        keys, symbols, items = self._keys, self._symbols, self._items
        for i, key in enumerate(keys):
            if first not in key or not all(t in key for t in tokens[1:]):
                continue
            sym = symbols[i]
            rank = 0 if sym == first else 1 if sym.startswith(first) else 2 if first in sym else 3
            inst = items[i]
            hits.append(((rank, _KIND_RANK.get(inst.kind, 4), _expiry_rank(inst.expiry), len(sym), sym), inst))
        hits.sort(key=lambda h: h[0])
        return [inst for _, inst in hits[:limit]]


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
