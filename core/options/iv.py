"""Implied volatility for whole chains: vectorised, safeguarded, and honest about what has no answer.

Method (after Jaeckel, "Let's Be Rational", in simplified form): undiscount the price to the forward,
move to the out-of-the-money side by put-call parity and normalise by sqrt(F K), so that the value
b(s) depends only on a = |ln F/K| and the total vol s = vol sqrt(t). The inflection point
s_c = sqrt(2a) splits the problem in two, each solved separately on its own subset:
    below s_c  b is tiny and extremely convex: third-order Householder steps on ln b(s) in ln s,
               from the small-vol asymptotic b ~ phi(a/s) s^3 / a^2 (or the at-the-money slope);
    above s_c  b flattens towards its bound e^{-a/2}: Householder steps on ln(bound - b) in s,
               from the large-vol limit bound - b ~ 2 cosh(a/2) N(-s/2).
Every step stays inside a shrinking bracket (geometric bisection otherwise). An element is done when
its value matches the quote to 1e-11 relative, to the quote's own precision, or to the rounding error
with which doubles evaluate b itself (which decides only where b is the small difference of two much
larger terms: minutes to expiry, or far wings); or when its log-residual is under 1e-4, where the
next step lands far inside the tolerance (quartic convergence) and is taken without another
evaluation. Typically two or three evaluations per quote; each iteration works on the unconverged
elements only, and nothing is computed for both branches.

No exception for bad quotes: the result is NaN and `implied_vol_with_reason` says why.
"""
from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np

from . import _normal
from .black import carry


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
_TRUST = 1e-4  # log-residual from which one more step lands below 1e-13 (quartic convergence)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_LN_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_EPS = 1e-16


def _curvature(s: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return b'(s) and the ratios b''/b', b'''/b' of the normalised value (h = a/s)."""
    hh, quarter_s = h * h, 0.25 * s
    vega = _INV_SQRT_2PI * np.exp(-0.5 * (hh + quarter_s * s))
    h_s = hh / s
    p = h_s - quarter_s
    return vega, p, p * p - 3.0 * h_s / s - 0.25


def _householder(nu: np.ndarray, h2: np.ndarray, h3: np.ndarray) -> np.ndarray:
    return nu * (1.0 + 0.5 * h2 * nu) / (1.0 + nu * (h2 + h3 * nu / 6.0))


def _advance(out: np.ndarray, idx: np.ndarray, done: np.ndarray, residual: np.ndarray, s: np.ndarray,
             step: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store finished elements in out; return the next iterates and the positions still unfinished.

    A Householder step taken from a log-residual under _TRUST lands (quartic convergence) far inside
    the tolerance, so it is stored without another evaluation, as Let's Be Rational does."""
    inside = (step > lo) & (step < hi)  # False for NaN too
    trusted = ~done & inside & (np.abs(residual) <= _TRUST)
    out[idx[done]] = s[done]
    out[idx[trusted]] = step[trusted]
    nxt = np.where(inside, step, np.sqrt(lo * hi))  # geometric bisection when a step leaves the bracket
    return nxt, np.flatnonzero(~(done | trusted))


def _guess_low(a: np.ndarray, beta: np.ndarray, s_c: np.ndarray) -> np.ndarray:
    # ln b ~ -a^2/(2 s^2) + 3 ln s - 2 ln a - ln sqrt(2 pi): two fixed-point passes on u = 1/s^2;
    # near the money the slope b ~ s / sqrt(2 pi) bounds it from below
    level = -np.log(beta) - _LN_SQRT_2PI - 2.0 * np.log(a)
    u = np.maximum(2.0 * level / (a * a), 1.0)
    for _ in range(2):
        u = np.maximum(2.0 * (level - 1.5 * np.log(u)) / (a * a), 1.0)
    asymptotic = 1.0 / np.sqrt(u)
    return np.minimum(np.maximum(asymptotic, np.sqrt(2.0 * np.pi) * beta), s_c)


def _solve_low(a: np.ndarray, beta: np.ndarray, tol: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               s_c: np.ndarray) -> np.ndarray:
    out = np.full(a.shape, np.nan)
    s = np.clip(_guess_low(a, beta, s_c), lo, hi)
    e_lo, e_hi, log_beta = np.exp(-0.5 * a), np.exp(0.5 * a), np.log(beta)
    idx = np.arange(a.size)
    for _ in range(_MAX_ITER):
        h = a / s
        t1, t2 = e_lo * _normal.ndtr(0.5 * s - h), e_hi * _normal.ndtr(-0.5 * s - h)
        b = t1 - t2
        diff = b - beta
        hi = np.where(diff > 0, s, hi)
        lo = np.where(diff < 0, s, lo)
        noise = 4.0 * _EPS * (t1 + t2)  # rounding of the two terms that cancel into b
        done = (np.abs(diff) <= np.maximum(tol, noise)) | (hi - lo <= 4e-16 * s)
        vega, p, q = _curvature(s, h)
        r = vega / b
        h2, h3 = p - r, q - 3.0 * r * p + 2.0 * r * r
        # the step is taken in y = ln s: F' = s f', F''/F' = 1 + s h2, F'''/F' = 1 + 3 s h2 + s^2 h3
        sh2 = s * h2
        with np.errstate(all="ignore"):
            residual = log_beta - np.log(b)
            step = s * np.exp(_householder(residual / (s * r), 1.0 + sh2, 1.0 + 3.0 * sh2 + s * s * h3))
        s, left = _advance(out, idx, done, residual, s, step, lo, hi)
        if not left.size:
            break
        if left.size < idx.size:
            a, beta, tol, lo, hi, s = (x.take(left) for x in (a, beta, tol, lo, hi, s))
            e_lo, e_hi, log_beta, idx = (x.take(left) for x in (e_lo, e_hi, log_beta, idx))
    return out


def _solve_high(a: np.ndarray, beta: np.ndarray, tol: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                s_c: np.ndarray) -> np.ndarray:
    out = np.full(a.shape, np.nan)
    e_lo, e_hi = np.exp(-0.5 * a), np.exp(0.5 * a)
    gap_target = e_lo - beta  # bound - value, which this branch drives to a small relative error
    with np.errstate(all="ignore"):
        guess = -2.0 * _normal.ndtri(0.5 * gap_target / np.cosh(0.5 * a))
    s = np.clip(np.where(np.isnan(guess), s_c, np.maximum(guess, s_c)), lo, hi)
    log_gap_target = np.log(np.maximum(gap_target, 1e-300))
    idx = np.arange(a.size)
    for _ in range(_MAX_ITER):
        h = a / s
        gap = e_lo * _normal.ndtr(h - 0.5 * s) + e_hi * _normal.ndtr(-0.5 * s - h)
        diff = gap_target - gap  # value - target
        hi = np.where(diff > 0, s, hi)
        lo = np.where(diff < 0, s, lo)
        done = (np.abs(diff) <= tol) | (hi - lo <= 4e-16 * s)
        vega, p, q = _curvature(s, h)
        w = vega / gap
        with np.errstate(all="ignore"):
            residual = np.log(gap) - log_gap_target
            step = s + _householder(residual / w, p + w, q + 3.0 * w * p + 2.0 * w * w)
        s, left = _advance(out, idx, done, residual, s, step, lo, hi)
        if not left.size:
            break
        if left.size < idx.size:
            a, tol, lo, hi, s = (x.take(left) for x in (a, tol, lo, hi, s))
            e_lo, e_hi, gap_target, log_gap_target, idx = (
                x.take(left) for x in (e_lo, e_hi, gap_target, log_gap_target, idx))
    return out


def _solve(f: np.ndarray, k: np.ndarray, target: np.ndarray, atol: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Total vol s with undiscounted OTM value(s) == target; NaN where it does not converge."""
    root = np.sqrt(f * k)
    a = np.abs(np.log(f / k))
    beta = target / root
    tol = np.maximum(_REL_TOL * beta, atol / root)
    s_c = np.sqrt(2.0 * a)
    # value at the inflection point: b(s_c) = e^{-a/2}/2 - e^{a/2} N(-s_c)
    low = beta < 0.5 * np.exp(-0.5 * a) - np.exp(0.5 * a) * _normal.ndtr(-s_c)
    out = np.empty(a.shape)
    for part, solver, lo_p, hi_p in ((np.flatnonzero(low), _solve_low, lo, np.minimum(hi, s_c)),
                                     (np.flatnonzero(~low), _solve_high, np.maximum(lo, s_c), hi)):
        if part.size:
            out[part] = solver(a.take(part), beta.take(part), tol.take(part), lo_p.take(part), hi_p.take(part),
                               s_c.take(part))
    return out


def implied_vol_with_reason(model: str, is_call: Any, price: Any, underlying: Any, strike: Any, t: Any,
                            rate: Any = 0.0, div_yield: Any = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (vol, reason) arrays; vol is NaN wherever reason is not IvReason.OK."""
    call_in = np.asarray(is_call, bool)
    px, k_in, t_in = np.asarray(price, float), np.asarray(strike, float), np.asarray(t, float)
    f_in, df_in, _ = carry(model, underlying, t_in, rate, div_yield)
    call, px, k, t, f, df = np.broadcast_arrays(call_in, px, k_in, t_in, f_in, df_in)
    shape = px.shape
    call, px, k, t, f, df = (np.ravel(a) for a in (call, px, k, t, f, df))
    vol = np.full(px.shape, np.nan)
    reason = np.full(px.shape, int(IvReason.OK), dtype=np.int8)
    with np.errstate(all="ignore"):
        bad = ~(np.isfinite(px) & np.isfinite(k) & np.isfinite(f) & np.isfinite(t)) | (px <= 0) | (k <= 0) | (f <= 0)
        reason[bad] = IvReason.BAD_INPUT
        expired = ~bad & (t <= 0)
        reason[expired] = IvReason.EXPIRED
        live = ~bad & ~expired
        undiscounted = px / df
        moneyness = f - k
        intrinsic = np.maximum(np.where(call, moneyness, -moneyness), 0.0)
        upper = np.where(call, f, k)
        below = live & (undiscounted <= intrinsic * (1 + 1e-14))
        above = live & ~below & (undiscounted >= upper)
        reason[below] = IvReason.BELOW_INTRINSIC
        reason[above] = IvReason.ABOVE_UPPER_BOUND
        # OTM value by parity: an ITM call's OTM twin is the put, and vice versa
        target = undiscounted - intrinsic
        tiny = live & ~below & ~above & (target < 1e-200 * np.sqrt(f * k))
        reason[tiny] = IvReason.TIME_VALUE_TOO_SMALL
        todo = np.flatnonzero(live & ~below & ~above & ~tiny)
        if todo.size:
            sqrt_t = np.sqrt(t.take(todo))
            # the OTM value came from the quote by parity: it is known only to the quote's own precision
            sig = _solve(f.take(todo), k.take(todo), target.take(todo), 4e-16 * undiscounted.take(todo),
                         VOL_MIN * sqrt_t, VOL_MAX * sqrt_t)
            ok = np.isfinite(sig)
            vol[todo[ok]] = sig[ok] / sqrt_t[ok]
            reason[todo[~ok]] = IvReason.NO_CONVERGENCE
    return vol.reshape(shape), reason.reshape(shape)


def implied_vol(model: str, is_call: Any, price: Any, underlying: Any, strike: Any, t: Any, rate: Any = 0.0,
                div_yield: Any = 0.0) -> np.ndarray:
    """Implied volatility per element (per 1.00), NaN where no volatility fits the price."""
    return implied_vol_with_reason(model, is_call, price, underlying, strike, t, rate, div_yield)[0]
