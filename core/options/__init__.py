"""Option maths for whole chains: prices, Greeks and implied volatility (BSM and Black-76), time to expiry.

    price(model, is_call, underlying, strike, t, vol, rate=0.0, div_yield=0.0)
    greeks(...same...) -> {"delta", "gamma", "vega", "theta", "rho", "vanna", "vomma", "charm"}
    implied_vol(model, is_call, price, underlying, strike, t, rate=0.0, div_yield=0.0)  (NaN: no fit)
    implied_vol_with_reason(...) -> (vol, IvReason codes)
Everything broadcasts over NumPy arrays; model is "bsm" (underlying = spot) or "black76" (= forward).
"""
from .black import greeks, price, theta_per_day, vega_per_pct
from .expiry import nse_expiry, years_to_expiry
from .iv import IvReason, implied_vol, implied_vol_with_reason

__all__ = ["IvReason", "greeks", "implied_vol", "implied_vol_with_reason", "nse_expiry", "price", "theta_per_day",
           "vega_per_pct", "years_to_expiry"]
