"""Multi-leg option strategies: payoff at expiry (exact, piecewise linear) and today (T+0, Black-76).

Breakevens at expiry are found exactly: the payoff is linear between strikes, so each sign change
between consecutive kinks is solved by interpolation; beyond the outer strikes the slope tells
whether profit or loss is unlimited. Premiums are per unit; quantities are in units (lots x lot size).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

import numpy as np

from core import options
from core.domain import OptionRight, Side

UNLIMITED = float("inf")


@dataclass(frozen=True)
class Leg:
    strike: float
    right: OptionRight
    side: Side
    quantity: float  # units
    premium: float  # per unit, paid (buy) or received (sell)
    iv: float = 0.2
    instrument_symbol: str = ""

    @property
    def sign(self) -> int:
        return self.side.sign

    def value_at_expiry(self, price: np.ndarray) -> np.ndarray:
        intrinsic = np.maximum(price - self.strike, 0) if self.right is OptionRight.CALL else np.maximum(self.strike - price, 0)
        return self.sign * self.quantity * (intrinsic - self.premium)


@dataclass(frozen=True)
class PayoffSummary:
    breakevens: tuple[float, ...]
    max_profit: float  # inf if unlimited
    max_loss: float  # positive number; inf if unlimited
    net_premium: float  # + received, - paid


def payoff_at_expiry(legs: list[Leg], prices: np.ndarray) -> np.ndarray:
    """Total P&L at expiry for each underlying price."""
    return np.sum([leg.value_at_expiry(prices) for leg in legs], axis=0) if legs else np.zeros_like(prices)


def payoff_today(legs: list[Leg], prices: np.ndarray, t_years: float, rate: float = 0.0) -> np.ndarray:
    """Mark-to-model P&L now (T+0) for each underlying price, Black-76 at each leg's IV."""
    total = np.zeros_like(prices, dtype=float)
    for leg in legs:
        value = options.price("black76", leg.right is OptionRight.CALL, prices, leg.strike, max(t_years, 1e-9), leg.iv, rate=rate)
        total += leg.sign * leg.quantity * (np.asarray(value) - leg.premium)
    return total


def summarise(legs: list[Leg]) -> PayoffSummary:
    """Breakevens, max profit and max loss at expiry (exact), and the net premium."""
    if not legs:
        return PayoffSummary((), 0.0, 0.0, 0.0)
    kinks = np.array(sorted({leg.strike for leg in legs}), dtype=float)
    lo, hi = 0.0, kinks[-1] * 2 + 1
    points = np.concatenate(([lo], kinks, [hi]))
    values = payoff_at_expiry(legs, points)
    slope_up = sum(leg.sign * leg.quantity for leg in legs if leg.right is OptionRight.CALL)
    breakevens: list[float] = []
    for (x0, y0), (x1, y1) in zip(zip(points, values), zip(points[1:], values[1:])):
        if y1 == 0 and x1 != points[-1]:
            breakevens.append(float(x1))
        elif y0 * y1 < 0:
            breakevens.append(float(x0 + (x1 - x0) * (-y0) / (y1 - y0)))
    if slope_up > 0 and values[-1] < 0:
        breakevens.append(float(points[-1] + (-values[-1]) / slope_up))
    max_profit = UNLIMITED if slope_up > 0 else float(values.max())
    max_loss = UNLIMITED if slope_up < 0 else float(max(-values.min(), 0.0))
    net_premium = float(sum(-leg.sign * leg.quantity * leg.premium for leg in legs))
    return PayoffSummary(tuple(breakevens), max_profit, max_loss, net_premium)


def net_greeks(legs: list[Leg], underlying: float, t_years: float, rate: float = 0.0) -> dict[str, float]:
    """Position Greeks (delta in units of the underlying, theta per day, vega per 1 % vol)."""
    out = {"delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0}
    for leg in legs:
        g = options.greeks("black76", leg.right is OptionRight.CALL, underlying, leg.strike, max(t_years, 1e-9), leg.iv, rate=rate)
        w = leg.sign * leg.quantity
        out["delta"] += w * float(g["delta"])
        out["gamma"] += w * float(g["gamma"])
        out["theta"] += w * float(options.theta_per_day(g["theta"]))
        out["vega"] += w * float(options.vega_per_pct(g["vega"]))
    return out


class Template(str, Enum):
    LONG_STRADDLE = "Long straddle"
    SHORT_STRADDLE = "Short straddle"
    LONG_STRANGLE = "Long strangle"
    SHORT_STRANGLE = "Short strangle"
    BULL_CALL_SPREAD = "Bull call spread"
    BEAR_PUT_SPREAD = "Bear put spread"
    IRON_CONDOR = "Iron condor"
    LONG_BUTTERFLY = "Long call butterfly"


def template_legs(template: Template, atm: float, step: float, width: int = 2) -> list[tuple[float, OptionRight, Side]]:
    """(strike, right, side) of each leg of a template around the ATM strike; width in strike steps."""
    c, p, b, s = OptionRight.CALL, OptionRight.PUT, Side.BUY, Side.SELL
    w = width * step
    table = {
        Template.LONG_STRADDLE: [(atm, c, b), (atm, p, b)],
        Template.SHORT_STRADDLE: [(atm, c, s), (atm, p, s)],
        Template.LONG_STRANGLE: [(atm + w, c, b), (atm - w, p, b)],
        Template.SHORT_STRANGLE: [(atm + w, c, s), (atm - w, p, s)],
        Template.BULL_CALL_SPREAD: [(atm, c, b), (atm + w, c, s)],
        Template.BEAR_PUT_SPREAD: [(atm, p, b), (atm - w, p, s)],
        Template.IRON_CONDOR: [(atm - 2 * w, p, b), (atm - w, p, s), (atm + w, c, s), (atm + 2 * w, c, b)],
        Template.LONG_BUTTERFLY: [(atm - w, c, b), (atm, c, s), (atm, c, s), (atm + w, c, b)],
    }
    return table[template]


def decimal_premium(value: float, tick: Decimal) -> Decimal:
    """A premium as an exact price on the tick (nearest), for placing a leg."""
    return (Decimal(str(value)) / tick).quantize(Decimal(1)) * tick
