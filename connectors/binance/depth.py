"""Diff-depth parsing and the documented local order book synchronisation (pure: no I/O).

DepthParser turns a depthUpdate frame into a DepthUpdateMsg: orjson.loads, then one comprehension per
side into Decimal pairs. Prices go through a cache of the Decimals already made: the same price
levels recur constantly, and reusing one Decimal object per price makes the book's dict work cheap
(its hash is computed once and equality is identity). Quantities rarely repeat and are never hashed,
so they are plain Decimal() calls.

DepthSync applies binance.md A11 (spot) and B2 (USD-M) for one symbol:
  buffer diffs until a REST snapshot arrives; a snapshot older than the first buffered diff is
  refused; drop diffs the book already covers (u <= local id); the first diff after the snapshot
  must reach back to it (spot U <= L+1, futures U <= L or pu == L); after that spot needs
  U <= local+1 and futures pu == local, otherwise the book is discarded and resynchronised.
It emits a snapshot BookDelta (levels in no particular order) once in sync, then one BookDelta per
applied diff. Levels set to zero
stay in its dicts until the next purge (every PURGE_EVERY diffs), so applying a diff is two
dict.update calls; readers see only the non-zero levels.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from decimal import Decimal
from typing import Any

import orjson

from core.domain import BookDelta, InstrumentId, PriceLevel

from .wire_market import MS, Malformed

_loads = orjson.loads  # a third of the json module's time per frame; raises ValueError subclasses too
_Decimal = Decimal
_first, _second = itemgetter(0), itemgetter(1)

Levels = tuple[PriceLevel, ...]
PURGE_EVERY = 4096
PRICE_CACHE_LIMIT = 100_000


@dataclass(slots=True)
class DepthUpdateMsg:
    """A depthUpdate event, with Binance's names (pu = -1 on spot, which has none)."""

    E: int
    s: str
    U: int
    u: int
    pu: int
    b: Levels
    a: Levels


class _PriceCache(dict[str, Decimal]):
    """str -> Decimal for prices; a miss converts the string and checks it is a positive number."""

    def __missing__(self, key: str) -> Decimal:
        value = _Decimal(key)
        if not value > 0 or value.is_infinite():  # a NaN raises InvalidOperation at the comparison
            raise ValueError(f"bad price {key!r}")
        self[key] = value
        return value


class DepthParser:
    """Parses depthUpdate frames or their decoded `data` objects. One per stream (it caches prices)."""

    def __init__(self) -> None:
        self._prices = _PriceCache()

    def parse(self, frame: str | bytes) -> DepthUpdateMsg:
        """Return the diff in a raw or combined-stream frame; raise Malformed if it is not one."""
        try:
            d = _loads(frame)
        except ValueError:
            raise Malformed("depth frame is not JSON") from None
        if type(d) is dict and "data" in d:
            d = d["data"]
        return self.parse_data(d)

    def parse_data(self, d: Any) -> DepthUpdateMsg:
        """Return the diff in a decoded depthUpdate object; raise Malformed if it is not one."""
        prices = self._prices
        if len(prices) > PRICE_CACHE_LIMIT:
            prices.clear()
        try:
            E, s, U, u, pu = d["E"], d["s"], d["U"], d["u"], d.get("pu", -1)
            if type(E) is not int or type(U) is not int or type(u) is not int or type(pu) is not int or type(s) is not str:
                raise TypeError("bad id or symbol")
            return DepthUpdateMsg(E, s, U, u, pu, _levels(d["b"], prices), _levels(d["a"], prices))
        except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as exc:
            raise Malformed(f"bad depthUpdate: {exc!r}") from None

    def parse_levels(self, rows: Any) -> Levels:
        """Convert [["price", "qty"], ...] (a REST snapshot side); raise Malformed if it is not that.

        A snapshot is thousands of mostly new prices: they are converted in one pass, checked (prices
        positive, quantities not negative; comparing a NaN raises), then added to the price cache.
        """
        try:
            levels = tuple([(_Decimal(price), _Decimal(qty)) for price, qty in rows])
            if levels and (min(map(_first, levels)) <= 0 or min(map(_second, levels)) < 0):
                raise ValueError("price not positive or quantity negative")
            if any(map(_Decimal.is_infinite, map(_first, levels))):
                raise ValueError("infinite price")
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise Malformed(f"bad depth levels: {exc!r}") from None
        self._prices.update(zip(map(_first, rows), map(_first, levels)))
        return levels


def _levels(rows: list[list[str]], prices: _PriceCache) -> Levels:
    """[["price", "qty"], ...] -> ((Decimal, Decimal), ...); unpacking rejects rows that are not pairs."""
    return tuple([(prices[price], _Decimal(qty)) for price, qty in rows])


class DepthSync:
    """The local book of one symbol, kept in sync by the documented algorithm. Pure: no I/O."""

    def __init__(self, instrument_id: InstrumentId, futures: bool, max_buffer: int = 5000) -> None:
        self.instrument_id = instrument_id
        self.futures = futures
        self.max_buffer = max_buffer
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = 0
        self.synced = False
        self.resyncs = 0  # gaps seen so far
        self._buffer: list[DepthUpdateMsg] = []
        self._straddle = False
        self._since_purge = 0

    @property
    def awaiting_snapshot(self) -> bool:
        """True until a snapshot has been applied, and again after a gap."""
        return not self.synced

    def reset(self) -> None:
        """Forget the book and the buffer (after a reconnect nothing old can be trusted)."""
        self.synced = False
        self.bids.clear()
        self.asks.clear()
        self._buffer.clear()
        self.update_id = 0
        self._straddle = False

    def on_diff(self, msg: DepthUpdateMsg) -> BookDelta | None:
        """Feed one diff; return the BookDelta to publish, or None (buffered, stale, or a gap)."""
        if not self.synced:
            self._buffer.append(msg)
            if len(self._buffer) > self.max_buffer:
                del self._buffer[0]
            return None
        last = self.update_id
        u = msg.u
        if u <= last:
            return None
        if self._straddle:  # first diff after the snapshot: must reach back to it
            broken = msg.U > last and msg.pu != last if self.futures else msg.U > last + 1
            self._straddle = broken
        else:
            broken = msg.pu != last if self.futures else msg.U > last + 1
        if broken:
            self._lose_sync(msg)
            return None
        self.bids.update(msg.b)
        self.asks.update(msg.a)
        self.update_id = u
        self._since_purge += 1
        if self._since_purge >= PURGE_EVERY:
            self._purge()
        return BookDelta(self.instrument_id, msg.E * MS, msg.b, msg.a, u)

    def _purge(self) -> None:
        self._since_purge = 0
        self.bids = {p: q for p, q in self.bids.items() if q}
        self.asks = {p: q for p, q in self.asks.items() if q}

    def on_snapshot(self, last_update_id: int, bids: Levels, asks: Levels, ts_ns: int = 0) -> BookDelta | None:
        """Apply a REST snapshot and the buffered diffs after it.

        Return the snapshot BookDelta once in sync, or None when this snapshot cannot be used
        (older than the buffered diffs, or they do not connect to it): fetch another.
        """
        if self.synced:
            return None
        buffered = self._buffer
        if buffered and last_update_id < buffered[0].U:
            return None
        self.bids, self.asks = dict(bids), dict(asks)  # a zero level is simply absent to readers
        self.update_id = last_update_id
        self._buffer = []
        self.synced = True
        self._straddle = True
        ts = ts_ns
        for msg in buffered:
            applied = self.on_diff(msg)
            if applied is not None:
                ts = applied.ts_ns
        if not self.synced:
            return None
        bids = tuple([(p, q) for p, q in self.bids.items() if q])  # unsorted: the book sorts when read
        asks = tuple([(p, q) for p, q in self.asks.items() if q])
        return BookDelta(self.instrument_id, ts, bids, asks, self.update_id, is_snapshot=True)

    def levels(self, side: str, depth: int | None = None) -> Levels:
        """Return one side best first ('bid' or 'ask'), optionally only the top `depth` levels."""
        book = self.bids if side == "bid" else self.asks
        prices = sorted((p for p, q in book.items() if q), reverse=side == "bid")
        if depth is not None:
            prices = prices[:depth]
        return tuple((p, book[p]) for p in prices)

    def _lose_sync(self, msg: DepthUpdateMsg) -> None:
        self.synced = False
        self.resyncs += 1
        self.bids.clear()
        self.asks.clear()
        self._buffer = [msg]
