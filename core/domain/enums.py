"""Domain enums. Values are stable ASCII strings (journal and wire safe); display labels live in widgets/."""
from __future__ import annotations

from enum import Enum


class Venue(str, Enum):
    """A trading venue reached through one connector."""

    BINANCE = "BINANCE"
    BINANCE_USDM = "BINANCE_USDM"
    ZERODHA = "ZERODHA"


class InstrumentKind(str, Enum):
    SPOT = "spot"
    EQUITY = "equity"
    FUTURE = "future"
    OPTION = "option"
    INDEX = "index"


class OptionRight(str, Enum):
    CALL = "CE"
    PUT = "PE"


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction a fill moves a position."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"  # Kite SL-M
    STOP_LIMIT = "STOP_LIMIT"  # Kite SL, Binance STOP_LOSS_LIMIT

    @property
    def has_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def has_trigger(self) -> bool:
        return self in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


class TimeInForce(str, Enum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only (Binance LIMIT_MAKER / futures GTX)


class Product(str, Enum):
    """What the position is held as: Kite CNC/MIS/NRML, Binance spot or futures."""

    CNC = "CNC"
    MIS = "MIS"
    NRML = "NRML"
    SPOT = "SPOT"
    FUTURES = "FUTURES"


class OrderStatus(str, Enum):
    PENDING_NEW = "PENDING_NEW"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_working(self) -> bool:
        """True while the order may still trade at the venue."""
        return not self.is_terminal


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class ConnectionStatus(str, Enum):
    DISCONNECTED = "DISCONNECTED"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    STALE = "STALE"  # connected but silent past the staleness threshold: never show as live
    RECONNECTING = "RECONNECTING"
    FAILED = "FAILED"  # gave up; needs the user
