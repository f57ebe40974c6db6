"""The `<symbol>@miniTicker` stream (binance.md A10, B1): the rolling 24 h figures of one symbol, pushed
once a second, on the futures /market route.

Payload: e "24hrMiniTicker", E (event ms), s, c (last), o (open), h, l, v (base volume), q (quote volume);
numbers as Binance strings, the same 24 h figures GET ticker/24hr answers (quote volume = volume x
weighted average price, as there).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .state import ServerState
from .stream_names import StreamName

KIND = "miniTicker"
PUSH_S = 1.0

_NAME = re.compile(r"^(?P<symbol>[a-z0-9]+)@miniTicker$")


def parse_name(name: str) -> StreamName | None:
    """Parse `<symbol>@miniTicker` (served on /market for USD-M); None for any other name."""
    m = _NAME.match(name)
    return StreamName(name, m["symbol"].upper(), KIND) if m else None


def payload(state: ServerState, symbol: str, num: Callable[[Decimal | None], str]) -> dict[str, Any]:
    """Build one 24hrMiniTicker event for `symbol`; `num` renders a decimal the way the product does."""
    s = state.exchange.summary(state.market, symbol)
    return {"e": "24hrMiniTicker", "E": state.server_ms(), "s": symbol, "c": num(s.last_price), "o": num(s.open),
            "h": num(s.high), "l": num(s.low), "v": num(s.volume), "q": num(s.volume * s.average_price)}
