"""Every live state, driven by random update/replace_last sequences, equals the batch recomputation."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.indicators import (
    AtrState, BollingerState, EmaState, MacdState, RsiState, SmaState, StochasticState, SupertrendState,
    VwapState, WmaState, atr, bollinger, ema, macd, rsi, sma, stochastic, supertrend, vwap, wma,
)

PRICE = st.floats(min_value=1.0, max_value=1000.0, allow_nan=False, allow_infinity=False)
# (replace the last point?, inputs); the first op always appends
CLOSE_OPS = st.lists(st.tuples(st.booleans(), PRICE), min_size=1, max_size=40)


@st.composite
def bar(draw: st.DrawFn) -> tuple[float, float, float]:
    low = draw(PRICE)
    high = low + draw(st.floats(min_value=0.0, max_value=50.0))
    return high, low, low + (high - low) * draw(st.floats(min_value=0.0, max_value=1.0))


BAR_OPS = st.lists(st.tuples(st.booleans(), bar()), min_size=1, max_size=40)
VWAP_OPS = st.lists(st.tuples(st.booleans(), st.tuples(PRICE, st.floats(0.0, 1e4), st.booleans())),
                    min_size=1, max_size=40)


def drive(state: Any, ops: list[tuple[bool, tuple[Any, ...]]]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """Apply the ops; return the final points and, per point, the output of the last call that touched it."""
    points: list[tuple[Any, ...]] = []
    outputs: list[Any] = []
    for replace, args in ops:
        if replace and points:
            points[-1] = args
            outputs[-1] = state.replace_last(*args)
        else:
            points.append(args)
            outputs.append(state.update(*args))
    return points, outputs


def close_enough(live: list[Any], batch: np.ndarray | tuple[np.ndarray, ...]) -> None:
    expected = np.column_stack(batch) if isinstance(batch, tuple) else np.asarray(batch)
    np.testing.assert_allclose(np.array(live, dtype=float).reshape(expected.shape), expected, rtol=1e-9, atol=1e-7,
                               equal_nan=True)


def as_ops(ops: list[tuple[bool, Any]]) -> list[tuple[bool, tuple[Any, ...]]]:
    return [(replace, value if isinstance(value, tuple) else (value,)) for replace, value in ops]


CLOSE_CASES: list[tuple[str, Callable[[], Any], Callable[[np.ndarray], Any]]] = [
    ("sma", lambda: SmaState(5), lambda x: sma(x, 5)),
    ("sma1", lambda: SmaState(1), lambda x: sma(x, 1)),
    ("ema", lambda: EmaState(4), lambda x: ema(x, 4)),
    ("wilder", lambda: EmaState(3, alpha=1 / 3), lambda x: ema(x, 3, alpha=1 / 3)),
    ("wma", lambda: WmaState(4), lambda x: wma(x, 4)),
    ("bollinger", lambda: BollingerState(5, 2.0), lambda x: bollinger(x, 5, 2.0)),
    ("rsi", lambda: RsiState(4), lambda x: rsi(x, 4)),
    ("macd", lambda: MacdState(3, 6, 4), lambda x: macd(x, 3, 6, 4)),
]


@pytest.mark.parametrize(("name", "make", "batch"), CLOSE_CASES, ids=[c[0] for c in CLOSE_CASES])
@settings(max_examples=40, deadline=None)
@given(ops=CLOSE_OPS)
def test_close_indicators_match_batch(name: str, make: Callable[[], Any], batch: Callable[[np.ndarray], Any],
                                      ops: list[tuple[bool, float]]) -> None:
    points, outputs = drive(make(), as_ops(ops))
    close_enough(outputs, batch(np.array([p[0] for p in points])))


BAR_CASES: list[tuple[str, Callable[[], Any], Callable[..., Any]]] = [
    ("atr", lambda: AtrState(4), lambda h, lo, c: atr(h, lo, c, 4)),
    ("supertrend", lambda: SupertrendState(3, 2.0), lambda h, lo, c: supertrend(h, lo, c, 3, 2.0)),
    ("stochastic", lambda: StochasticState(4, 3, 2), lambda h, lo, c: stochastic(h, lo, c, 4, 3, 2)),
]


@pytest.mark.parametrize(("name", "make", "batch"), BAR_CASES, ids=[c[0] for c in BAR_CASES])
@settings(max_examples=40, deadline=None)
@given(ops=BAR_OPS)
def test_bar_indicators_match_batch(name: str, make: Callable[[], Any], batch: Callable[..., Any],
                                    ops: list[tuple[bool, tuple[float, float, float]]]) -> None:
    points, outputs = drive(make(), as_ops(ops))
    high, low, close = (np.array(column) for column in zip(*points))
    close_enough(outputs, batch(high, low, close))


@settings(max_examples=40, deadline=None)
@given(ops=VWAP_OPS)
def test_vwap_matches_batch(ops: list[tuple[bool, tuple[float, float, bool]]]) -> None:
    """replace_last keeps the live bar's session flag, so a replacement takes only price and volume."""
    state, points, outputs = VwapState(), [], []
    for replace, (price, volume, new_session) in ops:
        if replace and points:
            points[-1] = (price, volume, points[-1][2])
            outputs[-1] = state.replace_last(price, volume)
        else:
            points.append((price, volume, new_session))
            outputs.append(state.update(price, volume, new_session))
    price, volume, starts = (np.array(column) for column in zip(*points))
    close_enough(outputs, vwap(price, volume, starts.astype(bool)))


def test_supertrend_live_is_bit_identical_on_ties() -> None:
    """Flat and repeating bars make the band comparisons tie; the live and batch paths must still agree."""
    bars = [(10.0, 10.0, 10.0)] * 5 + [(11.0, 9.0, 10.0), (10.0, 10.0, 10.0), (12.0, 8.0, 8.0)] * 4
    state = SupertrendState(3, 1.0)
    live = [state.update(*b) for b in bars]
    line, direction = supertrend(*map(np.array, zip(*bars)), period=3, multiplier=1.0)
    assert [o[0] for o in live[2:]] == line[2:].tolist() and [o[1] for o in live[2:]] == direction[2:].tolist()


def test_replace_last_before_update_is_refused() -> None:
    with pytest.raises(ValueError):
        EmaState(3).replace_last(1.0)
