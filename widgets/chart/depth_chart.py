"""Depth chart: cumulative bid (green) and ask (red) quantity as step areas over price, with the mid.

It reads the order book from MarketState on a ~10 Hz timer and redraws only when the book changed
(its update id or time moved), so a burst of deltas costs one redraw per frame at most.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.domain import InstrumentId, PriceLevel
from core.marketdata.book import BookView
from core.marketdata.state import MarketState
from widgets.frame_timer import screen_timer
from widgets.plot_grid import show_grid
from widgets.style import BUY, MUTED, SELL, mono_font


def cumulative(levels: Sequence[PriceLevel]) -> tuple[np.ndarray, np.ndarray]:
    """Return prices and the running total of quantity from the best level outwards (floats, for drawing)."""
    prices = np.array([float(p) for p, _ in levels], dtype=np.float64)
    totals = np.cumsum(np.array([float(q) for _, q in levels], dtype=np.float64))
    return prices, totals


def step_outline(prices: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the x, y of a staircase from the best price outwards: at each level the total steps up.

    Starts at (best, 0) so the filled area begins at the touch.
    """
    if not len(prices):
        return np.empty(0), np.empty(0)
    xs = np.empty(2 * len(prices))
    ys = np.empty(2 * len(prices))
    xs[0::2], xs[1::2] = prices, np.r_[prices[1:], prices[-1]]
    ys[0::2] = ys[1::2] = totals
    return np.r_[prices[0], xs], np.r_[0.0, ys]


class DepthChart(QWidget):
    """Cumulative depth of one instrument's book."""

    def __init__(self, market: MarketState, instrument_id: InstrumentId | None = None, depth: int = 100,
                 refresh_hz: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.market = market
        self.instrument_id = instrument_id
        self.levels = depth
        self.redraws = 0
        self._seen: tuple[int, int, int] | None = None
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        show_grid(self.plot, 0.12)
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().showAxis("right")
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.bid_curve = self._area(BUY)
        self.ask_curve = self._area(SELL)
        self.mid_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(MUTED, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.mid_line, ignoreBounds=True)
        self.info = QLabel("Waiting for book…")
        self.info.setFont(mono_font(9))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.info)
        layout.addWidget(self.plot, 1)
        self._timer = screen_timer(self, refresh_hz, self.refresh)

    def _area(self, colour: QColor) -> pg.PlotDataItem:
        fill = QColor(colour)
        fill.setAlpha(60)
        curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5), fillLevel=0.0, brush=fill)
        self.plot.addItem(curve)
        return curve

    def set_instrument(self, instrument_id: InstrumentId) -> None:
        """Show another instrument's book."""
        self.instrument_id = instrument_id
        self._seen = None
        self.refresh()

    def refresh(self) -> None:
        """Redraw if the book changed since the last call."""
        if self.instrument_id is None:
            return
        book = self.market.book(self.instrument_id)
        key = (book.update_id, book.ts_ns, len(book.bids) + len(book.asks))
        if key == self._seen:
            return
        self._seen = key
        self.show_view(book.view(self.levels))

    def show_view(self, view: BookView) -> None:
        """Draw a book snapshot."""
        self.redraws += 1
        bid_px, bid_total = cumulative(view.bids)
        ask_px, ask_total = cumulative(view.asks)
        self.bid_curve.setData(*step_outline(bid_px, bid_total))
        self.ask_curve.setData(*step_outline(ask_px, ask_total))
        mid = view.mid
        self.mid_line.setVisible(mid is not None)
        if mid is None:
            self.info.setText("Waiting for book…")
            return
        self.mid_line.setValue(float(mid))
        half = max(float(mid) - bid_px[-1], ask_px[-1] - float(mid))
        self.plot.setXRange(float(mid) - half, float(mid) + half, padding=0.02)
        self.plot.setYRange(0, max(bid_total[-1], ask_total[-1]) * 1.05, padding=0)
        self.info.setText(f"mid {_fmt(mid)}   spread {_fmt(view.spread)}   "
                          f"bids {bid_total[-1]:,.4g}   asks {ask_total[-1]:,.4g}")


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"
