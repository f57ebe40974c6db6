"""Per-unit Greeks of an option from live market data, for the portfolio's position Greeks.

Black-76 on the instrument's forward (the future of the same expiry, else the index carried at the
rate), at the option's implied volatility from its mid (or last) price. Units match the panels:
delta per unit of the underlying, gamma per unit, vega per 1 % vol, theta per calendar day.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core import options
from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from core.portfolio import GreeksFn
from core.portfolio.greeks import Greeks

INDEX_OF = {"NIFTY": "NIFTY 50", "BANKNIFTY": "NIFTY BANK"}


def market_greeks(market: MarketState, catalog: InstrumentCatalog, rate: float = 0.065,
                  years: Callable[..., float] = options.years_to_expiry) -> GreeksFn:
    """Return a GreeksFn that prices options from the latest ticks (None when it cannot)."""

    def forward_of(inst: Instrument, t: float) -> float | None:
        futures = [i for i in catalog.futures(inst.underlying or "", inst.venue) if i.expiry == inst.expiry]
        if futures:
            price = market.last_price(futures[0].id)
            if price is not None:
                return float(price)
        index = INDEX_OF.get(inst.underlying or "")
        spot = market.last_price(InstrumentId(inst.venue, index)) if index else None
        return None if spot is None else float(spot) * math.exp(rate * t)

    def greeks(inst: Instrument) -> Greeks | None:
        if inst.kind is not InstrumentKind.OPTION or inst.expiry is None or inst.strike is None or inst.right is None:
            return None
        tick = market.ticks.get(inst.id)
        price = (tick.mid or tick.last_price) if tick is not None else None
        t = years(inst.expiry)
        forward = forward_of(inst, t)
        if price is None or forward is None:
            return None
        call = inst.right is OptionRight.CALL
        iv = float(options.implied_vol("black76", call, float(price), forward, float(inst.strike), t, rate=rate))
        if np.isnan(iv):
            return None
        g = options.greeks("black76", call, forward, float(inst.strike), t, iv, rate=rate)
        return Greeks(float(g["delta"]), float(g["gamma"]), float(options.vega_per_pct(g["vega"])), float(options.theta_per_day(g["theta"])))

    return greeks
