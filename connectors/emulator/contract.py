"""The contract between the emulated exchange (exchange.py) and its protocol servers.

The Binance and Kite servers translate their wire protocols to and from these calls and events; they
never touch the matching engine directly. All prices and quantities are Decimal. Symbols are the
venue's own: Binance "BTCUSDT" (spot) and "BTCUSDT" on the USD-M market; Kite "NSE:INFY",
"NFO:NIFTY25DEC25000CE" keyed by exchange + tradingsymbol.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from core.domain import Instrument, OrderStatus, OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class Market:
    """One order book of the emulator. market is "spot", "usdm" (Binance) or the Kite exchange."""

    market: str
    symbol: str
    instrument: Instrument


@dataclass(frozen=True, slots=True)
class NewOrder:
    account: str
    market: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    client_order_id: str
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    quote_quantity: Decimal | None = None
    tag: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderState:
    """The emulator's view of one order after any change (published on every change)."""

    account: str
    market: str
    symbol: str
    order_id: int
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    price: Decimal | None
    trigger_price: Decimal | None
    quantity: Decimal
    filled_quantity: Decimal
    cumulative_quote: Decimal
    average_price: Decimal | None
    created_ns: int
    updated_ns: int
    reject_reason: str = ""
    tag: str = ""
    last_fill_quantity: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    last_trade_id: int = 0
    last_fee: Decimal = Decimal(0)
    fee_asset: str = ""
    is_maker: bool = False
    event_seq: int = 0


@dataclass(frozen=True, slots=True)
class PublicTrade:
    market: str
    symbol: str
    trade_id: int
    price: Decimal
    quantity: Decimal
    buyer_is_maker: bool
    ts_ns: int


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    """Changed levels of one book between two update ids (quantity 0 = level removed).

    first_update_id/last_update_id follow Binance's U/u; prev_update_id is futures' pu (the last
    update id of the previous DepthUpdate of this book).
    """

    market: str
    symbol: str
    first_update_id: int
    last_update_id: int
    prev_update_id: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    market: str
    symbol: str
    last_update_id: int
    bids: tuple[tuple[Decimal, Decimal], ...]  # best first
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Candle:
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0
    open_interest: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarketSummary:
    """Quote data for Kite quote/ohlc/ltp and Binance 24h ticker / bookTicker."""

    market: str
    symbol: str
    last_price: Decimal
    last_quantity: Decimal
    last_trade_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    prev_close: Decimal
    volume: Decimal
    average_price: Decimal
    bid: Decimal | None
    bid_quantity: Decimal
    ask: Decimal | None
    ask_quantity: Decimal
    total_buy_quantity: Decimal
    total_sell_quantity: Decimal
    open_interest: Decimal
    oi_day_high: Decimal
    oi_day_low: Decimal


@dataclass(frozen=True, slots=True)
class AccountBalance:
    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class AccountPosition:
    market: str
    symbol: str
    product: str  # "SPOT", "USDM", or Kite CNC/MIS/NRML
    quantity: Decimal  # signed
    average_price: Decimal
    realised_pnl: Decimal
    buy_quantity: Decimal
    buy_value: Decimal
    sell_quantity: Decimal
    sell_value: Decimal
    day_buy_quantity: Decimal = Decimal(0)
    day_sell_quantity: Decimal = Decimal(0)


class ExchangeListener(Protocol):
    """Callbacks a protocol server registers; called on the emulator's loop, in event order."""

    def on_depth(self, update: DepthUpdate) -> None: ...
    def on_trade(self, trade: PublicTrade) -> None: ...
    def on_order(self, state: OrderState) -> None: ...


class ExchangeApi(Protocol):
    """What a protocol server may call. Order calls never raise for business reasons: a refusal
    comes back as an OrderState with status REJECTED and reject_reason set; unknown ids raise KeyError."""

    def markets(self) -> list[Market]: ...
    def market(self, market: str, symbol: str) -> Market: ...  # KeyError if unknown
    def add_listener(self, listener: ExchangeListener) -> Callable[[], None]: ...  # returns remover
    def now_ns(self) -> int: ...
    def place(self, order: NewOrder) -> OrderState: ...
    def cancel(self, account: str, market: str, symbol: str, order_id: int) -> OrderState: ...
    def amend(self, account: str, market: str, symbol: str, order_id: int, price: Decimal | None,
              quantity: Decimal | None, trigger_price: Decimal | None) -> OrderState: ...
    def order(self, account: str, market: str, symbol: str, order_id: int | None = None,
              client_order_id: str | None = None) -> OrderState: ...  # KeyError if unknown
    def orders(self, account: str, market: str | None = None, symbol: str | None = None,
               open_only: bool = False) -> list[OrderState]: ...
    def order_history(self, account: str, order_id: int) -> list[OrderState]: ...  # every state, oldest first
    def fills(self, account: str, market: str | None = None, symbol: str | None = None) -> list[OrderState]: ...
    def depth(self, market: str, symbol: str, limit: int = 100) -> DepthSnapshot: ...
    def summary(self, market: str, symbol: str) -> MarketSummary: ...
    def summary_with_depth(self, market: str, symbol: str, limit: int = 5) -> tuple[MarketSummary, DepthSnapshot]: ...
    def changes(self, market: str, symbol: str) -> int: ...  # moves whenever summary or depth may have changed
    def recent_trades(self, market: str, symbol: str, limit: int = 500) -> list[PublicTrade]: ...
    def candles(self, market: str, symbol: str, interval_s: int, start_ns: int, end_ns: int,
                origin_ns: int = 0) -> list[Candle]: ...  # buckets start at origin_ns + k * interval
    def balances(self, account: str) -> list[AccountBalance]: ...
    def positions(self, account: str) -> list[AccountPosition]: ...
    def set_leverage(self, account: str, market: str, symbol: str, leverage: int) -> None: ...
