"""Market data events, as connectors publish them on the bus. All frozen; ts_ns is UTC epoch nanoseconds."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .enums import Side
from .instrument import InstrumentId

PriceLevel = tuple[Decimal, Decimal]  # (price, quantity); quantity 0 removes the level in a delta


@dataclass(frozen=True, slots=True)
class Tick:
    """A quote/last-trade summary (Kite ticks, Binance bookTicker/24h ticker)."""

    instrument_id: InstrumentId
    ts_ns: int
    last_price: Decimal | None = None
    last_quantity: Decimal | None = None
    bid: Decimal | None = None
    bid_quantity: Decimal | None = None
    ask: Decimal | None = None
    ask_quantity: Decimal | None = None
    volume: Decimal | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None  # previous session close (Kite ohlc.close)
    open_interest: Decimal | None = None
    average_price: Decimal | None = None

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def change(self) -> Decimal | None:
        """Change of last price against the previous close."""
        if self.last_price is None or not self.close:
            return None
        return self.last_price - self.close


@dataclass(frozen=True, slots=True)
class TradePrint:
    """A public trade on the tape."""

    instrument_id: InstrumentId
    ts_ns: int
    price: Decimal
    quantity: Decimal
    aggressor: Side | None = None
    trade_id: str = ""


@dataclass(slots=True)
class BookDelta:
    """A change to an order book, already sequenced by the connector.

    is_snapshot=True replaces the whole book; otherwise levels with quantity 0 are removed and the
    rest replace the quantity at their price. update_id is the venue's last update id it covers.

    Treat it as immutable, as every other event: it is shared by all the bus's subscribers. It is the one
    event not declared frozen because it is made for every depth message (tens of thousands a second):
    a frozen dataclass's __init__ sets each field through object.__setattr__, 0.70 us against 0.17 us,
    about 5 % of a whole Binance diff's parse and apply (tests/bench/bench_binance_depth.py).
    """

    instrument_id: InstrumentId
    ts_ns: int
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    update_id: int = 0
    is_snapshot: bool = False


@dataclass(frozen=True, slots=True)
class BarEvent:
    """A candle from the venue or the local bar builder."""

    instrument_id: InstrumentId
    timeframe: str  # "1m", "1d" ...
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool
