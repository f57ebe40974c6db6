"""Session-anchored VWAP: the volume-weighted average price since the session began."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import LiveIndicator, as_float_array


def session_starts(sessions: Any, length: int) -> np.ndarray:
    """Return bool start flags from session ids (a session starts where the id changes) or from flags."""
    if sessions is None:
        starts = np.zeros(length, dtype=bool)
    else:
        array = np.asarray(sessions)
        if len(array) != length:
            raise ValueError("sessions must be as long as the prices")
        starts = array.astype(bool, copy=True) if array.dtype == bool else np.r_[True, array[1:] != array[:-1]]
    if length:
        starts[0] = True
    return starts


def vwap(price: Any, volume: Any, sessions: Any = None) -> np.ndarray:
    """VWAP of price (e.g. the typical price (h+l+c)/3) weighted by volume, reset at each session start.

    sessions: session ids per bar (e.g. timeframes.trading_day_ids(start_ns, session)) or bool start
    flags; None means one session. NaN while the session's volume is still zero.
    """
    p, v = as_float_array(price), as_float_array(volume)
    if len(p) != len(v):
        raise ValueError("price and volume must have the same length")
    bounds = [*np.flatnonzero(session_starts(sessions, len(p))).tolist(), len(p)]
    weighted, total = np.empty(len(p)), np.empty(len(p))
    for begin, end in zip(bounds[:-1], bounds[1:]):
        np.cumsum(p[begin:end] * v[begin:end], out=weighted[begin:end])
        np.cumsum(v[begin:end], out=total[begin:end])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0.0, weighted / total, np.nan)


class VwapState(LiveIndicator[float]):
    """Live VWAP: the session's committed sums plus the live bar."""

    def __init__(self) -> None:
        super().__init__()
        self._weighted = 0.0
        self._total = 0.0

    def update(self, price: float, volume: float, new_session: bool = False) -> float:
        """Append a bar; new_session=True makes it the first bar of a session."""
        return self._push(price, volume, new_session)

    def replace_last(self, price: float, volume: float) -> float:
        """Re-evaluate the live bar (it keeps its session flag)."""
        new_session = bool(self._last[2]) if self._last is not None else False
        return self._replace(price, volume, new_session)

    def _sums(self, price: float, volume: float, new_session: bool) -> tuple[float, float]:
        if new_session:
            return price * volume, volume
        return self._weighted + price * volume, self._total + volume

    def _evaluate(self, price: float, volume: float, new_session: bool) -> float:
        weighted, total = self._sums(price, volume, new_session)
        return weighted / total if total != 0.0 else math.nan

    def _commit(self, price: float, volume: float, new_session: bool) -> None:
        self._weighted, self._total = self._sums(price, volume, new_session)
