"""Batch indicators against values worked out by hand (the arithmetic is written out in each test)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.indicators as package
from core.indicators import _base as indicators_base
from core.indicators._base import ewm
from core.indicators import (
    atr, bollinger, ema, macd, rsi, session_starts, sma, stochastic, supertrend, true_range, vwap, wma,
)

nan = np.nan


def same(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected, dtype=float), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_sma() -> None:
    same(sma([1, 2, 3, 4, 5], 3), [nan, nan, 2, 3, 4])
    same(sma([1, 2], 3), [nan, nan])
    same(sma([4, 8], 1), [4, 8])


def test_ema_is_seeded_with_the_sma() -> None:
    # alpha = 2/(3+1) = 0.5; seed (2+4+6)/3 = 4; then 0.5*8 + 0.5*4 = 6; 0.5*12 + 0.5*6 = 9
    same(ema([2, 4, 6, 8, 12], 3), [nan, nan, 4, 6, 9])
    # Wilder alpha = 1/3: seed 4; 4 + (8-4)/3 = 16/3; 16/3 + (12-16/3)/3 = 16/3 + 20/9 = 68/9
    same(ema([2, 4, 6, 8, 12], 3, alpha=1 / 3), [nan, nan, 4, 16 / 3, 68 / 9])


def test_wma_weights_the_newest_most() -> None:
    # (1*1 + 2*2 + 3*3)/6, (1*2 + 2*3 + 3*4)/6, (1*3 + 2*4 + 3*5)/6
    same(wma([1, 2, 3, 4, 5], 3), [nan, nan, 14 / 6, 20 / 6, 26 / 6])


def test_vwap_resets_at_each_session() -> None:
    price, volume = [10, 11, 12, 13], [1, 3, 0, 2]
    # session 0: 10*1/1 = 10; (10 + 33)/4 = 10.75. Session 1: no volume yet -> NaN; 26/2 = 13
    same(vwap(price, volume, [7, 7, 8, 8]), [10, 10.75, nan, 13])
    same(vwap(price, volume, np.array([True, False, True, False])), [10, 10.75, nan, 13])
    # one session: (43 + 0)/4 = 10.75; (43 + 26)/6 = 11.5
    same(vwap(price, volume), [10, 10.75, 10.75, 11.5])
    assert session_starts([3, 3, 4, 3], 4).tolist() == [True, False, True, True]


def test_bollinger_uses_the_population_standard_deviation() -> None:
    # the classic set 2,4,4,4,5,5,7,9: mean 5, population variance 32/8 = 4, std 2
    mid, upper, lower = bollinger([2, 4, 4, 4, 5, 5, 7, 9], period=8, k=2)
    same(mid, [nan] * 7 + [5])
    same(upper, [nan] * 7 + [9])
    same(lower, [nan] * 7 + [1])
    # windows [1,2],[2,3]: mean 1.5 / 2.5, std 0.5 (a sample std would be 0.7071)
    mid, upper, lower = bollinger([1, 2, 3], period=2, k=3)
    same(mid, [nan, 1.5, 2.5])
    same(upper, [nan, 3.0, 4.0])
    same(lower, [nan, 0.0, 1.0])


CLOSES = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
          46.00]


def test_rsi_on_the_classic_wilder_example() -> None:
    """The 14-period example popularised by StockCharts, computed without rounding the averages.

    Changes 1..14: gains 0.06+0.72+0.50+0.27+0.32+0.42+0.24+0.14+0.67 = 3.34, losses 0.25+0.54+0.19+0.42
    = 1.40. RSI[14] = 100*3.34/(3.34+1.40) = 70.464 (StockCharts prints 70.53 from rounded averages).
    Change 15 is -0.28: avg gain = (3.34/14)*13/14, avg loss = ((1.40/14)*13 + 0.28)/14.
    """
    gain, loss = 3.34 / 14 * 13 / 14, (1.40 / 14 * 13 + 0.28) / 14
    out = rsi(CLOSES, 14)
    same(out[:14], [nan] * 14)
    assert out[14] == pytest.approx(100 * 3.34 / 4.74, abs=1e-9)
    assert out[15] == pytest.approx(100 * gain / (gain + loss), abs=1e-9)
    assert round(out[14], 2) == 70.46 and round(out[15], 2) == 66.25


def test_rsi_small_period() -> None:
    # changes +1, +2, -1, 0. Seed gain (1+2)/2 = 1.5, loss 0 -> 100;
    # gain (1.5 + 0)/2 = 0.75, loss (0 + 1)/2 = 0.5 -> 60; gain 0.375, loss 0.25 -> 60
    same(rsi([1, 2, 4, 3, 3], 2), [nan, nan, 100, 60, 60])
    same(rsi([5, 5, 5, 5], 2), [nan, nan, 50, 50])


def test_macd_by_hand() -> None:
    # EMA2 (alpha 2/3): 3, 19/3, 55/9, 235/27. EMA3 (alpha 1/2): 14/3, 16/3, 23/3.
    # line: 5/3, 7/9, 28/27. Signal EMA2 of the line: seed (5/3 + 7/9)/2 = 11/9, then 2/3*28/27 + 1/3*11/9 = 89/81
    line, signal, hist = macd([2, 4, 8, 6, 10], fast=2, slow=3, signal=2)
    same(line, [nan, nan, 5 / 3, 7 / 9, 28 / 27])
    same(signal, [nan, nan, nan, 11 / 9, 89 / 81])
    same(hist, [nan, nan, nan, 7 / 9 - 11 / 9, 28 / 27 - 89 / 81])


HIGH, LOW, CLOSE = [10, 13, 12.5, 12], [8, 11, 12, 9], [9, 12.5, 12.2, 10]


def test_true_range_and_atr() -> None:
    # TR: 10-8 = 2; max(2, |13-9|, |11-9|) = 4; max(0.5, |12.5-12.5|, |12-12.5|) = 0.5; max(3, 0.2, 3.2) = 3.2
    same(true_range(HIGH, LOW, CLOSE), [2, 4, 0.5, 3.2])
    # ATR(2): (2+4)/2 = 3; 3 + (0.5-3)/2 = 1.75; 1.75 + (3.2-1.75)/2 = 2.475
    same(atr(HIGH, LOW, CLOSE, 2), [nan, 3, 1.75, 2.475])


def test_supertrend_by_hand() -> None:
    # hl2 = 9, 12, 12.25, 10.5; ATR(2) as above; multiplier 1.
    # i=1: bands 15 / 9, close 12.5 >= 12 -> up, line 9.
    # i=2: bands 14 / 10.5 (14 < 15 and 10.5 > 9 both move); close 12.2 >= 10.5 -> up, line 10.5.
    # i=3: upper 12.975 < 14 moves; lower 8.025 < 10.5 stays 10.5; close 10 < 10.5 -> down, line 12.975.
    line, direction = supertrend(HIGH, LOW, CLOSE, period=2, multiplier=1.0)
    same(line, [nan, 9, 10.5, 12.975])
    same(direction, [nan, 1, 1, -1])


def test_stochastic_by_hand() -> None:
    high, low, close = [10, 12, 11, 13, 12], [8, 9, 9, 10, 10], [9, 11, 10, 12, 11]
    # i=2: HH 12, LL 8 -> 100*(10-8)/4 = 50; i=3: HH 13, LL 9 -> 75; i=4: HH 13, LL 9 -> 50
    k, d = stochastic(high, low, close, k_period=3, d_period=2)
    same(k, [nan, nan, 50, 75, 50])
    same(d, [nan, nan, nan, 62.5, 62.5])
    k, d = stochastic(high, low, close, k_period=3, d_period=2, smooth=2)
    same(k, [nan, nan, nan, 62.5, 62.5])
    same(d, [nan, nan, nan, nan, 62.5])
    k, _ = stochastic([5, 5], [5, 5], [5, 5], k_period=2, d_period=1)
    same(k, [nan, 50])


@pytest.mark.parametrize("fn", [sma, ema, wma, rsi])
def test_bad_periods_are_refused(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        fn([1.0, 2.0], 0)


def test_inputs_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError):
        sma([[1.0, 2.0]], 1)


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(package) if not name.startswith("_") and name != "annotations"
              and not inspect.ismodule(getattr(package, name))}
    assert set(package.__all__) == public


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=300), st.integers(1, 10),
       st.floats(1e-4, 1.0))
def test_the_python_and_the_scipy_recursions_agree_to_the_last_bit(values: list[float], period: int, alpha: float) -> None:
    series = np.array(values)
    short = ewm(series, period, alpha)  # below SCIPY_FROM: the Python loop
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indicators_base, "SCIPY_FROM", 1)
        assert np.array_equal(ewm(series, period, alpha), short, equal_nan=True)
