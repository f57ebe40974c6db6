"""Synthetic bars for demos, tests and benchmarks: a seeded random walk, so the same seed gives the same year."""
from __future__ import annotations

import numpy as np

from core.domain import InstrumentId
from core.marketdata.timeframes import Timeframe

from .data import BarArrays


def random_walk_bars(instrument_id: InstrumentId, timeframe: str, count: int, *, seed: int, start_ns: int = 1_704_067_200 * 10**9,
                     start_price: float = 40_000.0, annual_vol: float = 0.6, drift: float = 0.0) -> BarArrays:
    """Return `count` contiguous bars of a geometric random walk with the given annualised volatility.

    Each bar opens at the previous close; its high and low reach beyond the open and close by a
    half-normal excursion of the same scale; volume is log-normal. start_ns defaults to 2024-01-01 UTC.
    """
    step = Timeframe(timeframe).step_ns
    if step is None:
        raise ValueError("random_walk_bars needs an intraday timeframe")
    rng = np.random.default_rng(seed)
    sigma = annual_vol * np.sqrt(step / (365 * 86_400 * 1e9))
    log_close = np.log(start_price) + np.cumsum(rng.normal(drift * sigma * sigma, sigma, count))
    close = np.exp(log_close)
    open_ = np.concatenate(([start_price], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, sigma / 2, count)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, sigma / 2, count)))
    volume = np.round(rng.lognormal(1.0, 0.5, count), 3)
    starts = start_ns + step * np.arange(count, dtype=np.int64)
    return BarArrays(instrument_id, timeframe, starts, open_, high, low, close, volume)
