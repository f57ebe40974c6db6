"""The Kite Ticker binary protocol: parse_frame() turns one binary websocket message into packets.

Message: uint16 packet count, then per packet a uint16 length and the packet; all big-endian. A
1-byte message is a heartbeat (no packets). Packet lengths decide the mode: tradable 8 (ltp), 44
(quote), 184 (full, with 5-level depth); indices (segment 9) 8, 28, 32. Prices are integers divided
by 100, or 10,000,000 for CDS (segment 3) and 10,000 for BCD (segment 6). Any other length, or a
message whose lengths do not add up, raises TickerFrameError: a frame is never half-parsed.
Records use Kite's field names (instrument_token, last_price, ohlc, depth, ...).
"""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from typing import Any

SEGMENT_INDICES, SEGMENT_CDS, SEGMENT_BCD = 9, 3, 6
_HEADER = struct.Struct(">H")
_LTP = struct.Struct(">ii")
_QUOTE = struct.Struct(">11i")
_FULL = struct.Struct(">16i")
_DEPTH = struct.Struct(">iiH2x")
_INDEX_QUOTE = struct.Struct(">7i")
_INDEX_FULL = struct.Struct(">8i")
TRADABLE_SIZES = {8: "ltp", 44: "quote", 184: "full"}
INDEX_SIZES = {8: "ltp", 28: "quote", 32: "full"}


class TickerFrameError(ValueError):
    """A binary frame that does not follow the protocol (bad length, truncated, trailing bytes)."""


def divisor(token: int) -> float:
    segment = token & 0xFF
    return 10_000_000.0 if segment == SEGMENT_CDS else 10_000.0 if segment == SEGMENT_BCD else 100.0


def parse_frame(payload: bytes) -> list[dict[str, Any]]:
    """Parse one binary message into packet records (empty for a heartbeat)."""
    if len(payload) < 2:
        return []
    (count,) = _HEADER.unpack_from(payload, 0)
    offset, records = 2, []
    for _ in range(count):
        if offset + 2 > len(payload):
            raise TickerFrameError(f"frame truncated: packet header at byte {offset} of {len(payload)}")
        (length,) = _HEADER.unpack_from(payload, offset)
        offset += 2
        if offset + length > len(payload):
            raise TickerFrameError(f"frame truncated: packet of {length} bytes at byte {offset} of {len(payload)}")
        records.append(parse_packet(payload[offset:offset + length]))
        offset += length
    if offset != len(payload):
        raise TickerFrameError(f"{len(payload) - offset} trailing bytes after {count} packets")
    return records


def parse_packet(packet: bytes) -> dict[str, Any]:
    """Parse one packet (without its length prefix)."""
    size = len(packet)
    if size < 8:
        raise TickerFrameError(f"packet of {size} bytes is shorter than an ltp packet")
    token = int.from_bytes(packet[0:4], "big")
    div = divisor(token)
    if token & 0xFF == SEGMENT_INDICES:
        mode = INDEX_SIZES.get(size)
        if mode is None:
            raise TickerFrameError(f"index packet of {size} bytes (expected 8, 28 or 32)")
        return _index(packet, token, mode, div)
    mode = TRADABLE_SIZES.get(size)
    if mode is None:
        raise TickerFrameError(f"packet of {size} bytes (expected 8, 44 or 184)")
    if mode == "ltp":
        _, last = _LTP.unpack(packet)
        return {"tradable": True, "mode": mode, "instrument_token": token, "last_price": last / div}
    fields = _FULL.unpack_from(packet) if mode == "full" else _QUOTE.unpack(packet)
    _, last, qty, avg, volume, buy, sell, o, h, low, close = fields[:11]
    record: dict[str, Any] = {
        "tradable": True, "mode": mode, "instrument_token": token, "last_price": last / div, "last_traded_quantity": qty,
        "average_traded_price": avg / div, "volume_traded": volume, "total_buy_quantity": buy, "total_sell_quantity": sell,
        "ohlc": {"open": o / div, "high": h / div, "low": low / div, "close": close / div},
        "change": (last - close) * 100 / close if close else 0.0,
    }
    if mode == "full":
        ltt, oi, oi_high, oi_low, ts = fields[11:16]
        record.update(last_trade_time=_time(ltt), oi=oi, oi_day_high=oi_high, oi_day_low=oi_low, exchange_timestamp=_time(ts))
        levels = [_DEPTH.unpack_from(packet, 64 + 12 * i) for i in range(10)]
        record["depth"] = {
            "buy": [{"quantity": q, "price": p / div, "orders": n} for q, p, n in levels[:5]],
            "sell": [{"quantity": q, "price": p / div, "orders": n} for q, p, n in levels[5:]],
        }
    return record


def _index(packet: bytes, token: int, mode: str, div: float) -> dict[str, Any]:
    if mode == "ltp":
        _, last = _LTP.unpack(packet)
        return {"tradable": False, "mode": mode, "instrument_token": token, "last_price": last / div}
    fields = _INDEX_FULL.unpack(packet) if mode == "full" else _INDEX_QUOTE.unpack(packet)
    _, last, high, low, o, close, change = fields[:7]
    record: dict[str, Any] = {
        "tradable": False, "mode": mode, "instrument_token": token, "last_price": last / div,
        "ohlc": {"high": high / div, "low": low / div, "open": o / div, "close": close / div},
        "change": (last - close) * 100 / close if close else 0.0,
    }
    if mode == "full":
        record["exchange_timestamp"] = _time(fields[7])
    return record


def _time(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds > 0 else None
