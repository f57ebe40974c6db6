"""Exact money arithmetic: rounding prices to the tick and quantities to the lot, explicitly.

A price is rounded once, in a stated direction, before it leaves the terminal. Buy limits round
down and sell limits round up (never pay more than the user typed) unless the caller says otherwise.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum

from .enums import Side


class Rounding(str, Enum):
    DOWN = "DOWN"  # toward -infinity
    UP = "UP"  # toward +infinity
    NEAREST = "NEAREST"  # half to even

    @classmethod
    def passive(cls, side: Side) -> "Rounding":
        """Round a limit price away from crossing: buys down, sells up."""
        return cls.DOWN if side is Side.BUY else cls.UP


_MODES = {Rounding.DOWN: ROUND_FLOOR, Rounding.UP: ROUND_CEILING, Rounding.NEAREST: ROUND_HALF_EVEN}


def to_decimal(value: Decimal | str | int | float) -> Decimal:
    """Convert a value to Decimal without binary-float artefacts (floats go through repr)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        try:
            result = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round_to_increment(value: Decimal, increment: Decimal, rounding: Rounding) -> Decimal:
    """Round value to a whole multiple of increment in the given direction, keeping its exponent."""
    if increment <= 0:
        raise ValueError(f"increment must be positive, got {increment}")
    steps = (value / increment).to_integral_value(rounding=_MODES[rounding])
    return (steps * increment).quantize(increment) if increment.as_tuple().exponent < 0 else steps * increment


def round_price(price: Decimal, tick: Decimal, rounding: Rounding) -> Decimal:
    """Round a price to the instrument's tick size."""
    return round_to_increment(price, tick, rounding)


def round_quantity(quantity: Decimal, lot: Decimal) -> Decimal:
    """Round a quantity down to a whole number of lots (never trade more than asked)."""
    return round_to_increment(quantity, lot, Rounding.DOWN)


def is_multiple(value: Decimal, increment: Decimal) -> bool:
    """True if value is an exact multiple of increment."""
    return increment > 0 and value % increment == 0
