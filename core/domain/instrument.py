"""Instruments and their identifiers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .enums import InstrumentKind, OptionRight, Product, Side, Venue
from .numbers import Rounding, is_multiple, round_price, round_quantity


@dataclass(frozen=True, slots=True, order=True)
class InstrumentId:
    """A venue plus the venue's own symbol (Binance symbol, Kite tradingsymbol)."""

    venue: Venue
    symbol: str

    def __str__(self) -> str:
        return f"{self.symbol}.{self.venue.value}"

    @classmethod
    def parse(cls, text: str) -> "InstrumentId":
        """Parse 'SYMBOL.VENUE' (the inverse of str())."""
        symbol, _, venue = text.rpartition(".")
        if not symbol:
            raise ValueError(f"expected SYMBOL.VENUE, got {text!r}")
        return cls(Venue(venue), symbol)


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static description of a tradable (or index) instrument.

    lot_size is the quantity step (Binance stepSize, Kite lot_size); multiplier converts
    price x quantity into account currency (1 for everything on these venues today).
    """

    id: InstrumentId
    kind: InstrumentKind
    exchange: str  # NSE, NFO, BSE, MCX, SPOT, USDM ...
    tick_size: Decimal
    lot_size: Decimal
    quote_currency: str = "INR"
    base_currency: str = ""
    min_quantity: Decimal = Decimal(0)
    max_quantity: Decimal | None = None
    min_notional: Decimal = Decimal(0)
    multiplier: Decimal = Decimal(1)
    expiry: datetime | None = None
    strike: Decimal | None = None
    right: OptionRight | None = None
    underlying: str | None = None
    venue_token: str = ""  # Kite instrument_token, or the Binance symbol
    name: str = ""
    freeze_quantity: Decimal | None = None  # NSE F&O freeze limit; orders above it are split or refused
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def symbol(self) -> str:
        return self.id.symbol

    @property
    def venue(self) -> Venue:
        return self.id.venue

    @property
    def price_decimals(self) -> int:
        """Decimal places to display prices with (from the tick size)."""
        return max(0, -self.tick_size.normalize().as_tuple().exponent)

    @property
    def quantity_decimals(self) -> int:
        return max(0, -self.lot_size.normalize().as_tuple().exponent)

    @property
    def default_product(self) -> Product:
        """The product an order gets unless the user picks one: delivery for cash, carry-forward for F&O."""
        if self.venue is Venue.BINANCE:
            return Product.SPOT
        if self.venue is Venue.BINANCE_USDM:
            return Product.FUTURES
        return Product.NRML if self.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION) else Product.CNC

    @property
    def tradable(self) -> bool:
        return self.kind is not InstrumentKind.INDEX

    def round_price(self, price: Decimal, rounding: Rounding) -> Decimal:
        """Round a price to this instrument's tick in the given direction."""
        return round_price(price, self.tick_size, rounding)

    def round_limit_price(self, price: Decimal, side: Side) -> Decimal:
        """Round a limit price passively (buys down, sells up)."""
        return self.round_price(price, Rounding.passive(side))

    def minimum_order_quantity(self, price: Decimal | None) -> Decimal:
        """The smallest quantity that passes min quantity, lot and min notional (with 10 % headroom) at price."""
        qty = max(self.min_quantity, self.lot_size)
        if self.min_notional > 0 and price:
            needed = self.min_notional * Decimal("1.1") / (price * self.multiplier)
            steps = (needed / self.lot_size).to_integral_value(rounding="ROUND_CEILING")
            qty = max(qty, steps * self.lot_size)
        return qty

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Round a quantity down to a whole number of lots."""
        return round_quantity(quantity, self.lot_size)

    def is_on_tick(self, price: Decimal) -> bool:
        return is_multiple(price, self.tick_size)

    def is_whole_lots(self, quantity: Decimal) -> bool:
        return is_multiple(quantity, self.lot_size)
