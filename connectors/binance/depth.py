"""Diff-depth parsing and the documented local order book synchronisation (pure: no I/O).

DepthParser turns a depthUpdate frame into a DepthUpdateMsg: orjson.loads, then one comprehension per
side into exact Decimal pairs. Per 20-level diff (tests/bench/bench_binance_depth.py, ~13 us before):
  - prices go through a cache of the Decimals already made: the same levels recur constantly, and one
    Decimal object per price makes the book's dict work cheap (its hash is computed once per object
    and equality is identity);
  - quantities are made by create_decimal of a context wide enough to be exact: the same Decimal as
    Decimal(text) without the constructor's argument parsing (-0.45 us); stricter too, it refuses the
    spaces and underscores Decimal() tolerates;
  - a deletion's quantity is the symbol's zero string ("0.00000000" on spot; parse_levels learns e.g.
    "0" or "0.000" from a snapshot), so one string comparison gives the shared zero Decimal for
    about a third of the levels (-0.4 us); a zero spelled otherwise just takes the usual path;
  - the comprehensions are written out in DepthParser.fields rather than in a helper: a call per side
    costs 0.2 us;
  - the comprehensions unpack each row, which is also the check that it is a [price, qty] pair: the
    map/itemgetter and zip(*rows, strict=True) versions measured slower (+0.4 us, +1.3 us).
DepthSync.on_data, what the connector calls, fuses the two for a decoded `data` object: the same
parse (DepthParser.fields, shared with parse_data), then a diff that applies in sync goes straight
into the book, without a DepthUpdateMsg and its on_diff call (anything else goes through on_diff). Its sides are
applied with `dict |= pairs`, dict.update without the method call's argument parsing (-0.15 us).
Measured and not used: a cache for quantities (even with most strings repeating, hashing the fresh
strings and filling it cost more than the conversions saved: +1.3 us, +4.8 us when every size is new;
re-measured with the fused path: no gain with 76 % hits, and a small hot cache hits too rarely, 63 %
of quantities for the 4,096 commonest); a plain slots class for BookDelta (-0.7 us, but it must stay a
frozen dataclass for core's wire codec). With the fused path, within the noise (< 0.1 us): "pu" read
with `in` rather than d.get, the type checks chained into one expression, one comprehension over both
sides then sliced, BookDelta built by object.__new__ and slot stores, and a price-cache miss without
its checks. What a fresh parser costs is its misses: on the benchmark's 7,400 new prices per 10,000
diffs, about 0.5 us a diff for __missing__ and 0.3 us for the first hash of each new price Decimal.

DepthSync applies binance.md A11 (spot) and B2 (USD-M) for one symbol:
  buffer diffs until a REST snapshot arrives; a snapshot older than the first buffered diff is
  refused; drop diffs the book already covers (u <= local id); the first diff after the snapshot
  must reach back to it (spot U <= L+1, futures U <= L or pu == L); after that spot needs
  U <= local+1 and futures pu == local, otherwise the book is discarded and resynchronised.
It emits a snapshot BookDelta (levels in no particular order) once in sync, then one BookDelta per
applied diff. Levels set to zero stay in its dicts, so applying a diff is two dict updates;
readers see only the non-zero levels. The dicts are purged of zeros once they hold twice the levels
they kept at the last purge (plus PURGE_SLACK): dead levels stay about as many as live ones, and
purging costs O(1) per level added (purging every 4096 diffs walked the whole book each time:
0.16 us per diff on the benchmark's 5,000-level sides).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from operator import itemgetter
from typing import Any

import orjson

from core.domain import BookDelta, InstrumentId, PriceLevel

from .wire_market import MS, Malformed

_loads = orjson.loads  # a third of the json module's time per frame; raises ValueError subclasses too
_exact = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN).create_decimal  # = Decimal(text), cheaper
_first, _second = itemgetter(0), itemgetter(1)
_ZERO, _INFINITY = Decimal(0), Decimal("Infinity")
SPOT_ZERO = "0.00000000"  # how spot writes a deleted level's quantity

Levels = tuple[PriceLevel, ...]
PURGE_SLACK = 4096  # levels
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
    """str -> Decimal for prices; a miss converts the string and checks it is a positive number.

    Bounded: a miss when full empties it first (Decimals already handed out stay valid).
    """

    def __missing__(self, key: str) -> Decimal:
        value = _exact(key)
        if not _ZERO < value < _INFINITY:  # a NaN raises InvalidOperation at the comparison
            raise ValueError(f"bad price {key!r}")
        if len(self) >= PRICE_CACHE_LIMIT:
            self.clear()
        self[key] = value
        return value


class DepthParser:
    """Parses depthUpdate frames or their decoded `data` objects. One per stream (it caches prices)."""

    def __init__(self) -> None:
        self._prices = _PriceCache()
        self._zero_text = SPOT_ZERO  # this symbol's zero quantity, learnt from a snapshot
        self._zero = _exact(SPOT_ZERO)

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
        return DepthUpdateMsg(*self.fields(d))

    def fields(self, d: Any) -> tuple[int, str, int, int, int, Levels, Levels]:
        """E, s, U, u, pu, bids, asks of a decoded depthUpdate object; raise Malformed if it is not one."""
        prices, zero_text, zero = self._prices, self._zero_text, self._zero
        try:
            E, s, U, u, pu = d["E"], d["s"], d["U"], d["u"], d.get("pu", -1)
            if type(E) is not int or type(U) is not int or type(u) is not int or type(pu) is not int or type(s) is not str:
                raise TypeError("bad id or symbol")
            # unpacking each row rejects rows that are not [price, qty] pairs
            b = tuple([(prices[p], zero if q == zero_text else _exact(q)) for p, q in d["b"]])
            a = tuple([(prices[p], zero if q == zero_text else _exact(q)) for p, q in d["a"]])
        except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as exc:
            raise Malformed(f"bad depthUpdate: {exc!r}") from None
        return E, s, U, u, pu, b, a

    def parse_levels(self, rows: Any) -> Levels:
        """Convert [["price", "qty"], ...] (a REST snapshot side); raise Malformed if it is not that.

        A snapshot is thousands of mostly new prices: they are converted in one pass, checked (prices
        positive, quantities not negative; comparing a NaN raises), then added to the price cache.
        Its quantities also show how the symbol writes a zero, which the diffs' deletions then use.
        """
        try:
            levels = tuple([(_exact(price), _exact(qty)) for price, qty in rows])
            if levels and (min(map(_first, levels)) <= 0 or min(map(_second, levels)) < 0):
                raise ValueError("price not positive or quantity negative")
            if any(map(Decimal.is_infinite, map(_first, levels))):
                raise ValueError("infinite price")
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise Malformed(f"bad depth levels: {exc!r}") from None
        self._prices.update(zip(map(_first, rows), map(_first, levels)))
        if levels and type(rows[0][1]) is str:
            self._zero_text = _zero_like(rows[0][1])
            self._zero = _exact(self._zero_text)
        return levels


def _zero_like(quantity: str) -> str:
    """'12.345' -> '0.000', '40' -> '0': zero written with the decimals this symbol's quantities have."""
    _, point, decimals = quantity.partition(".")
    return "0" + point + "0" * len(decimals)


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
        self._purge_at = PURGE_SLACK  # purge when bids and asks hold more levels than this

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

    def on_data(self, d: Any, parser: DepthParser) -> BookDelta | None:
        """Feed one decoded depthUpdate object: the same as on_diff(parser.parse_data(d)), Malformed included.

        What the connector calls. The parse is whole before anything is applied (a malformed diff
        changes nothing); a diff that applies in sync, nearly all of them, then makes no DepthUpdateMsg
        and no on_diff call; any other (buffered, stale, straddling the snapshot,
        a gap) goes to on_diff.
        """
        E, s, U, u, pu, b, a = parser.fields(d)
        last = self.update_id
        if u <= last or self._straddle or not self.synced or (pu != last if self.futures else U > last + 1):
            return self.on_diff(DepthUpdateMsg(E, s, U, u, pu, b, a))
        bids, asks = self.bids, self.asks  # in sync and following on: on_diff's apply
        bids |= b
        asks |= a
        self.update_id = u
        if len(bids) + len(asks) > self._purge_at:
            self._purge()
        return BookDelta(self.instrument_id, E * MS, b, a, u)

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
        bids, asks = self.bids, self.asks
        bids |= msg.b  # dict |= pairs: dict.update without its argument parsing (-0.15 us a diff)
        asks |= msg.a
        self.update_id = u
        if len(bids) + len(asks) > self._purge_at:
            self._purge()
        return BookDelta(self.instrument_id, msg.E * MS, msg.b, msg.a, u)

    def _purge(self) -> None:
        self.bids = {p: q for p, q in self.bids.items() if q}
        self.asks = {p: q for p, q in self.asks.items() if q}
        self._purge_at = 2 * (len(self.bids) + len(self.asks)) + PURGE_SLACK

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
        self._purge_at = 2 * (len(self.bids) + len(self.asks)) + PURGE_SLACK
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
