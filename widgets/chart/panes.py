"""Building blocks of the chart widget: plot panes sharing one time axis, and layers (a history item
plus a live-tail item) that keep a column drawn as bars arrive."""
from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from widgets.plot_grid import show_grid
from widgets.style import MUTED, mono_font

from .candles import HistogramItem, LineItem
from .studies import Study
from .time_axis import TimeAxisItem
from .windowed import WindowedItem

AXIS_WIDTH = 78  # every pane's price axis is this wide, so their plot areas line up


def make_pane(tz: tzinfo, height: int | None = None) -> pg.PlotItem:
    """A plot with the value axis on the right, a time axis at the bottom, x-only mouse pan/zoom."""
    axis = TimeAxisItem(tz)
    plot = pg.PlotItem(axisItems={"bottom": axis})
    plot.hideAxis("left")
    plot.showAxis("right")
    plot.getAxis("right").setWidth(AXIS_WIDTH)
    for name in ("right", "bottom"):
        plot.getAxis(name).setTickFont(mono_font(8))
        plot.getAxis(name).setTextPen(pg.mkPen("#aab2bd"))
        plot.getAxis(name).setPen(pg.mkPen("#3a414b"))
        plot.getAxis(name).enableAutoSIPrefix(False)  # prices read as prices; and no label re-layout per range change
    show_grid(plot, 0.12)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    vb = plot.getViewBox()
    vb.setMouseEnabled(x=True, y=False)
    vb.disableAutoRange()
    if height is not None:
        plot.setMinimumHeight(height)
    return plot


def time_axis(plot: pg.PlotItem) -> TimeAxisItem:
    axis = plot.getAxis("bottom")
    assert isinstance(axis, TimeAxisItem)
    return axis


class Layer:
    """One column on a pane: `history` draws rows [0, n-1), `tail` the live end.

    tail_rows is how many rows the tail draws: 1 for candles and bars, 2 for a line (its last segment).
    """

    def __init__(self, history: WindowedItem, tail: WindowedItem, tail_rows: int) -> None:
        self.history, self.tail, self.tail_rows = history, tail, tail_rows

    @property
    def items(self) -> tuple[WindowedItem, WindowedItem]:
        return self.history, self.tail

    def set_length(self, n: int) -> None:
        """Draw n rows (after a new bar, only rows from the old end are scanned)."""
        self.history.set_rows(0, max(0, n - 1))
        self.tail.set_rows(max(0, n - self.tail_rows), n)

    def reload(self, n: int) -> None:
        """Every row may have changed."""
        self.set_length(n)
        self.history.invalidate()
        self.tail.invalidate()

    def live(self) -> None:
        """The last row changed: rebuild the tail only."""
        self.tail.invalidate()


class StudyView:
    """A Study's lines on a plot, kept in step with its columns."""

    def __init__(self, study: Study, plot: pg.PlotItem) -> None:
        self.study = study
        self.plot = plot
        self.layers: list[Layer] = []
        self.guides = [pg.InfiniteLine(level, angle=0, pen=pg.mkPen(MUTED, style=Qt.PenStyle.DotLine))
                       for level in study.spec.levels]
        for style, column in zip(study.spec.lines, study.columns):
            if style.kind == "hist":
                layer = Layer(HistogramItem(column.values), HistogramItem(column.values, lod=False), 1)
            else:
                layer = Layer(LineItem(column.values, style.qcolor), LineItem(column.values, style.qcolor, lod=False), 2)
            self.layers.append(layer)
        self._point_breaks()
        for item in self._all_items():
            plot.addItem(item, ignoreBounds=True)

    def detach(self) -> None:
        for item in self._all_items():
            self.plot.removeItem(item)

    def repoint(self) -> None:
        """Hand the items the columns' current views (they grow and may move on append)."""
        for layer, column in zip(self.layers, self.study.columns):
            for item in layer.items:
                item.set_values(column.values)  # type: ignore[attr-defined]
        self._point_breaks()

    def _point_breaks(self) -> None:
        starts = self.study.session_starts
        if starts is not None:
            for layer in self.layers:
                for item in layer.items:
                    if isinstance(item, LineItem):
                        item.breaks = starts.values

    def each_layer(self, action: Callable[[Layer], None]) -> None:
        for layer in self.layers:
            action(layer)

    def value_range(self, lo: int, hi: int) -> tuple[float, float] | None:
        """The smallest and largest value of the study over rows [lo, hi), None if all NaN."""
        chunks = [c.values[lo:hi] for c in self.study.columns]
        chunk = np.concatenate(chunks) if chunks else np.empty(0)
        if not len(chunk) or np.isnan(chunk).all():
            return None
        return float(np.nanmin(chunk)), float(np.nanmax(chunk))

    def _all_items(self) -> list[pg.GraphicsObject]:
        return [*self.guides, *(item for layer in self.layers for item in layer.items)]
