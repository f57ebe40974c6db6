"""Risk limits: one dataclass per venue (values in the venue's quote currency), grouped in a profile.

A profile is loaded from a dict or a TOML table: `default` sets every venue's limits, and a table named
after a venue overrides single fields for it. Numbers may be given as strings (exact) or numbers; a limit
set to "none" (or omitted where the default is None) is off. Example:

    [risk.default]
    max_order_value = "1000000"
    price_band_pct = "5"
    [risk.ZERODHA]
    require_market_protection = true
    market_protection_pct = "2"
    [risk.BINANCE]
    max_order_value = "50000"
    orders_per_second = 5
"""
from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from enum import Enum
from typing import Any

from core.domain import Venue, to_decimal


class FreezeMode(str, Enum):
    SPLIT = "SPLIT"  # split an F&O order above the freeze quantity into slices
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Pre-trade limits for one venue. None turns a limit off."""

    max_order_quantity: Decimal | None = None
    max_order_value: Decimal | None = None
    price_band_pct: Decimal | None = Decimal(5)  # a limit price at most this far from the last price
    max_position_quantity: Decimal | None = None  # per instrument, absolute, counting same-side working orders
    max_gross_exposure: Decimal | None = None
    max_open_orders: int | None = 200
    orders_per_second: int | None = 10  # per exchange (SEBI retail-algo threshold, Kite's cap)
    orders_per_minute: int | None = 200  # per venue (Kite)
    orders_per_day: int | None = 3000  # per venue, UTC day (Kite)
    daily_loss_limit: Decimal | None = None  # positive amount; at or beyond -limit day P&L new orders halt
    freeze_mode: FreezeMode = FreezeMode.SPLIT
    require_market_protection: bool = False  # Kite: MARKET and SL-M must carry market_protection
    market_protection_pct: Decimal | None = None  # default protection when the order has none (-1: automatic)
    max_feed_age_s: float = 5.0  # a market order needs a tick newer than this

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: "RiskLimits | None" = None) -> "RiskLimits":
        """Build limits from a dict, over base (or the defaults); unknown keys raise ValueError."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown risk limit(s): {', '.join(unknown)}")
        changes = {name: _convert(name, value) for name, value in data.items()}
        return replace(base or cls(), **changes)


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    **{name: _optional(to_decimal) for name in ("max_order_quantity", "max_order_value", "price_band_pct",
                                                 "max_position_quantity", "max_gross_exposure", "daily_loss_limit",
                                                 "market_protection_pct")},
    **{name: _optional(int) for name in ("max_open_orders", "orders_per_second", "orders_per_minute", "orders_per_day")},
    "freeze_mode": lambda value: FreezeMode(str(value).upper()),
    "require_market_protection": _boolean,
    "max_feed_age_s": float,
}


def _convert(name: str, value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "none":
        value = None
    try:
        return _CONVERTERS[name](value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"risk limit {name}: {exc}") from None


VENUE_RULES: dict[Venue, dict[str, Any]] = {
    # Kite (since April 2026): MARKET and SL-M orders must carry market_protection; none is set by default,
    # so such orders must pass one (or the profile sets market_protection_pct).
    Venue.ZERODHA: {"require_market_protection": True},
}


@dataclass(frozen=True, slots=True)
class RiskProfile:
    """Limits per venue; venues without their own limits use default."""

    default: RiskLimits = RiskLimits()
    venues: Mapping[Venue, RiskLimits] = field(default_factory=dict)

    def for_venue(self, venue: Venue) -> RiskLimits:
        return self.venues.get(venue, self.default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RiskProfile":
        """Build from {'default': {...}, 'ZERODHA': {...}, ...}.

        Each venue starts from default, then the venue's own rules (VENUE_RULES), then its table."""
        unknown = sorted(set(data) - {"default"} - {v.value for v in Venue})
        if unknown:
            raise ValueError(f"unknown risk table(s): {', '.join(unknown)} (use 'default' or a venue name)")
        default = RiskLimits.from_dict(data.get("default", {}))
        tables = {v: {**VENUE_RULES.get(v, {}), **data.get(v.value, {})} for v in Venue}
        return cls(default, {v: RiskLimits.from_dict(table, default) for v, table in tables.items() if table})

    @classmethod
    def from_toml(cls, text: str, table: str = "risk") -> "RiskProfile":
        """Build from the [risk] table of a TOML document (the whole document if table is empty)."""
        doc: Mapping[str, Any] = tomllib.loads(text)
        return cls.from_dict(doc.get(table, {}) if table else doc)


def default_profile() -> RiskProfile:
    """The shipped profile: the defaults plus VENUE_RULES."""
    return RiskProfile.from_dict({})
