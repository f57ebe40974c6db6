"""The Strategy API: one script runs unchanged live, on paper against the emulator, and in the backtester.

A strategy subclasses Strategy, declares parameters as class attributes of type Param, and overrides
the callbacks it needs. It trades only through `self.ctx` (a StrategyContext), which every runner
provides: the live runner's context goes through the terminal's trading API and risk checks, the
backtester's through the matching engine. Orders are tagged with the strategy id (their source is
"strategy:<id>"), which is how the terminal attributes fills and P&L to a strategy. buy/sell make a
market order, a limit (price=), a stop-market (trigger_price=) or a stop-limit (both).

    class EmaCross(Strategy):
        fast = Param(12, "fast EMA length")
        slow = Param(26, "slow EMA length")
        def on_bar(self, bar): ...
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from core.domain import BarEvent, BookDelta, Fill, Instrument, InstrumentId, Order, OrderType, Position, Side, Tick, TimeInForce

T = TypeVar("T", int, float, str, bool, Decimal)


class StrategyState(str, Enum):
    LOADED = "LOADED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Param(Generic[T]):
    """A typed parameter with a default; the UI edits it, the runner validates and injects it."""

    default: T
    help: str = ""
    minimum: T | None = None
    maximum: T | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    def coerce(self, value: Any) -> T:
        """Convert a value (e.g. text from the UI) to this parameter's type, checking bounds."""
        kind = self.kind
        if kind is bool and isinstance(value, str):
            converted: Any = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            try:
                converted = kind(value)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"{value!r} is not a {kind.__name__}") from exc
        if self.minimum is not None and converted < self.minimum:
            raise ValueError(f"{converted} is below the minimum {self.minimum}")
        if self.maximum is not None and converted > self.maximum:
            raise ValueError(f"{converted} is above the maximum {self.maximum}")
        return converted  # type: ignore[no-any-return]


class StrategyContext(Protocol):
    """What a strategy may do. Order methods return the order at once; it updates as the venue answers."""

    strategy_id: str
    log: logging.Logger

    def now_ns(self) -> int: ...
    def buy(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
            order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
            trigger_price: Decimal | None = None) -> Any:
        """Buy: market, limit (a price), stop-market (a trigger_price) or stop-limit (both); see order_type_for."""
        ...
    def sell(self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None = None,
             order_type: OrderType | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
             trigger_price: Decimal | None = None) -> Any:
        """Sell, as buy does (a sell stop triggers when the market trades at or below trigger_price)."""
        ...
    def cancel(self, client_order_id: str) -> Any: ...
    def cancel_all(self, instrument_id: InstrumentId | None = None) -> Any: ...
    def position(self, instrument_id: InstrumentId) -> Position | None: ...
    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]: ...
    def last_price(self, instrument_id: InstrumentId) -> Decimal | None: ...
    def set_timer(self, seconds: float) -> None: ...
    def record(self, name: str, value: float) -> None: ...
    def derivatives(self, underlying: str) -> list[Instrument]:
        """Futures and options on an underlying named in the strategy's `underlyings`."""
        ...
    def subscribe(self, instrument_ids: list[InstrumentId]) -> None:
        """Receive ticks and bars of more instruments from now on."""
        ...


@dataclass
class StrategyMetrics:
    """Per-strategy counters the manager panel shows."""

    orders: int = 0
    fills: int = 0
    errors: int = 0
    values: dict[str, float] = field(default_factory=dict)


class Strategy:
    """Base class of user strategies. Subscriptions: `instruments` and `timeframes` class attributes."""

    instruments: tuple[str, ...] = ()  # "SYMBOL.VENUE" strings, e.g. "BTCUSDT.BINANCE"
    underlyings: tuple[str, ...] = ()  # e.g. ("NIFTY",): their futures/options are available via ctx.derivatives
    timeframes: tuple[str, ...] = ("1m",)
    book_depth: int = 0  # > 0 to receive on_book

    def __init__(self, ctx: StrategyContext, **params: Any) -> None:
        self.ctx = ctx
        self.log = ctx.log
        for name, param in self.params().items():
            value = param.coerce(params.pop(name)) if name in params else param.default
            setattr(self, name, value)
        if params:
            raise ValueError(f"unknown parameters: {', '.join(sorted(params))}")

    @classmethod
    def params(cls) -> dict[str, Param[Any]]:
        """The declared parameters, by name, in declaration order (base classes first)."""
        out: dict[str, Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            out.update({k: v for k, v in vars(klass).items() if isinstance(v, Param)})
        return out

    @classmethod
    def instrument_ids(cls) -> list[InstrumentId]:
        return [InstrumentId.parse(s) for s in cls.instruments]

    # callbacks (override what you need) ------------------------------------------------------------
    def on_start(self) -> None: ...
    def on_tick(self, tick: Tick) -> None: ...
    def on_bar(self, bar: BarEvent) -> None: ...
    def on_book(self, book: BookDelta) -> None: ...
    def on_order(self, order: Order) -> None: ...
    def on_fill(self, fill: Fill) -> None: ...
    def on_timer(self) -> None: ...
    def on_stop(self) -> None: ...


def order_type_for(price: Decimal | None, trigger_price: Decimal | None) -> OrderType:
    """The order type a strategy means when it names none: a trigger makes a stop (a stop-limit with a
    price, else a stop-market), a price alone a limit, neither a market order."""
    if trigger_price is not None:
        return OrderType.STOP_LIMIT if price is not None else OrderType.STOP_MARKET
    return OrderType.LIMIT if price is not None else OrderType.MARKET


def side_of(quantity: Decimal) -> Side:
    """BUY for a positive signed quantity, SELL for a negative one."""
    return Side.BUY if quantity > 0 else Side.SELL
