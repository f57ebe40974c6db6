"""The chart's time axis. The x axis counts bars (no gaps over nights and weekends); this axis puts
labels where the bar times cross round boundaries (a new 15 minutes, day, month ...) in the venue's zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg

from core.domain import Venue

NS = 1_000_000_000
_DAY_S = 86_400
IST = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class TickStep:
    """A label spacing: `count` of `unit` (s = seconds, d = days, w = weeks, M = months, Y = years)."""

    unit: str
    count: int

    @property
    def approx_s(self) -> float:
        return self.count * {"s": 1, "d": _DAY_S, "w": 7 * _DAY_S, "M": 30.4 * _DAY_S, "Y": 365.25 * _DAY_S}[self.unit]


STEPS = tuple(TickStep("s", n) for n in (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 21_600)) + (
    TickStep("d", 1), TickStep("w", 1), TickStep("M", 1), TickStep("M", 3), TickStep("Y", 1), TickStep("Y", 5))


def venue_tz(venue: Venue) -> tzinfo:
    """The zone a venue's times are shown in: IST for Kite, UTC for Binance."""
    return IST if venue is Venue.ZERODHA else UTC


def local_seconds(ts_ns: np.ndarray, tz: tzinfo) -> np.ndarray:
    """Return wall-clock seconds in tz (UTC seconds plus the zone's offset) for each timestamp."""
    secs = np.asarray(ts_ns, dtype=np.int64) // NS
    if not len(secs):
        return secs
    first, last = (_offset_s(int(secs[i]), tz) for i in (0, -1))
    if first == last and _fixed_offset(tz):
        return secs + first
    hours, inverse = np.unique(secs // 3600, return_inverse=True)  # DST moves on hour boundaries
    offsets = np.array([_offset_s(int(h) * 3600, tz) for h in hours], dtype=np.int64)
    return secs + offsets[inverse]


def bucket_keys(local_s: np.ndarray, step: TickStep) -> np.ndarray:
    """Return an integer per timestamp that changes exactly where a new step begins."""
    if step.unit == "s":
        return local_s // step.count
    days = local_s // _DAY_S
    if step.unit == "d":
        return days // step.count
    if step.unit == "w":
        return (days + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Monday
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months // step.count if step.unit == "M" else (months // 12) // step.count


def time_ticks(start_ns: np.ndarray, lo: int, hi: int, pixels: float, tz: tzinfo,
               min_spacing_px: float = 90.0) -> tuple[np.ndarray, TickStep]:
    """Return the bar indexes in [lo, hi) to label and the step used: the finest step whose labels
    are on average at least min_spacing_px apart over an axis `pixels` long.

    With more bars than pixels only about two bars per pixel are inspected, which places a label at
    most a pixel late.
    """
    lo, hi = max(0, lo), min(len(start_ns), hi)
    if hi <= lo:
        return np.empty(0, dtype=np.int64), STEPS[0]
    max_ticks = max(1, int(pixels // min_spacing_px))
    rows = np.arange(lo, hi, max(1, int((hi - lo) // max(1.0, 2 * pixels))), dtype=np.int64)
    local = local_seconds(start_ns[rows], tz)
    for step in STEPS:
        keys = bucket_keys(local, step)
        changes = rows[1:][keys[1:] != keys[:-1]]
        if len(changes) <= max_ticks:
            return changes, step
    return np.empty(0, dtype=np.int64), STEPS[-1]


def tick_labels(start_ns: np.ndarray, indexes: Any, step: TickStep, tz: tzinfo) -> list[str]:
    """Format labels for ticks: the time of day within a day, the date where the day changes."""
    labels, previous = [], None
    for i in indexes:
        moment = datetime.fromtimestamp(int(start_ns[int(i)]) / NS, tz)
        if step.unit == "Y":
            text = f"{moment:%Y}"
        elif step.unit == "M":
            text = f"{moment:%Y}" if moment.month == 1 else f"{moment:%b}"
        elif step.unit in ("d", "w"):
            new_year = previous is not None and moment.year != previous.year
            text = f"{moment:%Y}" if new_year else f"{moment.day} {moment:%b}"
        elif previous is not None and moment.date() != previous.date():
            text = f"{moment.day} {moment:%b}"
        else:
            text = f"{moment:%H:%M:%S}" if step.count < 60 else f"{moment:%H:%M}"
        labels.append(text)
        previous = moment
    return labels


def format_bar_time(start_ns: int, tz: tzinfo, seconds: bool = False) -> str:
    """Return a bar's start as 'YYYY-MM-DD HH:MM[:SS] ZONE' for readouts."""
    moment = datetime.fromtimestamp(start_ns / NS, tz)
    return f"{moment:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {moment.tzname() or ''}".rstrip()


class TimeAxisItem(pg.AxisItem):
    """A bottom axis over bar indexes that labels bar times in a zone."""

    def __init__(self, tz: tzinfo, min_spacing_px: int = 90, **kwargs: Any) -> None:
        super().__init__(orientation="bottom", **kwargs)
        self.tz = tz
        self.min_spacing_px = min_spacing_px
        self.start_ns = np.empty(0, dtype=np.int64)
        self._step = STEPS[0]

    def set_times(self, start_ns: np.ndarray, tz: tzinfo | None = None) -> None:
        """Point the axis at the bars' start times (and optionally a new zone), then redraw."""
        self.start_ns = start_ns
        if tz is not None:
            self.tz = tz
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803
        lo, hi = int(np.ceil(minVal)), int(np.floor(maxVal)) + 1
        ticks, self._step = time_ticks(self.start_ns, lo, hi, size, self.tz, self.min_spacing_px)
        return [(1.0, [float(t) for t in ticks])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        inside = [v for v in values if 0 <= v < len(self.start_ns)]
        labels = dict(zip(inside, tick_labels(self.start_ns, inside, self._step, self.tz)))
        return [labels.get(v, "") for v in values]


def _offset_s(secs: int, tz: tzinfo) -> int:
    offset = datetime.fromtimestamp(secs, tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _fixed_offset(tz: tzinfo) -> bool:
    """True for zones without DST in this era (UTC, IST): one offset serves every timestamp."""
    return _offset_s(1_705_276_800, tz) == _offset_s(1_721_001_600, tz)  # mid-January and mid-July 2024
