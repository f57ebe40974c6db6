"""Encodes Kite Ticker packets and messages (the inverse of connectors.zerodha.ticker.parse_frame)."""
from __future__ import annotations

import struct
from collections.abc import Sequence
from decimal import Decimal

from ..contract import MarketSummary

_FULL = struct.Struct(">16i")
_DEPTH = struct.Struct(">iiH2x")
_INDEX_FULL = struct.Struct(">8i")


def _p(value: Decimal | float | None, div: int = 100) -> int:
    return 0 if value is None else int(round(float(value) * div))


def message(packets: Sequence[bytes]) -> bytes:
    """Wrap packets as one binary message: count, then (length, packet) pairs."""
    out = [struct.pack(">H", len(packets))]
    for packet in packets:
        out.append(struct.pack(">H", len(packet)))
        out.append(packet)
    return b"".join(out)


def tradable_packet(token: int, s: MarketSummary, mode: str, depth: tuple[Sequence[tuple[Decimal, Decimal]], Sequence[tuple[Decimal, Decimal]]],
                    ts_s: int) -> bytes:
    """An ltp (8), quote (44) or full (184) packet of a tradable instrument."""
    full = _FULL.pack(token, _p(s.last_price), int(s.last_quantity), _p(s.average_price), int(s.volume), int(s.total_buy_quantity),
                      int(s.total_sell_quantity), _p(s.open), _p(s.high), _p(s.low), _p(s.prev_close), s.last_trade_ns // 10**9,
                      int(s.open_interest), int(s.oi_day_high), int(s.oi_day_low), ts_s)
    if mode == "ltp":
        return full[:8]
    if mode == "quote":
        return full[:44]
    levels = b"".join(_level(depth[0], i) for i in range(5)) + b"".join(_level(depth[1], i) for i in range(5))
    return full + levels


def _level(side: Sequence[tuple[Decimal, Decimal]], i: int) -> bytes:
    if i < len(side):
        price, qty = side[i]
        return _DEPTH.pack(int(qty), _p(price), 1 + int(qty) % 7)
    return _DEPTH.pack(0, 0, 0)


def index_packet(token: int, s: MarketSummary, mode: str, ts_s: int) -> bytes:
    """An index packet: ltp (8), quote (28) or full (32); OHLC order is high, low, open, close."""
    change = _p(s.last_price) - _p(s.prev_close)
    full = _INDEX_FULL.pack(token, _p(s.last_price), _p(s.high), _p(s.low), _p(s.open), _p(s.prev_close), change, ts_s)
    return full[:{"ltp": 8, "quote": 28, "full": 32}[mode]]
