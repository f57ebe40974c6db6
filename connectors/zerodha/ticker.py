"""The Kite Ticker binary protocol (kite.md C15): parse_frame() turns one binary message into records.

Message: uint16 packet count, then per packet a uint16 length and the packet, all big-endian. A message
shorter than two bytes is a heartbeat (no records). The length and the segment (low byte of the token)
decide the layout: tradable 8 (ltp), 44 (quote), 184 (full, 5-level depth); indices (segment 9) 8, 28,
32. Anything else - an unknown length, an index-sized packet of a tradable token, a count or length
that runs past the end, trailing bytes - raises MalformedFrame for the whole message: once one length
is wrong the offsets of the rest cannot be trusted, so nothing from it is used.

Records are lazy: parsing checks the framing and builds one KiteTick per packet (a 4-tuple of the
message, offset, length and token); fields decode on access. Prices divide by 100, by 10,000,000 for
CDS (segment 3) and 10,000 for BCD (segment 6) and NCO (segment 12, as the official SDKs do); raw()
gives the integers for exact conversion.
Signedness: the token, quantities, volumes, OI and timestamps are unsigned 32-bit, prices signed
(spreads and some commodities go negative), depth order counts unsigned 16-bit.
"""
from __future__ import annotations

import struct
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

IST = ZoneInfo("Asia/Kolkata")
SEGMENT_CDS, SEGMENT_BCD, SEGMENT_INDICES, SEGMENT_NCO = 3, 6, 9, 12
DIVISOR_EXPONENT = {SEGMENT_CDS: 7, SEGMENT_BCD: 4, SEGMENT_NCO: 4}  # every other segment: 2 (paise)
LTP, QUOTE, FULL = "ltp", "quote", "full"

LTP_PACKET = struct.Struct(">Ii")
QUOTE_PACKET = struct.Struct(">IiIiIIIiiii")
FULL_PACKET = struct.Struct(">IiIiIIIiiiiIIIII" + "IiH2x" * 10)
INDEX_QUOTE_PACKET = struct.Struct(">Iiiiiii")
INDEX_FULL_PACKET = struct.Struct(">IiiiiiiI")
# (length, is index) -> (mode, layout)
LAYOUTS: dict[tuple[int, bool], tuple[str, struct.Struct]] = {
    (8, False): (LTP, LTP_PACKET), (44, False): (QUOTE, QUOTE_PACKET), (184, False): (FULL, FULL_PACKET),
    (8, True): (LTP, LTP_PACKET), (28, True): (QUOTE, INDEX_QUOTE_PACKET), (32, True): (FULL, INDEX_FULL_PACKET),
}
_COUNT = struct.Struct(">H").unpack_from
_HEAD = struct.Struct(">HI").unpack_from  # a packet's length and the token that starts it
_I32 = struct.Struct(">i").unpack_from
_U32 = struct.Struct(">I").unpack_from
_BULK_MIN = 16  # packets in a message before the vectorised path pays off
_BULK_DTYPES: dict[int, np.dtype] = {}


class MalformedFrame(ValueError):
    """A binary message that does not follow the protocol; none of it may be used."""


def divisor_exponent(token: int) -> int:
    """Decimal places of the prices of a token's segment (2, or 7 for CDS, 4 for BCD)."""
    return DIVISOR_EXPONENT.get(token & 0xFF, 2)


class KiteTick(tuple):  # type: ignore[type-arg]
    """One packet of a message, decoded on access; attribute names are Kite's.

    Fields a packet's mode does not carry are None (volume_traded of an ltp packet, depth of a quote).
    """

    __slots__ = ()

    payload: bytes = property(itemgetter(0))  # type: ignore[assignment]
    offset: int = property(itemgetter(1))  # type: ignore[assignment]
    length: int = property(itemgetter(2))  # type: ignore[assignment]
    instrument_token: int = property(itemgetter(3))  # type: ignore[assignment]

    @property
    def segment(self) -> int:
        return self[3] & 0xFF

    @property
    def tradable(self) -> bool:
        return self[3] & 0xFF != SEGMENT_INDICES

    @property
    def mode(self) -> str:
        return LAYOUTS[(self[2], self[3] & 0xFF == SEGMENT_INDICES)][0]

    @property
    def divisor(self) -> int:
        return 10 ** divisor_exponent(self[3])

    def raw(self) -> tuple[int, ...]:
        """Every integer of the packet in wire order (depth as quantity, price, orders triples)."""
        return LAYOUTS[(self[2], self[3] & 0xFF == SEGMENT_INDICES)][1].unpack_from(self[0], self[1])

    def _price(self, at: int) -> float:
        return _I32(self[0], self[1] + at)[0] / self.divisor

    def _tradable_int(self, at: int, min_length: int = 44) -> int | None:
        if self[2] < min_length or not self.tradable:
            return None
        return int(_U32(self[0], self[1] + at)[0])

    @property
    def last_price(self) -> float:
        return self._price(4)

    @property
    def last_traded_quantity(self) -> int | None:
        return self._tradable_int(8)

    @property
    def average_traded_price(self) -> float | None:
        return self._price(12) if self[2] >= 44 and self.tradable else None

    @property
    def volume_traded(self) -> int | None:
        return self._tradable_int(16)

    @property
    def total_buy_quantity(self) -> int | None:
        return self._tradable_int(20)

    @property
    def total_sell_quantity(self) -> int | None:
        return self._tradable_int(24)

    @property
    def ohlc(self) -> dict[str, float] | None:
        if self[2] == 8:
            return None
        if self.tradable:
            return {"open": self._price(28), "high": self._price(32), "low": self._price(36), "close": self._price(40)}
        return {"high": self._price(8), "low": self._price(12), "open": self._price(16), "close": self._price(20)}

    @property
    def change(self) -> float | None:
        """Percent change of the last price against the previous close (0 when there is no close), as pykiteconnect."""
        if self[2] == 8:
            return None
        close = _I32(self[0], self[1] + (40 if self.tradable else 20))[0]
        last = _I32(self[0], self[1] + 4)[0]
        return (last - close) * 100 / close if close else 0.0

    @property
    def last_trade_time(self) -> datetime | None:
        return _time(self._tradable_int(44, 184))

    @property
    def oi(self) -> int | None:
        return self._tradable_int(48, 184)

    @property
    def oi_day_high(self) -> int | None:
        return self._tradable_int(52, 184)

    @property
    def oi_day_low(self) -> int | None:
        return self._tradable_int(56, 184)

    @property
    def exchange_timestamp(self) -> datetime | None:
        if self[2] == 184:
            return _time(_U32(self[0], self[1] + 60)[0])
        if self[2] == 32 and not self.tradable:
            return _time(_U32(self[0], self[1] + 28)[0])
        return None

    @property
    def depth(self) -> dict[str, list[dict[str, Any]]] | None:
        if self[2] != 184:
            return None
        values, div = self.raw()[16:], self.divisor
        levels = [{"quantity": values[i], "price": values[i + 1] / div, "orders": values[i + 2]} for i in range(0, 30, 3)]
        return {"buy": levels[:5], "sell": levels[5:]}

    def as_dict(self) -> dict[str, Any]:
        """The record as pykiteconnect's tick dict (the keys its mode carries; timestamps IST-aware)."""
        v, div, length, tradable = self.raw(), self.divisor, self[2], self.tradable
        out: dict[str, Any] = {"tradable": tradable, "mode": self.mode, "instrument_token": self[3], "last_price": v[1] / div}
        if length == 8:
            return out
        if tradable:
            close = v[10]
            out.update(last_traded_quantity=v[2], average_traded_price=v[3] / div, volume_traded=v[4], total_buy_quantity=v[5],
                       total_sell_quantity=v[6], ohlc={"open": v[7] / div, "high": v[8] / div, "low": v[9] / div, "close": close / div})
        else:
            close = v[5]
            out["ohlc"] = {"high": v[2] / div, "low": v[3] / div, "open": v[4] / div, "close": close / div}
        out["change"] = (v[1] - close) * 100 / close if close else 0.0
        if length == 184:
            levels = [{"quantity": v[i], "price": v[i + 1] / div, "orders": v[i + 2]} for i in range(16, 46, 3)]
            out.update(last_trade_time=_time(v[11]), oi=v[12], oi_day_high=v[13], oi_day_low=v[14],
                       exchange_timestamp=_time(v[15]), depth={"buy": levels[:5], "sell": levels[5:]})
        elif length == 32:
            out["exchange_timestamp"] = _time(v[7])
        return out

    def __repr__(self) -> str:
        return f"KiteTick(token={self[3]}, mode={self.mode}, last_price={self.last_price})"


def parse_frame(payload: bytes) -> list[KiteTick]:
    """Parse one binary message into its packets (empty for a heartbeat); MalformedFrame if it is not well formed."""
    size = len(payload)
    if size < 2:
        return []
    (count,) = _COUNT(payload, 0)
    if count >= _BULK_MIN:
        (first,) = _COUNT(payload, 2) if size >= 4 else (0,)
        if size == 2 + count * (2 + first):
            uniform = _parse_uniform(payload, count, first)
            if uniform is not None:
                return uniform
    records: list[KiteTick] = []
    append = records.append
    pos = 2
    for _ in range(count):
        if pos + 6 > size:
            raise MalformedFrame(f"message of {size} bytes ends inside the header of packet {len(records) + 1} of {count}")
        length, token = _HEAD(payload, pos)
        start = pos + 2
        pos = start + length
        if pos > size:
            raise MalformedFrame(f"packet {len(records) + 1} of {count} claims {length} bytes; only {size - start} remain")
        if (length, token & 0xFF == SEGMENT_INDICES) not in LAYOUTS:
            raise MalformedFrame(_bad_length(length, token))
        append(KiteTick((payload, start, length, token)))
    if pos != size:
        raise MalformedFrame(f"{size - pos} bytes left over after {count} packets")
    return records


def parse_packet(packet: bytes) -> KiteTick:
    """Parse one packet given without its length prefix (as kiteconnect-mocks stores them)."""
    if len(packet) < 8:
        raise MalformedFrame(f"a packet of {len(packet)} bytes is shorter than the smallest (8)")
    (token,) = _U32(packet, 0)
    if (len(packet), token & 0xFF == SEGMENT_INDICES) not in LAYOUTS:
        raise MalformedFrame(_bad_length(len(packet), token))
    return KiteTick((bytes(packet), 0, len(packet), token))


def _parse_uniform(payload: bytes, count: int, length: int) -> list[KiteTick] | None:
    """Every packet the same length: check all lengths and segments at once, then build the records.

    None when the lengths differ after all (they may still add up): the packet walk decides then.
    """
    dtype = _BULK_DTYPES.get(length)
    if dtype is None:
        dtype = _BULK_DTYPES[length] = np.dtype({"names": ["length", "token"], "formats": [">u2", ">u4"],
                                                 "offsets": [0, 2], "itemsize": 2 + length})
    heads = np.frombuffer(payload, dtype=dtype, count=count, offset=2)
    if not (heads["length"] == length).all():
        return None
    tokens = heads["token"]
    index = (tokens & 0xFF) == SEGMENT_INDICES
    for is_index in (False, True):
        if (length, is_index) not in LAYOUTS and (index == is_index).any():
            bad = int(np.flatnonzero(index == is_index)[0])
            raise MalformedFrame(_bad_length(length, int(tokens[bad])))
    return list(map(KiteTick, zip(repeat(payload), range(4, 4 + count * (2 + length), 2 + length), repeat(length),
                                  tokens.tolist())))


def _bad_length(length: int, token: int) -> str:
    if token & 0xFF == SEGMENT_INDICES:
        return f"index packet of {length} bytes for token {token} (an index packet is 8, 28 or 32 bytes)"
    return f"packet of {length} bytes for token {token} (a tradable packet is 8, 44 or 184 bytes)"


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, IST) if seconds else None
