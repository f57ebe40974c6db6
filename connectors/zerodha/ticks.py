"""Ticker records to core events: Tick always, a 5-level BookDelta snapshot and a TradePrint where asked.

Prices go from the wire integers to Decimal exactly (the divisor is a power of ten), never through a
float. Decimal objects for repeated integers are cached per exponent: prices repeat tick after tick.
"""
from __future__ import annotations

from decimal import Decimal

from core.domain import BookDelta, InstrumentId, PriceLevel, Tick, TradePrint

from .ticker import SEGMENT_INDICES, KiteTick, divisor_exponent

_CACHE_LIMIT = 200_000
_cache: dict[tuple[int, int], Decimal] = {}
_S = 1_000_000_000


def price(raw: int, exponent: int) -> Decimal:
    """The Decimal of a wire price (raw / 10**exponent), exact."""
    key = (raw, exponent)
    value = _cache.get(key)
    if value is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        value = _cache[key] = Decimal(raw).scaleb(-exponent)
    return value


def quantity(raw: int) -> Decimal:
    """The Decimal of a wire quantity (cached like prices)."""
    return price(raw, 0)


def to_tick(record: KiteTick, instrument_id: InstrumentId, received_ns: int) -> Tick:
    """Convert one record to a core Tick (bid/ask from the depth of full packets)."""
    values = record.raw()
    exp = divisor_exponent(record.instrument_token)
    last = price(values[1], exp)
    if len(values) == 2:
        return Tick(instrument_id, received_ns, last_price=last)
    if record.instrument_token & 0xFF == SEGMENT_INDICES:
        _, _, high, low, open_, close, _change, *rest = values
        ts = rest[0] * _S if rest and rest[0] else received_ns
        return Tick(instrument_id, ts, last_price=last, open=price(open_, exp), high=price(high, exp), low=price(low, exp),
                    close=price(close, exp))
    _, _, ltq, atp, volume, _buy, _sell, open_, high, low, close = values[:11]
    ts, oi, bid, bid_qty, ask, ask_qty = received_ns, None, None, None, None, None
    if len(values) > 11:
        ts = values[15] * _S if values[15] else received_ns
        oi = quantity(values[12])
        if values[16]:
            bid, bid_qty = price(values[17], exp), quantity(values[16])
        if values[31]:
            ask, ask_qty = price(values[32], exp), quantity(values[31])
    return Tick(instrument_id, ts, last_price=last, last_quantity=quantity(ltq), bid=bid, bid_quantity=bid_qty, ask=ask,
                ask_quantity=ask_qty, volume=quantity(volume), open=price(open_, exp), high=price(high, exp), low=price(low, exp),
                close=price(close, exp), open_interest=oi, average_price=price(atp, exp))


def to_book(record: KiteTick, instrument_id: InstrumentId, received_ns: int) -> BookDelta | None:
    """The 5-level depth of a full tradable packet as a BookDelta snapshot; None for other packets."""
    if record.length != 184:
        return None
    values = record.raw()
    exp = divisor_exponent(record.instrument_token)
    bids = _levels(values[16:31], exp)
    asks = _levels(values[31:46], exp)
    ts = values[15] * _S if values[15] else received_ns
    return BookDelta(instrument_id, ts, bids, asks, is_snapshot=True)


def to_trade(record: KiteTick, instrument_id: InstrumentId, previous_volume: int | None, received_ns: int) -> TradePrint | None:
    """A TradePrint when the day's volume grew since the previous record of this instrument."""
    volume = record.volume_traded
    if volume is None or previous_volume is None or volume <= previous_volume:
        return None
    values = record.raw()
    exp = divisor_exponent(record.instrument_token)
    ts = values[11] * _S if len(values) > 11 and values[11] else received_ns
    quantity = values[2] if values[2] else volume - previous_volume
    return TradePrint(instrument_id, ts, price(values[1], exp), Decimal(quantity))


def _levels(flat: tuple[int, ...], exp: int) -> tuple[PriceLevel, ...]:
    return tuple((price(flat[i + 1], exp), Decimal(flat[i])) for i in range(0, len(flat), 3) if flat[i])
