"""Encoding of Kite Ticker binary messages (kite.md C15), written independently of our parser.

A packet is built from integers already scaled by the segment's divisor (paise for most segments).
Tradable layouts: ltp 8 bytes, quote 44, full 184 (with 5 bid and 5 offer levels of quantity, price,
orders and two bytes of padding). Index layouts (segment 9): ltp 8, quote 28, full 32, with the day's
high, low, open, close in that order and a price change. A message is a uint16 packet count, then per
packet a uint16 length and the packet. A heartbeat is a single byte.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

HEARTBEAT = b"\x00"
INDEX_SEGMENT = 9
_DIVISOR_EXPONENT = {3: 7, 6: 4, 12: 4}  # CDS, BCD, NCO; every other segment 2
Level = tuple[int, int, int]  # quantity, price (scaled), orders


@dataclass(frozen=True, slots=True)
class RawTick:
    """One instrument's ticker fields as wire integers (prices scaled, times in epoch seconds)."""

    instrument_token: int
    last_price: int
    last_traded_quantity: int = 0
    average_traded_price: int = 0
    volume_traded: int = 0
    total_buy_quantity: int = 0
    total_sell_quantity: int = 0
    open: int = 0
    high: int = 0
    low: int = 0
    close: int = 0
    last_trade_time: int = 0
    oi: int = 0
    oi_day_high: int = 0
    oi_day_low: int = 0
    exchange_timestamp: int = 0
    change: int = 0  # index packets only (bytes 24-27)
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.instrument_token & 0xFF == INDEX_SEGMENT


def scale(price: Decimal, token: int) -> int:
    """A price as the wire integer of the token's segment (exact: the price is on its tick)."""
    return int(price.scaleb(_DIVISOR_EXPONENT.get(token & 0xFF, 2)).to_integral_value())


def encode_packet(tick: RawTick, mode: str) -> bytes:
    """Pack one instrument in a mode ("ltp", "quote", "full")."""
    head = struct.pack(">Ii", tick.instrument_token, tick.last_price)
    if mode == "ltp":
        return head
    if tick.is_index:
        body = struct.pack(">iiiii", tick.high, tick.low, tick.open, tick.close, tick.change)
        return head + body + (struct.pack(">I", tick.exchange_timestamp) if mode == "full" else b"")
    quote = struct.pack(">IiIIIiiii", tick.last_traded_quantity, tick.average_traded_price, tick.volume_traded,
                        tick.total_buy_quantity, tick.total_sell_quantity, tick.open, tick.high, tick.low, tick.close)
    if mode == "quote":
        return head + quote
    extended = struct.pack(">IIIII", tick.last_trade_time, tick.oi, tick.oi_day_high, tick.oi_day_low, tick.exchange_timestamp)
    depth = b"".join(struct.pack(">IiH2x", *level) for level in _five(tick.bids) + _five(tick.asks))
    return head + quote + extended + depth


def encode_frame(packets: Iterable[bytes]) -> bytes:
    """Wrap packets into one binary message."""
    items = list(packets)
    return struct.pack(">H", len(items)) + b"".join(struct.pack(">H", len(p)) + p for p in items)


def _five(levels: tuple[Level, ...]) -> list[Level]:
    out = list(levels[:5])
    return out + [(0, 0, 0)] * (5 - len(out))
