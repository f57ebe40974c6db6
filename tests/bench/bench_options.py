"""Option chain maths: IV + all Greeks for 5,000 and 100,000 options, against a scalar reference
(scipy.optimize.brentq on scipy.stats.norm Black-76 prices, one option at a time), same process.
Goal: 5,000 in < 5 ms; >= 100x the reference."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).parent))
from common import median_time, print_table  # noqa: E402

from core import options  # noqa: E402


def chain(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    """A NIFTY-like book: strikes within +-20 %, four expiries, a smile, mixed calls and puts."""
    rng = np.random.default_rng(seed)
    f = 25000.0
    k = np.round(f * rng.uniform(0.8, 1.2, n) / 50) * 50
    t = rng.choice(np.array([2, 9, 30, 60]) / 365, n)
    vol = 0.12 + 0.6 * (np.log(k / f)) ** 2 + rng.normal(0, 0.005, n)
    call = k >= f
    price = options.price("black76", call, f, k, t, vol, rate=0.065)
    return call, price, np.full(n, f), k, t


def full_chain(call: np.ndarray, price: np.ndarray, f: np.ndarray, k: np.ndarray, t: np.ndarray) -> None:
    iv = options.implied_vol("black76", call, price, f, k, t, rate=0.065)
    options.greeks("black76", call, f, k, t, iv, rate=0.065)


def reference_one(call: bool, price: float, f: float, k: float, t: float, r: float = 0.065) -> tuple[float, ...]:
    def black(vol: float) -> float:
        d1 = (np.log(f / k) + 0.5 * vol * vol * t) / (vol * np.sqrt(t))
        d2 = d1 - vol * np.sqrt(t)
        df = np.exp(-r * t)
        return df * (f * norm.cdf(d1) - k * norm.cdf(d2)) if call else df * (k * norm.cdf(-d2) - f * norm.cdf(-d1))

    try:
        vol = brentq(lambda v: black(v) - price, 1e-4, 5.0, xtol=1e-12)
    except ValueError:
        return (float("nan"),) * 5
    d1 = (np.log(f / k) + 0.5 * vol * vol * t) / (vol * np.sqrt(t))
    df = np.exp(-r * t)
    delta = df * norm.cdf(d1) if call else df * (norm.cdf(d1) - 1)
    gamma = df * norm.pdf(d1) / (f * vol * np.sqrt(t))
    vega = f * df * norm.pdf(d1) * np.sqrt(t)
    theta = -f * df * norm.pdf(d1) * vol / (2 * np.sqrt(t)) + r * black(vol)
    return vol, delta, gamma, vega, theta


def main() -> None:
    rows = []
    ref_n = 300
    data = chain(ref_n, seed=9)
    start = time.perf_counter()
    for i in range(ref_n):
        reference_one(bool(data[0][i]), float(data[1][i]), float(data[2][i]), float(data[3][i]), float(data[4][i]))
    ref_per_option = (time.perf_counter() - start) / ref_n
    for n in (5_000, 100_000):
        args = chain(n)
        call, price, f, k, t = args
        repeat = 31 if n == 5_000 else 5
        ours = median_time(lambda: full_chain(*args), repeat=repeat)
        iv, reason = options.implied_vol_with_reason("black76", call, price, f, k, t, rate=0.065)
        iv_only = median_time(lambda: options.implied_vol("black76", call, price, f, k, t, rate=0.065), repeat=repeat)
        greeks_only = median_time(lambda: options.greeks("black76", call, f, k, t, iv, rate=0.065), repeat=repeat)
        ref = ref_per_option * n
        rows.append([f"{n:,}", f"{ours * 1e3:.2f} ms", f"{iv_only * 1e3:.2f} ms", f"{greeks_only * 1e3:.2f} ms",
                     f"{ref * 1e3:,.0f} ms (scaled from {ref_n})", f"{ref / ours:,.0f}x", f"{np.mean(reason == 0) * 100:.1f} %"])
    print_table(["options", "IV + Greeks (ours, median)", "IV alone", "Greeks alone", "scalar brentq + norm", "speed-up",
                 "IV resolved"], rows)


if __name__ == "__main__":
    main()
