"""Market-data wire structs: Binance's stream payloads with Binance's field names, and parse_to_* methods.

Each struct's `parse(d)` takes the decoded `data` object of a stream frame and raises Malformed when a
field is missing or of the wrong type; the stream layer logs and skips such frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import BarEvent, InstrumentId, Side, Tick, TradePrint

MS = 1_000_000  # nanoseconds per millisecond


class Malformed(ValueError):
    """A frame that is not what its stream promises."""


def dec(value: Any) -> Decimal:
    """Decimal from a Binance decimal string; Malformed if it is not one."""
    if not isinstance(value, str):
        raise Malformed(f"expected a decimal string, got {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise Malformed(f"not a decimal: {value!r}") from None
    if not result.is_finite():
        raise Malformed(f"not a finite decimal: {value!r}")
    return result


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"expected an integer, got {value!r}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise Malformed(f"expected a string, got {value!r}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Malformed(f"expected a boolean, got {value!r}")
    return value


def field(d: Any, name: str) -> Any:
    if not isinstance(d, dict):
        raise Malformed(f"expected an object, got {type(d).__name__}")
    try:
        return d[name]
    except KeyError:
        raise Malformed(f"missing field {name!r}") from None


@dataclass(frozen=True, slots=True)
class TradeMsg:
    """`<symbol>@trade`: one trade."""

    E: int
    s: str
    t: int
    p: Decimal
    q: Decimal
    T: int
    m: bool

    @classmethod
    def parse(cls, d: Any) -> "TradeMsg":
        return cls(integer(field(d, "E")), text(field(d, "s")), integer(field(d, "t")), dec(field(d, "p")),
                   dec(field(d, "q")), integer(field(d, "T")), boolean(field(d, "m")))

    def parse_to_trade(self, instrument_id: InstrumentId) -> TradePrint:
        # m: the buyer was the maker, so the aggressor sold
        return TradePrint(instrument_id, self.T * MS, self.p, self.q, Side.SELL if self.m else Side.BUY, str(self.t))


@dataclass(frozen=True, slots=True)
class AggTradeMsg:
    """`<symbol>@aggTrade`: trades of one taker order at one price, aggregated."""

    E: int
    s: str
    a: int
    p: Decimal
    q: Decimal
    f: int
    l: int  # noqa: E741 - Binance's name
    T: int
    m: bool

    @classmethod
    def parse(cls, d: Any) -> "AggTradeMsg":
        return cls(integer(field(d, "E")), text(field(d, "s")), integer(field(d, "a")), dec(field(d, "p")),
                   dec(field(d, "q")), integer(field(d, "f")), integer(field(d, "l")), integer(field(d, "T")),
                   boolean(field(d, "m")))

    def parse_to_trade(self, instrument_id: InstrumentId) -> TradePrint:
        return TradePrint(instrument_id, self.T * MS, self.p, self.q, Side.SELL if self.m else Side.BUY, str(self.a))


@dataclass(frozen=True, slots=True)
class KlineMsg:
    """`<symbol>@kline_<interval>`: the current candle (x = closed)."""

    E: int
    s: str
    t: int
    T: int
    i: str
    o: Decimal
    c: Decimal
    h: Decimal
    l: Decimal  # noqa: E741
    v: Decimal
    n: int
    x: bool

    @classmethod
    def parse(cls, d: Any) -> "KlineMsg":
        k = field(d, "k")
        return cls(integer(field(d, "E")), text(field(d, "s")), integer(field(k, "t")), integer(field(k, "T")),
                   text(field(k, "i")), dec(field(k, "o")), dec(field(k, "c")), dec(field(k, "h")), dec(field(k, "l")),
                   dec(field(k, "v")), integer(field(k, "n")), boolean(field(k, "x")))

    def parse_to_bar(self, instrument_id: InstrumentId) -> BarEvent:
        return BarEvent(instrument_id, self.i, self.t * MS, self.o, self.h, self.l, self.c, self.v, self.x)


@dataclass(frozen=True, slots=True)
class BookTickerMsg:
    """`<symbol>@bookTicker`: best bid and ask (futures adds E and T)."""

    u: int
    s: str
    b: Decimal
    B: Decimal
    a: Decimal
    A: Decimal
    E: int = 0

    @classmethod
    def parse(cls, d: Any) -> "BookTickerMsg":
        event_time = d.get("E", 0) if isinstance(d, dict) else 0
        return cls(integer(field(d, "u")), text(field(d, "s")), dec(field(d, "b")), dec(field(d, "B")),
                   dec(field(d, "a")), dec(field(d, "A")), integer(event_time))

    def parse_to_tick(self, instrument_id: InstrumentId, now_ns: int) -> Tick:
        """A Tick with the touch; an empty side (price 0) has no bid/ask rather than a zero price."""
        ts = self.E * MS if self.E else now_ns
        return Tick(instrument_id, ts, bid=self.b or None, bid_quantity=self.B if self.b else None,
                    ask=self.a or None, ask_quantity=self.A if self.a else None)


@dataclass(frozen=True, slots=True)
class MiniTickerMsg:
    """`<symbol>@miniTicker`: rolling 24 h last (c), open, high, low, base volume (v) and quote volume (q)."""

    E: int
    s: str
    c: Decimal
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - Binance's name
    v: Decimal
    q: Decimal

    @classmethod
    def parse(cls, d: Any) -> "MiniTickerMsg":
        event = text(field(d, "e"))
        if event != "24hrMiniTicker":
            raise Malformed(f"expected a 24hrMiniTicker event, got {event!r}")
        return cls(integer(field(d, "E")), text(field(d, "s")), dec(field(d, "c")), dec(field(d, "o")), dec(field(d, "h")),
                   dec(field(d, "l")), dec(field(d, "v")), dec(field(d, "q")))

    def parse_to_tick(self, instrument_id: InstrumentId) -> Tick:
        """A Tick with the 24 h figures only: bid/ask stay None so a merge keeps the bookTicker's touch."""
        return Tick(instrument_id, self.E * MS, last_price=self.c, volume=self.v, open=self.o, high=self.h, low=self.l)


@dataclass(frozen=True, slots=True)
class KlineRow:
    """One row of GET klines: [openTime, open, high, low, close, volume, closeTime, ...]."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int

    @classmethod
    def parse(cls, row: Any) -> "KlineRow":
        if not isinstance(row, list) or len(row) < 7:
            raise Malformed(f"kline row {row!r}")
        return cls(integer(row[0]), dec(row[1]), dec(row[2]), dec(row[3]), dec(row[4]), dec(row[5]), integer(row[6]))

    def parse_to_bar(self, instrument_id: InstrumentId, timeframe: str, now_ms: int) -> BarEvent:
        return BarEvent(instrument_id, timeframe, self.open_time * MS, self.open, self.high, self.low, self.close,
                        self.volume, closed=self.close_time < now_ms)
