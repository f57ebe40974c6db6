"""WindowedItem: the base of the chart's data items. It draws only rows near the visible range.

The item keeps the paths it built for a window of rows a little wider than the view (half a view on
either side) at one level of detail, and repaints from them. It rebuilds only when the view leaves
that window, the level of detail changes, or the data is invalidated, so a repaint after a pan by a
few bars or a crosshair move costs a path replay, not a pass over the data.

Each chart series is drawn by two items: one for the committed rows [0, n-1) and one for the live
last row. A live update rebuilds only the small one, so it costs the same for 100 or 1,000,000 rows.
"""
from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

from .lod import lod_bucket


class WindowedItem(pg.GraphicsObject):
    """Subclasses implement _extent (y range of rows), _build (make paths) and _draw (paint them)."""

    def __init__(self, lod: bool = True) -> None:
        super().__init__()
        self.lod = lod
        self.rows = (0, 0)
        self.builds = 0  # how many times the paths were rebuilt (tests and benchmarks read this)
        self._cached: tuple[int, int, int] | None = None  # (first row, stop row, bucket)
        self._y = (math.inf, -math.inf)
        self._rect = QRectF()

    # data ------------------------------------------------------------------------------------------
    def set_rows(self, start: int, stop: int) -> None:
        """Draw rows [start, stop). Growing the end only scans the new rows."""
        old_start, old_stop = self.rows
        if (start, stop) == self.rows:
            return
        self.rows = (start, stop)
        if start == old_start and stop > old_stop and old_stop > old_start:
            self._y = _union(self._y, self._extent(old_stop, stop))
            if self._cached is not None and self._cached[1] >= old_stop:
                self._cached = None  # the cached window reached the old end: it must show the new rows
        else:
            self._y = self._extent(start, stop) if stop > start else (math.inf, -math.inf)
            self._cached = None
        self._update_rect()

    def invalidate(self) -> None:
        """Forget the cached paths and the y extent: the data of these rows changed."""
        start, stop = self.rows
        self._y = self._extent(start, stop) if stop > start else (math.inf, -math.inf)
        self._cached = None
        self._update_rect()

    @property
    def window(self) -> tuple[int, int, int] | None:
        """The cached (first row, stop row, bucket), or None until the next paint rebuilds it."""
        return self._cached

    def visible_rows(self) -> tuple[int, int]:
        """Return the rows [lo, hi) of this item inside the view's x range."""
        vb = self.getViewBox()
        if vb is None:
            return self.rows
        (x0, x1), _ = vb.viewRange()
        return max(self.rows[0], math.floor(x0)), min(self.rows[1], math.ceil(x1) + 1)

    # QGraphicsItem ---------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(self._rect)

    def paint(self, painter: QPainter, *args: Any) -> None:
        vb = self.getViewBox()
        start, stop = self.rows
        if vb is None or stop <= start:
            return
        lo, hi = self.visible_rows()
        if hi <= lo:
            return
        (x0, x1), _ = vb.viewRange()
        bucket = lod_bucket((x1 - x0) / max(1.0, vb.width())) if self.lod else 1
        cached = self._cached
        if cached is None or cached[2] != bucket or cached[0] > lo or cached[1] < hi:
            half = (hi - lo) // 2
            first = max(start, (lo - half) // bucket * bucket)
            last = min(stop, hi + half)
            self._build(first, last, bucket)
            self._cached = (first, last, bucket)
            self.builds += 1
        self._draw(painter)

    # subclass hooks --------------------------------------------------------------------------------
    def _extent(self, start: int, stop: int) -> tuple[float, float]:
        raise NotImplementedError

    def _build(self, start: int, stop: int, bucket: int) -> None:
        raise NotImplementedError

    def _draw(self, painter: QPainter) -> None:
        raise NotImplementedError

    def _update_rect(self) -> None:
        self.prepareGeometryChange()
        start, stop = self.rows
        low, high = self._y
        if stop <= start or not (math.isfinite(low) and math.isfinite(high)):
            self._rect = QRectF()
        else:
            self._rect = QRectF(start - 0.5, low, stop - start, max(high - low, 1e-12))
        self.update()


def _union(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return min(a[0], b[0]), max(a[1], b[1])
