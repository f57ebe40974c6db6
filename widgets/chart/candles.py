"""Candles and volume bars drawn from a BarSeries, visible rows only, with level of detail.

Zoomed in, a candle is a wick (high-low line) and a body rectangle; zoomed out past ~2 bars a pixel,
rows are folded into groups one or two pixels wide and each group is drawn as a single wick in the
colour of its first open to last close (see lod.py). Paths are built with pyqtgraph's arrayToQPath,
a vectorised path constructor, so no Python loop runs per candle.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen

from core.marketdata.series import BarSeries
from widgets.style import DOWN, UP

from .lod import aggregate_envelope, aggregate_ohlc, groups
from .windowed import WindowedItem

BODY_WIDTH = 0.7  # in bars
_RECT_CONNECT = np.array([1, 1, 1, 1, 0], dtype=np.int32)


def cosmetic_pen(color: QColor, width: float = 1.0) -> QPen:
    """A pen whose width is in pixels whatever the zoom."""
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def segments_path(x: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> QPainterPath:
    """One path of vertical segments (x, y0)-(x, y1)."""
    xs = np.repeat(x.astype(np.float64), 2)
    ys = np.empty(2 * len(x))
    ys[0::2], ys[1::2] = y0, y1
    return pg.arrayToQPath(xs, ys, connect="pairs")


def rects_path(x: np.ndarray, y0: np.ndarray, y1: np.ndarray, width: float) -> QPainterPath:
    """One path of rectangles centred on x, spanning y0..y1 (closed outlines, so fill and stroke both work)."""
    left, right = x - width / 2, x + width / 2
    xs = np.column_stack((left, right, right, left, left)).ravel()
    ys = np.column_stack((y0, y0, y1, y1, y0)).ravel()
    return pg.arrayToQPath(xs, ys, connect=np.tile(_RECT_CONNECT, len(x)))


class _TwoColourItem(WindowedItem):
    """Paths for rising and falling rows: wick segments and (zoomed in) bodies."""

    def __init__(self, series: BarSeries, lod: bool = True) -> None:
        super().__init__(lod)
        self.series = series
        self.up_pen, self.down_pen = cosmetic_pen(UP), cosmetic_pen(DOWN)
        self.up_brush, self.down_brush = QBrush(UP), QBrush(DOWN)
        self._wicks: tuple[QPainterPath, QPainterPath] = (QPainterPath(), QPainterPath())
        self._bodies: tuple[QPainterPath, QPainterPath] = (QPainterPath(), QPainterPath())

    def set_series(self, series: BarSeries) -> None:
        """Draw another series (rows are set separately)."""
        self.series = series
        self.rows = (0, 0)
        self.invalidate()

    def _draw(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for wicks, bodies, pen, brush in ((self._wicks[0], self._bodies[0], self.up_pen, self.up_brush),
                                          (self._wicks[1], self._bodies[1], self.down_pen, self.down_brush)):
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(wicks)
            painter.setBrush(brush)
            painter.drawPath(bodies)


class CandleItem(_TwoColourItem):
    """Candlesticks of a BarSeries, x = bar index."""

    def _extent(self, start: int, stop: int) -> tuple[float, float]:
        s = self.series
        return float(np.min(s.low[start:stop])), float(np.max(s.high[start:stop]))

    def _build(self, start: int, stop: int, bucket: int) -> None:
        s = self.series
        g, o, h, lo, c = aggregate_ohlc(s.open, s.high, s.low, s.close, start, stop, bucket)
        x, up = g.x, c >= o
        down = ~up
        self._wicks = (segments_path(x[up], lo[up], h[up]), segments_path(x[down], lo[down], h[down]))
        if bucket == 1:
            self._bodies = (rects_path(x[up], o[up], c[up], BODY_WIDTH),
                            rects_path(x[down], o[down], c[down], BODY_WIDTH))
        else:
            self._bodies = (QPainterPath(), QPainterPath())


class VolumeItem(_TwoColourItem):
    """Volume bars coloured by their candle; zoomed out each pixel column shows its largest volume,
    which is what drawing every bar on top of each other would show."""

    def __init__(self, series: BarSeries, lod: bool = True, alpha: int = 150) -> None:
        super().__init__(series, lod)
        up, down = QColor(UP), QColor(DOWN)
        up.setAlpha(alpha)
        down.setAlpha(alpha)
        self.up_pen, self.down_pen = cosmetic_pen(up), cosmetic_pen(down)
        self.up_brush, self.down_brush = QBrush(up), QBrush(down)

    def _extent(self, start: int, stop: int) -> tuple[float, float]:
        return 0.0, float(np.max(self.series.volume[start:stop]))

    def _build(self, start: int, stop: int, bucket: int) -> None:
        s = self.series
        g, _, top = aggregate_envelope(s.volume, start, stop, bucket)
        up = s.close[g.last] >= s.open[g.first]
        down = ~up
        zero = np.zeros(len(g))
        if bucket == 1:
            self._bodies = (rects_path(g.x[up], zero[up], top[up], BODY_WIDTH),
                            rects_path(g.x[down], zero[down], top[down], BODY_WIDTH))
            self._wicks = (QPainterPath(), QPainterPath())
        else:
            self._wicks = (segments_path(g.x[up], zero[up], top[up]), segments_path(g.x[down], zero[down], top[down]))
            self._bodies = (QPainterPath(), QPainterPath())


class LineItem(WindowedItem):
    """A float column (an indicator) as a line over x = row index; NaN breaks the line, and so does a
    non-zero in `breaks` (the rows that open a session, for a line that restarts there, as VWAP does).

    Zoomed out, each pixel column is drawn as a vertical segment from its smallest to its largest value.
    """

    def __init__(self, values: np.ndarray, color: QColor, width: float = 1.2, lod: bool = True) -> None:
        super().__init__(lod)
        self.values = values
        self.breaks: np.ndarray | None = None  # as long as values
        self.pen = cosmetic_pen(color, width)
        self._path = QPainterPath()

    def set_values(self, values: np.ndarray) -> None:
        """Point the line at a (possibly reallocated) column; call invalidate() if old rows changed."""
        self.values = values

    def _extent(self, start: int, stop: int) -> tuple[float, float]:
        chunk = self.values[start:stop]
        if not len(chunk) or np.isnan(chunk).all():
            return math.inf, -math.inf
        return float(np.nanmin(chunk)), float(np.nanmax(chunk))

    def _build(self, start: int, stop: int, bucket: int) -> None:
        if bucket == 1:
            x = np.arange(start, stop, dtype=np.float64)
            y = self.values[start:stop]
            if self.breaks is None:
                self._path = pg.arrayToQPath(x, y, connect="finite")
                return
            finite = np.isfinite(y)
            connect = finite.copy()  # connect[i]: a stroke from row i to row i + 1
            connect[:-1] &= finite[1:] & (self.breaks[start + 1:stop] == 0)
            self._path = pg.arrayToQPath(x, np.where(finite, y, 0.0), connect=connect)
            return
        g, low, high = aggregate_envelope(self.values, start, stop, bucket)
        keep = np.isfinite(low)
        self._path = segments_path(g.x[keep], low[keep], high[keep])

    def _draw(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self.pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)


class HistogramItem(WindowedItem):
    """A float column as bars from zero, green above and red below (the MACD histogram)."""

    def __init__(self, values: np.ndarray, alpha: int = 170, lod: bool = True) -> None:
        super().__init__(lod)
        self.values = values
        up, down = QColor(UP), QColor(DOWN)
        up.setAlpha(alpha)
        down.setAlpha(alpha)
        self.pens, self.brushes = (cosmetic_pen(up), cosmetic_pen(down)), (QBrush(up), QBrush(down))
        self._paths = (QPainterPath(), QPainterPath())
        self._filled = True

    def set_values(self, values: np.ndarray) -> None:
        self.values = values

    def _extent(self, start: int, stop: int) -> tuple[float, float]:
        chunk = self.values[start:stop]
        if not len(chunk) or np.isnan(chunk).all():
            return math.inf, -math.inf
        return min(0.0, float(np.nanmin(chunk))), max(0.0, float(np.nanmax(chunk)))

    def _build(self, start: int, stop: int, bucket: int) -> None:
        if bucket == 1:
            g = groups(start, stop, 1)
            value = self.values[start:stop]
        else:
            g, low, high = aggregate_envelope(self.values, start, stop, bucket)
            value = np.where(np.abs(high) >= np.abs(low), high, low)  # the bar that sticks out furthest
        keep = np.isfinite(value)
        x, value = g.x[keep], value[keep]
        zero, pos = np.zeros(len(x)), value >= 0
        self._filled = bucket == 1
        build = (lambda m: rects_path(x[m], zero[m], value[m], BODY_WIDTH)) if self._filled else \
            (lambda m: segments_path(x[m], zero[m], value[m]))
        self._paths = (build(pos), build(~pos))

    def _draw(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for path, pen, brush in zip(self._paths, self.pens, self.brushes):
            painter.setPen(pen)
            painter.setBrush(brush if self._filled else Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
