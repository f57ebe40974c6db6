"""Black-Scholes-Merton and Black-76 prices and Greeks, vectorised over NumPy arrays (broadcasting).

Both models are the generalised Black-Scholes formula on a forward: for "bsm" the forward is
S e^{(r-q)t}; for "black76" the underlying *is* the forward and the carry equals the rate (q = r).
Units: t in years; rates and yields continuous per year; vol per 1.00 (0.2 = 20 %).
Greeks (per unit of the underlying contract):
    delta   dV/dS (bsm: spot; black76: the future)
    gamma   d2V/dS2
    vega    dV/dvol per 1.00 of vol (vega_per_pct() gives per 1 % point)
    theta   dV/dt per year as time passes (negative for a long option; theta_per_day() per calendar day)
    rho     dV/dr per 1.00 of rate (black76: only discounting moves, rho = -t V)
    vanna   d delta / d vol;  vomma  d vega / d vol;  charm  d delta / dt per year as time passes
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _normal

MODELS = ("bsm", "black76")
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def carry(model: str, underlying: Any, t: Any, rate: Any, div_yield: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (forward, discount factor e^{-rt}, carry yield q) for a model."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    s, t, r = np.asarray(underlying, float), np.asarray(t, float), np.asarray(rate, float)
    q = r if model == "black76" else np.asarray(div_yield, float)
    forward = s if model == "black76" else s * np.exp((r - q) * t)
    return forward, np.exp(-r * t), q


def d1_d2(forward: np.ndarray, strike: np.ndarray, sqrt_t: np.ndarray, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return d1, d2 and the total vol vol*sqrt(t)."""
    sig = vol * sqrt_t
    d1 = np.log(forward / strike) / sig + 0.5 * sig
    return d1, d1 - sig, sig


def _sign(is_call: Any) -> np.ndarray:
    # +1 for a call, -1 for a put: one formula sign * (F N(sign d1) - K N(sign d2)) serves both
    # sides without computing either twice and without parity cancellation in the far wing
    return np.where(np.asarray(is_call, bool), 1.0, -1.0)


def price(model: str, is_call: Any, underlying: Any, strike: Any, t: Any, vol: Any, rate: Any = 0.0, div_yield: Any = 0.0) -> np.ndarray:
    """Option price (same currency as the underlying)."""
    f, df, _ = carry(model, underlying, t, rate, div_yield)
    k, tt, v = np.asarray(strike, float), np.asarray(t, float), np.asarray(vol, float)
    sign = _sign(is_call)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2, _ = d1_d2(f, k, np.sqrt(tt), v)
        out = sign * df * (f * _normal.ndtr(sign * d1) - k * _normal.ndtr(sign * d2))
    expired = (tt <= 0) | (v <= 0)
    if np.any(expired):  # no time value left: discounted intrinsic
        out = np.where(expired, df * np.maximum(sign * (f - k), 0.0), out)
    return out


def greeks(model: str, is_call: Any, underlying: Any, strike: Any, t: Any, vol: Any, rate: Any = 0.0,
           div_yield: Any = 0.0) -> dict[str, np.ndarray]:
    """Greeks keyed delta, gamma, vega, theta, rho, vanna, vomma, charm (units in the module docstring).

    One pass: d1, d2, the density and the two normal probabilities are computed once and shared."""
    s = np.asarray(underlying, float)
    f, df, q = carry(model, s, t, rate, div_yield)
    k, tt, v, r = np.asarray(strike, float), np.asarray(t, float), np.asarray(vol, float), np.asarray(rate, float)
    sign = _sign(is_call)
    with np.errstate(divide="ignore", invalid="ignore"):
        sqrt_t = np.sqrt(tt)
        d1, d2, sig = d1_d2(f, k, sqrt_t, v)
        eq = df if model == "black76" else np.exp(-q * tt)  # e^{-qt}
        eq_n1 = eq * (_INV_SQRT_2PI * np.exp(-0.5 * d1 * d1))
        eq_p1 = eq * _normal.ndtr(sign * d1)  # e^{-qt} N(sign d1)
        kdf_p2 = k * df * _normal.ndtr(sign * d2)  # K e^{-rt} N(sign d2)
        delta = sign * eq_p1
        gamma = eq_n1 / (s * sig)
        vega = s * eq_n1 * sqrt_t
        theta = -0.5 * s * eq_n1 * v / sqrt_t - sign * (r * kdf_p2 - q * s * eq_p1)
        if model == "black76":
            rho = -tt * sign * (s * eq_p1 - kdf_p2)  # only discounting moves: -t V
        else:
            rho = sign * tt * kdf_p2
        vanna = -eq_n1 * d2 / v
        vomma = vega * d1 * d2 / v
        drift = (2.0 * (r - q) * tt - d2 * sig) / (2.0 * tt * sig)
        charm = sign * q * eq_p1 - eq_n1 * drift
    return {"delta": delta, "gamma": gamma, "vega": vega, "theta": theta, "rho": rho, "vanna": vanna,
            "vomma": vomma, "charm": charm}


def vega_per_pct(vega: Any) -> np.ndarray:
    """Vega per 1 percentage point of vol (from vega per 1.00)."""
    return np.asarray(vega, float) / 100.0


def theta_per_day(theta: Any, days_per_year: float = 365.0) -> np.ndarray:
    """Theta per calendar day (from theta per year)."""
    return np.asarray(theta, float) / days_per_year
