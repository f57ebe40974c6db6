"""Implied volatility for whole chains: vectorised, safeguarded, and honest about what has no answer.

Method: undiscount the price to the forward, move to the out-of-the-money side by put-call parity
(better conditioned), then Newton steps in total vol inside a shrinking bracket [lo, hi] — on
log(value) below the inflection point sig = sqrt(2|ln F/K|), on the value above it — falling back
to bisection whenever a step would leave the bracket. Converges to 1e-12 relative in price for
ordinary quotes in a handful of steps; deep wings fall back to bisection and still converge.

No exception for bad quotes: the result is NaN and `implied_vol_with_reason` says why.
"""
from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
from scipy.special import ndtr

from .black import carry, npdf


class IvReason(IntEnum):
    OK = 0
    BELOW_INTRINSIC = 1  # at or below intrinsic value: no time value to explain
    ABOVE_UPPER_BOUND = 2  # above the forward (call) / strike (put): no volatility gives it
    EXPIRED = 3  # t <= 0
    BAD_INPUT = 4  # NaN, non-positive price, underlying or strike
    NO_CONVERGENCE = 5
    TIME_VALUE_TOO_SMALL = 6  # time value under 1e-200 of the forward: beyond what doubles resolve


VOL_MIN, VOL_MAX = 1e-6, 20.0
_REL_TOL, _MAX_ITER = 1e-11, 100


def _otm_value(f: np.ndarray, k: np.ndarray, theta: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undiscounted Black value of the OTM option (theta +1: call, K >= F; -1: put) and d1."""
    d1 = np.log(f / k) / sig + 0.5 * sig
    return theta * (f * ndtr(theta * d1) - k * ndtr(theta * (d1 - sig))), d1


def _first_guess(f: np.ndarray, k: np.ndarray, target: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Corrado-Miller's approximation of total vol from the undiscounted call value; where it has no
    real root (far wings), a Brenner-Subrahmanyam-like guess pushed out to the inflection point."""
    call = target + np.maximum(f - k, 0.0)
    half = call - 0.5 * (f - k)
    disc = half * half - (f - k) ** 2 / np.pi
    corrado = np.sqrt(2.0 * np.pi) / (f + k) * (half + np.sqrt(np.maximum(disc, 0.0)))
    fallback = np.sqrt(2.0 * np.pi) * target / np.sqrt(f * k) + np.sqrt(2.0 * x)
    return np.where((disc > 0) & (corrado > 0), corrado, fallback)


def _solve(f: np.ndarray, k: np.ndarray, target: np.ndarray, atol: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Total vol sig with OTM value(sig) == target; NaN where it does not converge. Works on the
    still-unconverged elements only, so a chain costs what its hardest quotes cost, not n x iterations."""
    out = np.full(target.shape, np.nan)
    x = np.abs(np.log(f / k))
    bound = np.where(k >= f, f, k)  # the OTM option's value tends to this as vol grows
    theta = np.where(k >= f, 1.0, -1.0)
    tol = np.maximum(_REL_TOL * target, atol)
    sig = np.clip(_first_guess(f, k, target, x), lo * 2, hi / 2)
    active = np.arange(target.size)
    for _ in range(_MAX_ITER):
        fa, ka, ta, xa, ba, tha = f[active], k[active], target[active], x[active], bound[active], theta[active]
        value, d1 = _otm_value(fa, ka, tha, sig)
        diff = value - ta
        hi = np.where(diff > 0, sig, hi)
        lo = np.where(diff < 0, sig, lo)
        # converged: the price matches to its own precision, or the bracket is as tight as doubles allow
        done = (np.abs(diff) <= tol[active] + 1e-300) | (hi - lo <= 4e-16 * sig)
        out[active[done]] = sig[done]
        keep = ~done
        if not keep.any():
            break
        active, sig, lo, hi, value, diff, d1 = active[keep], sig[keep], lo[keep], hi[keep], value[keep], diff[keep], d1[keep]
        fa, ka, ta, xa, ba = fa[keep], ka[keep], ta[keep], xa[keep], ba[keep]
        vega = fa * npdf(d1)  # d(value)/d(sig) of the undiscounted value, sig = vol*sqrt(t)
        # Below the inflection (sig < sqrt(2|x|)) the value is extremely convex in sig: Newton on
        # log(value). Above it the value flattens towards its bound (F for an OTM call, K for an
        # OTM put): Newton on log(bound - value), which is close to linear there.
        log_step = sig - (np.log(value) - np.log(ta)) * value / vega
        gap = ba - value
        bound_step = sig + (np.log(gap) - np.log(ba - ta)) * gap / vega
        step = np.where(sig * sig < 2.0 * xa, log_step, bound_step)
        bisect = ~np.isfinite(step) | (step <= lo) | (step >= hi)
        sig = np.where(bisect, 0.5 * (lo + hi), step)
    return out


def implied_vol_with_reason(model: str, is_call: Any, price: Any, underlying: Any, strike: Any, t: Any,
                            rate: Any = 0.0, div_yield: Any = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (vol, reason) arrays; vol is NaN wherever reason is not IvReason.OK."""
    call_in = np.asarray(is_call, bool)
    px, k_in, t_in = np.asarray(price, float), np.asarray(strike, float), np.asarray(t, float)
    f_in, df_in, _ = carry(model, underlying, t_in, rate, div_yield)
    call, px, k, t, f, df = np.broadcast_arrays(call_in, px, k_in, t_in, f_in, df_in)
    shape = px.shape
    call, px, k, t, f, df = (a.ravel().copy() for a in (call, px, k, t, f, df))
    vol = np.full(px.shape, np.nan)
    reason = np.full(px.shape, int(IvReason.OK), dtype=np.int8)
    with np.errstate(all="ignore"):
        bad = ~(np.isfinite(px) & np.isfinite(k) & np.isfinite(f) & np.isfinite(t)) | (px <= 0) | (k <= 0) | (f <= 0)
        reason[bad] = IvReason.BAD_INPUT
        expired = ~bad & (t <= 0)
        reason[expired] = IvReason.EXPIRED
        live = ~bad & ~expired
        undiscounted = px / df
        intrinsic = np.where(call, np.maximum(f - k, 0.0), np.maximum(k - f, 0.0))
        upper = np.where(call, f, k)
        below = live & (undiscounted <= intrinsic * (1 + 1e-14))
        above = live & ~below & (undiscounted >= upper)
        reason[below] = IvReason.BELOW_INTRINSIC
        reason[above] = IvReason.ABOVE_UPPER_BOUND
        todo = np.flatnonzero(live & ~below & ~above)
        if todo.size:
            fv, kv, tv = f[todo], k[todo], t[todo]
            # OTM value by parity: an ITM call's OTM twin is the put, and vice versa
            target = undiscounted[todo] - intrinsic[todo]
            tiny = target < 1e-200 * np.sqrt(fv * kv)
            reason[todo[tiny]] = IvReason.TIME_VALUE_TOO_SMALL
            keep = ~tiny
            todo, fv, kv, tv, target = todo[keep], fv[keep], kv[keep], tv[keep], target[keep]
            sqrt_t = np.sqrt(tv)
            # the OTM value came from the quote by parity: it is known only to the quote's own precision
            atol = 4e-16 * undiscounted[todo]
            sig_out = _solve(fv, kv, target, atol, VOL_MIN * sqrt_t, VOL_MAX * sqrt_t)
            ok = np.isfinite(sig_out)
            vol[todo[ok]] = sig_out[ok] / sqrt_t[ok]
            reason[todo[~ok]] = IvReason.NO_CONVERGENCE
    return vol.reshape(shape), reason.reshape(shape)


def implied_vol(model: str, is_call: Any, price: Any, underlying: Any, strike: Any, t: Any, rate: Any = 0.0,
                div_yield: Any = 0.0) -> np.ndarray:
    """Implied volatility per element (per 1.00), NaN where no volatility fits the price."""
    return implied_vol_with_reason(model, is_call, price, underlying, strike, t, rate, div_yield)[0]
