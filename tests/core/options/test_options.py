from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import options
from core.options import IvReason

IST = ZoneInfo("Asia/Kolkata")


def test_hull_textbook_values() -> None:
    # Hull, Options Futures and Other Derivatives, Example 15.6: S=42, K=40, r=10%, sigma=20%, T=0.5
    assert options.price("bsm", True, 42.0, 40.0, 0.5, 0.2, rate=0.1) == pytest.approx(4.76, abs=0.005)
    assert options.price("bsm", False, 42.0, 40.0, 0.5, 0.2, rate=0.1) == pytest.approx(0.81, abs=0.005)
    # Hull Example 18.? (Black's model): F=20, K=20, r=9%, sigma=25%, T=4/12 -> put 1.12
    assert options.price("black76", False, 20.0, 20.0, 4 / 12, 0.25, rate=0.09) == pytest.approx(1.12, abs=0.005)


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_put_call_parity(model: str) -> None:
    s, k, t, r, q = 25000.0, np.linspace(20000, 30000, 41), 0.2, 0.065, 0.012
    c = options.price(model, True, s, k, t, 0.18, rate=r, div_yield=q)
    p = options.price(model, False, s, k, t, 0.18, rate=r, div_yield=q)
    forward = s if model == "black76" else s * np.exp((r - q) * t)
    assert np.allclose(c - p, np.exp(-r * t) * (forward - k), rtol=0, atol=1e-7)


@pytest.mark.parametrize("model", ["bsm", "black76"])
@pytest.mark.parametrize("is_call", [True, False])
def test_greeks_match_finite_differences(model: str, is_call: bool) -> None:
    s, k, t, v, r, q = 100.0, np.array([80.0, 95, 100, 110, 130]), 0.3, 0.25, 0.05, 0.02
    g = options.greeks(model, is_call, s, k, t, v, rate=r, div_yield=q)

    def p(**kw: float) -> np.ndarray:
        args = {"s": s, "t": t, "v": v, "r": r} | kw
        return options.price(model, is_call, args["s"], k, args["t"], args["v"], rate=args["r"], div_yield=q)

    h = 1e-4
    assert np.allclose(g["delta"], (p(s=s + h) - p(s=s - h)) / (2 * h), atol=1e-6)
    assert np.allclose(g["gamma"], (p(s=s + 1e-2) - 2 * p() + p(s=s - 1e-2)) / 1e-4, atol=1e-5)
    assert np.allclose(g["vega"], (p(v=v + h) - p(v=v - h)) / (2 * h), atol=1e-5)
    assert np.allclose(g["theta"], -(p(t=t + h) - p(t=t - h)) / (2 * h), atol=1e-4)
    assert np.allclose(g["rho"], (p(r=r + h) - p(r=r - h)) / (2 * h), atol=1e-4)

    def greek(name: str, **kw: float) -> np.ndarray:
        args = {"s": s, "t": t, "v": v} | kw
        return options.greeks(model, is_call, args["s"], k, args["t"], args["v"], rate=r, div_yield=q)[name]

    assert np.allclose(g["vanna"], (greek("delta", v=v + h) - greek("delta", v=v - h)) / (2 * h), atol=1e-5)
    assert np.allclose(g["vomma"], (greek("vega", v=v + h) - greek("vega", v=v - h)) / (2 * h), atol=1e-4)
    assert np.allclose(g["charm"], -(greek("delta", t=t + h) - greek("delta", t=t - h)) / (2 * h), atol=1e-5)


def test_unit_helpers() -> None:
    assert options.vega_per_pct(12.0) == pytest.approx(0.12)
    assert options.theta_per_day(-365.0) == pytest.approx(-1.0)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(0.3, 3.0),  # strike / forward: deep ITM to deep OTM
    st.floats(2.0 / (365 * 24), 2.0),  # t: two hours to two years
    st.floats(0.01, 3.0),  # vol 1 % to 300 %
    st.booleans(), st.sampled_from(["bsm", "black76"]), st.floats(0.0, 0.1),
)
def test_iv_round_trips_wherever_the_price_carries_vol_information(moneyness: float, t: float, vol: float, is_call: bool,
                                                                   model: str, rate: float) -> None:
    f = 25000.0
    k = f * moneyness
    px = float(options.price(model, is_call, f, k, t, vol, rate=rate))
    iv, reason = options.implied_vol_with_reason(model, is_call, px, f, k, t, rate=rate)
    if reason == IvReason.OK:
        back = float(options.price(model, is_call, f, k, t, float(iv), rate=rate))
        assert back == pytest.approx(px, rel=1e-9, abs=1e-9 * f)
        vega = float(options.greeks(model, is_call, f, k, t, vol, rate=rate)["vega"])
        if vega > 1e-3 * f * np.sqrt(t):  # vol is identifiable: it must be the one we priced with
            assert float(iv) == pytest.approx(vol, rel=1e-6)
    else:  # only when the time value is lost in the rounding or underflow of the price itself
        forward = f if model == "black76" else f * np.exp(rate * t)
        intrinsic = max(forward - k, 0.0) if is_call else max(k - forward, 0.0)
        time_value = px - np.exp(-rate * t) * intrinsic
        assert reason in (IvReason.BELOW_INTRINSIC, IvReason.TIME_VALUE_TOO_SMALL, IvReason.BAD_INPUT), reason
        assert time_value <= 1e-9 * f
        if reason == IvReason.BAD_INPUT:
            assert px == 0.0


def test_iv_edge_cases_return_nan_with_a_reason_and_never_warn() -> None:
    f, k, t = 100.0, 100.0, 0.25
    cases = [
        (True, 0.0, t, IvReason.BAD_INPUT), (True, float("nan"), t, IvReason.BAD_INPUT), (True, -1.0, t, IvReason.BAD_INPUT),
        (True, 5.0, 0.0, IvReason.EXPIRED), (True, 101.0, t, IvReason.ABOVE_UPPER_BOUND),
        (False, 100.5, t, IvReason.ABOVE_UPPER_BOUND),
    ]
    for is_call, px, tt, expected in cases:
        iv, reason = options.implied_vol_with_reason("black76", is_call, px, f, k, tt)
        assert np.isnan(iv) and reason == expected, (is_call, px, tt)
    deep = options.implied_vol_with_reason("black76", True, 19.0, 100.0, 80.0, t)  # below intrinsic 20
    assert np.isnan(deep[0]) and deep[1] == IvReason.BELOW_INTRINSIC


def test_iv_broadcasts_over_a_chain_including_minutes_to_expiry() -> None:
    strikes = np.arange(24000.0, 26001.0, 50.0)[None, :]
    t = np.array([[5 / (365 * 24 * 60)], [1 / 365], [30 / 365]])
    vols = 0.12 + 0.00005 * np.abs(strikes - 25000)
    is_call = strikes >= 25000
    px = options.price("black76", is_call, 25000.0, strikes, t, vols)
    iv, reason = options.implied_vol_with_reason("black76", is_call, px, 25000.0, strikes, t)
    assert iv.shape == (3, strikes.shape[1])
    ok = reason == IvReason.OK
    assert ok[1:].all()  # a day or more: every quote resolves
    assert np.allclose(iv[ok], np.broadcast_to(vols, iv.shape)[ok], rtol=1e-7)


def test_years_to_expiry_calendar_and_trading() -> None:
    expiry = options.nse_expiry(date(2025, 12, 30))  # a Tuesday
    assert expiry == datetime(2025, 12, 30, 15, 30, tzinfo=IST)
    now = datetime(2025, 12, 29, 15, 30, tzinfo=IST)  # Monday close: one calendar day left
    assert options.years_to_expiry(expiry, now) == pytest.approx(1 / 365)
    friday_close = datetime(2025, 12, 26, 15, 30, tzinfo=IST)
    # trading basis: the weekend does not count; Monday and Tuesday sessions do
    assert options.years_to_expiry(expiry, friday_close, basis="trading") == pytest.approx(2 / 252)
    assert options.years_to_expiry(expiry, friday_close, basis="trading", holidays={date(2025, 12, 29)}) == pytest.approx(1 / 252)
    after = datetime(2025, 12, 30, 16, 0, tzinfo=timezone.utc)
    assert options.years_to_expiry(expiry, after) == options.expiry.MIN_YEARS
    with pytest.raises(ValueError):
        options.years_to_expiry(expiry, now, basis="lunar")


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_iv_round_trips_a_wide_random_book_in_one_call(model: str) -> None:
    # 40,000 quotes: strikes e^+-1.5 around the forward, five minutes to three years, vols 1 % to 400 %
    rng = np.random.default_rng(11)
    n, f = 40_000, 25000.0
    k = f * np.exp(rng.uniform(-1.5, 1.5, n))
    t = np.exp(rng.uniform(np.log(5 / (365 * 24 * 60)), np.log(3.0), n))
    vol = np.exp(rng.uniform(np.log(0.01), np.log(4.0), n))
    call = rng.random(n) < 0.5
    px = options.price(model, call, f, k, t, vol, rate=0.07, div_yield=0.01)
    iv, reason = options.implied_vol_with_reason(model, call, px, f, k, t, rate=0.07, div_yield=0.01)
    forward = f if model == "black76" else f * np.exp((0.07 - 0.01) * t)
    time_value = px - np.exp(-0.07 * t) * np.maximum(np.where(call, forward - k, k - forward), 0.0)
    # below a millionth of a paisa on NIFTY, or lost in the rounding of a deep ITM price, a quote says nothing
    quoted = (time_value > 1e-12 * f) & (time_value > 1e-9 * px)
    assert (reason[quoted] == IvReason.OK).all() and quoted.sum() > 8000
    err = np.abs(options.price(model, call, f, k, t, iv, rate=0.07, div_yield=0.01)[quoted] / px[quoted] - 1)
    # 1e-10 relative, bar the rounding of the price formula itself in the near-expiry wings
    assert np.quantile(err, 0.999) < 1e-11 and err.max() < 2e-10
    # wherever the price carries vol information, the vol it was made with comes back
    vega = options.greeks(model, call, f, k, t, vol, rate=0.07, div_yield=0.01)["vega"]
    identifiable = quoted & (vega > 1e-3 * f * np.sqrt(t))
    assert np.allclose(iv[identifiable], vol[identifiable], rtol=1e-9, atol=0)
