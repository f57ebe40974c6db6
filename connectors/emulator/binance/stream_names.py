"""Market stream names as Binance spells them (binance.md A10, B1), parsed into what to send."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .market_api import INTERVALS

_NAME = re.compile(r"^(?P<symbol>[a-z0-9]+)@(?P<kind>trade|aggTrade|bookTicker|kline_(?P<interval>\w+)|"
                   r"depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|250ms|500ms|1000ms))?)$")

PUBLIC = "public"  # futures routing: high-frequency book streams
MARKET = "market"  # futures routing: trades, klines, tickers


@dataclass(frozen=True, slots=True)
class StreamName:
    name: str
    symbol: str  # upper case, as the exchange knows it
    kind: str  # trade | aggTrade | bookTicker | kline | depth | partial
    interval: str = ""  # kline interval
    levels: int = 0  # partial depth levels
    speed_ms: int = 0  # depth push interval

    @property
    def route(self) -> str:
        return PUBLIC if self.kind in ("depth", "partial", "bookTicker") else MARKET


def parse(name: str, futures: bool) -> StreamName | None:
    """Parse a stream name; None if this product has no such stream."""
    m = _NAME.match(name)
    if m is None:
        return None
    symbol, kind = m["symbol"].upper(), m["kind"]
    if kind.startswith("kline_"):
        return StreamName(name, symbol, "kline", interval=m["interval"]) if m["interval"] in INTERVALS else None
    if kind.startswith("depth"):
        speed = m["speed"]
        default = 250 if futures else 1000
        speed_ms = int(speed[:-2]) if speed else default
        allowed = {100, 250, 500} if futures else {100, 1000}
        if speed_ms not in allowed:
            return None
        if m["levels"]:
            return StreamName(name, symbol, "partial", levels=int(m["levels"]), speed_ms=speed_ms)
        return StreamName(name, symbol, "depth", speed_ms=speed_ms)
    if kind == "trade" and futures:
        return None
    return StreamName(name, symbol, kind)
