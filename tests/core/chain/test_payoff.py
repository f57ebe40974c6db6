from __future__ import annotations

import numpy as np
import pytest

from core.chain.payoff import UNLIMITED, Leg, Template, net_greeks, payoff_at_expiry, payoff_today, summarise, template_legs
from core.domain import OptionRight, Side

C, P, B, S = OptionRight.CALL, OptionRight.PUT, Side.BUY, Side.SELL


def iron_condor(qty: float = 75) -> list[Leg]:
    return [Leg(24800, P, B, qty, 20), Leg(24900, P, S, qty, 40), Leg(25100, C, S, qty, 45), Leg(25200, C, B, qty, 22)]


def test_iron_condor_matches_hand_computed_breakevens_and_extremes() -> None:
    s = summarise(iron_condor())
    # net credit 40 + 45 - 20 - 22 = 43 per unit
    assert s.net_premium == pytest.approx(43 * 75)
    assert s.breakevens == pytest.approx((24900 - 43, 25100 + 43))
    assert s.max_profit == pytest.approx(43 * 75)
    assert s.max_loss == pytest.approx((100 - 43) * 75)


def test_long_call_has_unlimited_profit_and_short_call_unlimited_loss() -> None:
    long_call = summarise([Leg(100, C, B, 1, 5)])
    assert long_call.max_profit == UNLIMITED and long_call.max_loss == pytest.approx(5)
    assert long_call.breakevens == pytest.approx((105,))
    short_call = summarise([Leg(100, C, S, 1, 5)])
    assert short_call.max_loss == UNLIMITED and short_call.max_profit == pytest.approx(5)


def test_long_straddle_breakevens() -> None:
    s = summarise([Leg(25000, C, B, 1, 150), Leg(25000, P, B, 1, 140)])
    assert s.breakevens == pytest.approx((25000 - 290, 25000 + 290))
    assert s.max_loss == pytest.approx(290) and s.max_profit == UNLIMITED


def test_payoff_curve_is_piecewise_linear_through_the_legs() -> None:
    prices = np.array([24000.0, 24850.0, 25000.0, 25150.0, 26000.0])
    values = payoff_at_expiry(iron_condor(1), prices)
    assert values.tolist() == pytest.approx([-57, -7, 43, -7, -57])


def test_today_converges_to_expiry_as_time_runs_out() -> None:
    prices = np.linspace(24505, 25505, 11)  # off the strikes: at a strike even 1e-7 years leaves time value
    legs = [Leg(k, r, s, q, prem, iv=0.15) for k, r, s, q, prem in [(l.strike, l.right, l.side, l.quantity, l.premium) for l in iron_condor(1)]]
    near = payoff_today(legs, prices, 1e-7)
    assert near == pytest.approx(payoff_at_expiry(legs, prices), abs=1e-4)
    far = payoff_today(legs, prices, 30 / 365)
    assert far[5] < payoff_at_expiry(legs, prices)[5]  # short gamma: less profit at the centre with time left


def test_net_greeks_signs_for_a_short_straddle() -> None:
    legs = [Leg(25000, C, S, 75, 150, iv=0.14), Leg(25000, P, S, 75, 140, iv=0.14)]
    g = net_greeks(legs, 25000, 7 / 365)
    assert abs(g["delta"]) < 10 and g["gamma"] < 0 and g["theta"] > 0 and g["vega"] < 0


def test_templates() -> None:
    legs = template_legs(Template.IRON_CONDOR, 25000, 50, width=2)
    assert [(k, r, s) for k, r, s in legs] == [(24800, P, B), (24900, P, S), (25100, C, S), (25200, C, B)]
    assert len(template_legs(Template.LONG_BUTTERFLY, 100, 5)) == 4
