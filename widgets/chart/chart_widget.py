"""ChartWidget: candles, volume, studies, crosshair readout, and the user's orders, position and fills.

x is the bar index (no gaps over nights and weekends); the time axis labels bar times in the venue's
zone. The mouse pans and zooms x only; y always fits the visible candles. Keys: Left/Right pan, +/-
zoom, Home shows the latest bars, End the oldest. Live bars go through update_bar(); only the last
candle (and each study's last point) is rebuilt, so a tick costs the same for 100 or 1,000,000 bars.
The widget never loads data: it emits timeframe_requested and the terminal calls set_bars().
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from core.domain import Fill, Instrument, Order
from core.marketdata.series import BarLike, BarSeries
from core.marketdata.timeframes import Timeframe
from widgets.order_entry import OrderEntry, run_async
from widgets.style import DOWN, MUTED, UP, mono_font

from .candles import CandleItem, VolumeItem
from .order_lines import OrderLine, OrderLineSignals, PositionLine, fill_spots
from .panes import Layer, StudyView, make_pane, time_axis
from .studies import STUDIES, STUDY_BY_KEY, Study
from .time_axis import format_bar_time

log = logging.getLogger(__name__)
DEFAULT_VISIBLE = 150  # bars shown after set_bars / Home
RIGHT_MARGIN = 0.06  # fraction of the visible span left empty right of the last bar
Y_MARGIN = 0.08  # fraction of the high-low span added above and below
PAN_FRACTION = 0.125
ZOOM_FACTOR = 1.25


class ChartWidget(QWidget):
    """A live candlestick chart for one instrument and timeframe."""

    timeframe_requested = Signal(object)  # Timeframe the user picked: load its bars, then call set_bars
    studies_changed = Signal(list)  # study keys now shown (save them in the layout)
    order_error = Signal(str)

    def __init__(self, entry: OrderEntry | None, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.tz = tz
        self.series = BarSeries()
        self._volume_labels = True
        self.instrument: Instrument | None = None
        self.timeframe = Timeframe.M1
        self.studies: dict[str, StudyView] = {}
        self._n = 0
        self._last_start = 0
        self._fit: tuple[tuple[int, int, int], dict[str, tuple[float, float]]] | None = None  # (lo, hi, n), extents
        self._fills: list[Fill] = []
        self._build_header()
        self._build_plots()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(360, 240)

    # construction ------------------------------------------------------------------------------------
    def _build_header(self) -> None:
        self.title = QLabel("—")
        self.title.setStyleSheet("font-weight: bold; font-size: 13px;")
        self.timeframe_box = QComboBox()
        for tf in Timeframe:
            self.timeframe_box.addItem(tf.value, tf)
        self.timeframe_box.setCurrentIndex(self.timeframe_box.findData(self.timeframe))
        self.timeframe_box.currentIndexChanged.connect(self._timeframe_picked)
        self.study_menu = QMenu(self)
        self.study_actions: dict[str, QAction] = {}
        for spec in STUDIES:
            action = self.study_menu.addAction(spec.label if spec.pane is None else f"{spec.label}  (pane)")
            action.setCheckable(True)
            action.toggled.connect(lambda on, key=spec.key: self.show_study(key, on))
            self.study_actions[spec.key] = action
        studies = QToolButton()
        studies.setText("Indicators")
        studies.setMenu(self.study_menu)
        studies.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.readout = QLabel()
        self.readout.setFont(mono_font(9))
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.timeframe_box, studies):
            top.addWidget(w)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.readout)

    def _build_plots(self) -> None:
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(0)
        self.graphics.ci.setContentsMargins(2, 2, 2, 2)
        self.layout().addWidget(self.graphics, 1)  # type: ignore[union-attr]
        self.price_plot = make_pane(self.tz)
        self.volume_plot = make_pane(self.tz, height=40)
        self.panes: dict[str, pg.PlotItem] = {}
        self.candles = Layer(CandleItem(self.series), CandleItem(self.series, lod=False), 1)
        self.volume = Layer(VolumeItem(self.series), VolumeItem(self.series, lod=False), 1)
        for item in self.candles.items:
            self.price_plot.addItem(item)
        for item in self.volume.items:
            self.volume_plot.addItem(item)
        self.volume_plot.setXLink(self.price_plot)
        self.last_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(MUTED, style=Qt.PenStyle.DotLine), label="",
                                         labelOpts={"position": 0.985, "color": "#e6ebf1",
                                                    "fill": pg.mkBrush(47, 129, 247, 200), "anchors": [(1, 0.5), (1, 0.5)]})
        self.position_line = PositionLine()
        self.fill_markers = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#0b0d10", width=1))
        self.signals = OrderLineSignals(self)
        self.signals.modify_requested.connect(self.modify)
        self.signals.cancel_requested.connect(self.cancel)
        self.order_lines: dict[str, OrderLine] = {}
        self.cross_v = {id(plot): _cross_line(90) for plot in (self.price_plot, self.volume_plot)}
        self.cross_h = _cross_line(0)
        for item in (self.last_line, self.position_line, self.fill_markers, self.cross_v[id(self.price_plot)], self.cross_h):
            self.price_plot.addItem(item, ignoreBounds=True)
        self.volume_plot.addItem(self.cross_v[id(self.volume_plot)], ignoreBounds=True)
        self.empty_text = pg.TextItem("No bars", color=MUTED, anchor=(0.5, 0.5))
        self.price_plot.addItem(self.empty_text, ignoreBounds=True)
        self.price_plot.getViewBox().sigXRangeChanged.connect(self._x_changed)
        self._mouse = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved)
        self._relayout()

    def _relayout(self) -> None:
        """Stack price, volume and study panes; only the bottom one shows the time axis."""
        ci = self.graphics.ci
        plots = [self.price_plot, self.volume_plot, *self.panes.values()]
        for plot in plots:
            if plot in ci.items:
                ci.removeItem(plot)
        for row, plot in enumerate(plots):
            ci.addItem(plot, row=row, col=0)
            ci.layout.setRowStretchFactor(row, 6 if row == 0 else (1 if row == 1 else 2))
            plot.showAxis("bottom", row == len(plots) - 1)
            time_axis(plot).set_times(self.series.start_ns, self.tz)

    # data --------------------------------------------------------------------------------------------
    def set_bars(self, series: BarSeries, instrument: Instrument, timeframe: Timeframe) -> None:
        """Show a series (the chart keeps the reference and draws later changes via update_bar/sync)."""
        self.series, self.instrument, self.timeframe = series, instrument, timeframe
        self.title.setText(f"{instrument.symbol}  ·  {instrument.exchange}")
        self.timeframe_box.blockSignals(True)
        self.timeframe_box.setCurrentIndex(self.timeframe_box.findData(timeframe))
        self.timeframe_box.blockSignals(False)
        for layer in (self.candles, self.volume):
            for item in layer.items:
                item.set_series(series)  # type: ignore[attr-defined]
        self._reload()
        self.show_latest(DEFAULT_VISIBLE)

    def update_bar(self, bar: BarLike) -> None:
        """Apply a live bar: the last one changing, or a new one after it."""
        self.series.upsert(int(bar.start_ns), float(bar.open), float(bar.high), float(bar.low), float(bar.close),
                           float(bar.volume))
        self.sync()

    def update_last(self, bar: BarLike) -> None:
        """Apply a change to the last bar (its start must be the last bar's start)."""
        if not self._n or int(bar.start_ns) != self._last_start:
            raise ValueError("update_last needs the start of the last bar")
        self.update_bar(bar)

    def append(self, bar: BarLike) -> None:
        """Add a bar after the last one."""
        if self._n and int(bar.start_ns) <= self._last_start:
            raise ValueError("append needs a bar after the last one")
        self.update_bar(bar)

    def sync(self) -> None:
        """Draw what changed in the series since the last call (for a series its owner writes to)."""
        s, old = self.series, self._n
        n = len(s)
        if old and n >= old and int(s.start_ns[old - 1]) == self._last_start:
            for view in self.studies.values():
                view.study.replace_last(s, old - 1)
            if n == old:
                self._live()
                return
            for row in range(old, n):
                for view in self.studies.values():
                    view.study.append(s, row)
            self._grow(old, n)
        else:
            self._reload()

    def _reload(self) -> None:
        s = self.series
        self._n = len(s)
        self._last_start = int(s.start_ns[-1]) if self._n else 0
        for key, view in list(self.studies.items()):
            view.detach()
            self.studies[key] = StudyView(Study(view.study.spec, s, self.tz), view.plot)
        for layer in self._layers():
            layer.reload(self._n)
        for plot in self._plots():
            time_axis(plot).set_times(s.start_ns, self.tz)
        self._fit = None
        self.empty_text.setVisible(self._n == 0)
        self._refresh_fills()
        self._live()

    def _grow(self, old: int, n: int) -> None:
        s = self.series
        self._n, self._last_start = n, int(s.start_ns[-1])
        for view in self.studies.values():
            view.repoint()
        for layer in self._layers():
            layer.set_length(n)
        for plot in self._plots():
            time_axis(plot).set_times(s.start_ns)
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        if x1 >= old - 1:  # the latest bar was in view: keep following it
            self.price_plot.setXRange(x0 + (n - old), x1 + (n - old), padding=0)
        self._fit = None
        self._refresh_fills()
        self._live()

    def _live(self) -> None:
        """Redraw what depends on the last bar only."""
        for layer in self._layers():
            layer.live()
        if self._n:
            s = self.series
            close, rising = float(s.close[-1]), s.close[-1] >= s.open[-1]
            self.last_line.setValue(close)
            self.last_line.label.setFormat(self._px(close))
            self.last_line.label.fill = pg.mkBrush(UP if rising else DOWN)
            self.last_line.label.update()
            self.readout.setText(self.readout_text(self._n - 1))
        self.last_line.setVisible(self._n > 0)
        self._autoscale()

    def _layers(self) -> list[Layer]:
        return [self.candles, self.volume, *(layer for view in self.studies.values() for layer in view.layers)]

    def _plots(self) -> list[pg.PlotItem]:
        return [self.price_plot, self.volume_plot, *self.panes.values()]

    # studies -----------------------------------------------------------------------------------------
    def show_study(self, key: str, on: bool = True) -> None:
        """Show or hide a study (an overlay on the price plot, or a line in its sub-pane)."""
        spec = STUDY_BY_KEY[key]
        action = self.study_actions[key]
        if action.isChecked() != on:
            action.setChecked(on)  # re-enters through toggled
            return
        if on and key not in self.studies:
            plot = self.price_plot if spec.pane is None else self._pane(spec.pane)
            view = StudyView(Study(spec, self.series, self.tz), plot)
            self.studies[key] = view
            for layer in view.layers:
                layer.reload(self._n)
        elif not on and key in self.studies:
            self.studies.pop(key).detach()
            if spec.pane is not None and not any(v.study.spec.pane == spec.pane for v in self.studies.values()):
                pane = self.panes.pop(spec.pane)
                self.cross_v.pop(id(pane))
                self.graphics.ci.removeItem(pane)
                self._relayout()
        self._fit = None
        self._autoscale()
        self.studies_changed.emit(list(self.studies))

    def _pane(self, name: str) -> pg.PlotItem:
        pane = self.panes.get(name)
        if pane is None:
            pane = self.panes[name] = make_pane(self.tz, height=50)
            pane.setXLink(self.price_plot)
            pane.setLabel("right", name)
            line = self.cross_v[id(pane)] = _cross_line(90)
            pane.addItem(line, ignoreBounds=True)
            self._relayout()
        return pane

    def state(self) -> dict[str, Any]:
        """What a saved layout needs to restore this chart."""
        return {"instrument": str(self.instrument.id) if self.instrument else None,
                "timeframe": self.timeframe.value, "studies": list(self.studies)}

    def restore_studies(self, keys: Sequence[str]) -> None:
        """Show exactly these studies (unknown keys are skipped)."""
        for spec in STUDIES:
            self.show_study(spec.key, spec.key in keys)

    # view --------------------------------------------------------------------------------------------
    def visible_span(self) -> float:
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        return x1 - x0

    def show_latest(self, bars: float | None = None) -> None:
        """Show the last `bars` bars (default: keep the current zoom)."""
        span = max(5.0, bars or self.visible_span())
        right = self._n - 0.5 + span * RIGHT_MARGIN
        self.price_plot.setXRange(right - span, right, padding=0)

    def show_range(self, first: float, last: float) -> None:
        """Show bars first..last (inclusive)."""
        self.price_plot.setXRange(first - 0.5, last + 0.5, padding=0)

    def pan(self, fraction: float) -> None:
        """Move the view by a fraction of its width (negative = back in time)."""
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        shift = (x1 - x0) * fraction
        self.price_plot.setXRange(x0 + shift, x1 + shift, padding=0)

    def zoom(self, factor: float) -> None:
        """Scale the visible span by factor (< 1 zooms in), keeping the latest bar in view if it is."""
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        span = min(max(5.0, (x1 - x0) * factor), max(10.0, self._n * 1.1))
        anchor = x1 if x1 >= self._n - 1 else (x0 + x1) / 2
        ratio = (anchor - x0) / (x1 - x0)
        self.price_plot.setXRange(anchor - span * ratio, anchor + span * (1 - ratio), padding=0)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Left:
            self.pan(-PAN_FRACTION)
        elif key == Qt.Key.Key_Right:
            self.pan(PAN_FRACTION)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1 / ZOOM_FACTOR)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom(ZOOM_FACTOR)
        elif key == Qt.Key.Key_Home:
            self.show_latest()
        elif key == Qt.Key.Key_End:
            self.show_range(0, self.visible_span() - 1)
        else:
            super().keyPressEvent(event)

    def _x_changed(self, *_: object) -> None:
        self._fit = None
        self._autoscale()

    def visible_rows(self) -> tuple[int, int]:
        """Rows [lo, hi) inside the x range."""
        x0, x1 = self.price_plot.getViewBox().viewRange()[0]
        return max(0, math.floor(x0 + 0.5)), min(self._n, math.ceil(x1 + 0.5))

    def _autoscale(self) -> None:
        """Fit y of every pane to its visible rows. Committed rows are scanned once per view change;
        after a tick only the live row is added."""
        lo, hi = self.visible_rows()
        if hi <= lo:
            return
        s = self.series
        if self._fit is None or self._fit[0] != (lo, hi, self._n):
            end = min(hi, self._n - 1)
            extents = {"price": _extent((s.low, s.high), lo, end), "volume": _extent((s.volume,), lo, end)}
            for name in self.panes:
                extents[name] = _extent(self._pane_columns(name), lo, end)
            self._fit = ((lo, hi, self._n), extents)
        extents = dict(self._fit[1])
        if hi == self._n:  # the live bar is in view
            extents["price"] = _union(extents["price"], _extent((s.low, s.high), hi - 1, hi))
            extents["volume"] = _union(extents["volume"], _extent((s.volume,), hi - 1, hi))
            for name in self.panes:
                extents[name] = _union(extents[name], _extent(self._pane_columns(name), hi - 1, hi))
        low, high = extents["price"]
        if math.isfinite(low):
            margin = (high - low) * Y_MARGIN or max(abs(high) * 0.001, 1e-9)
            self.price_plot.setYRange(low - margin, high + margin, padding=0)
        top_volume = extents["volume"][1]
        has_volume = math.isfinite(top_volume) and top_volume > 0  # indices trade no volume: no empty scale
        if has_volume != self._volume_labels:
            self._volume_labels = has_volume
            self.volume_plot.getAxis("right").setStyle(showValues=has_volume)
        self.volume_plot.setYRange(0, top_volume * 1.1 if has_volume else 1.0, padding=0)
        for name, pane in self.panes.items():
            fixed = next((v.study.spec.y_range for v in self.studies.values()
                          if v.study.spec.pane == name and v.study.spec.y_range), None)
            low, high = fixed or extents[name]
            if math.isfinite(low):
                pane.setYRange(low, high, padding=0.08)

    def _pane_columns(self, name: str) -> list[np.ndarray]:
        return [c.values for v in self.studies.values() if v.study.spec.pane == name for c in v.study.columns]

    # crosshair -------------------------------------------------------------------------------------
    def _mouse_moved(self, args: tuple[QPointF]) -> None:
        pos = args[0]
        for plot in self._plots():
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                point = vb.mapSceneToView(pos)
                self.show_crosshair(point.x(), point.y() if plot is self.price_plot else None)
                return

    def show_crosshair(self, x: float, price: float | None) -> None:
        """Put the crosshair on the bar nearest x (and at price on the price plot) and show its readout."""
        if not self._n:
            return
        row = int(min(max(round(x), 0), self._n - 1))
        for line in self.cross_v.values():
            line.setValue(row)
        self.cross_h.setVisible(price is not None)
        if price is not None:
            self.cross_h.setValue(price)
        self.readout.setText(self.readout_text(row))

    def readout_text(self, row: int) -> str:
        """Return 'time  O H L C  V  change %' (rich text) for a bar; change is against the previous close."""
        s = self.series
        o, h, lo, c, v = (float(col[row]) for col in (s.open, s.high, s.low, s.close, s.volume))
        ref = float(s.close[row - 1]) if row > 0 else o
        change = (c - ref) / ref * 100 if ref else 0.0
        colour = (UP if c >= o else DOWN).name()
        when = format_bar_time(int(s.start_ns[row]), self.tz, seconds=self.timeframe.value.endswith("s"))
        values = "  ".join(f"<span style='color:#7d8794'>{k}</span> <span style='color:{colour}'>{self._px(x)}</span>"
                           for k, x in (("O", o), ("H", h), ("L", lo), ("C", c)))
        return (f"<span style='color:#aab2bd'>{when}</span>  {values}  <span style='color:#7d8794'>V</span> "
                f"{_volume(v)}  <span style='color:{colour}'>{change:+.2f}%</span>")

    def _px(self, value: float) -> str:
        decimals = self.instrument.price_decimals if self.instrument else 2
        return f"{value:,.{decimals}f}"

    # orders, position, fills -----------------------------------------------------------------------
    def set_orders(self, orders: Sequence[Order]) -> None:
        """Show the working orders of this chart's instrument as lines (others are ignored)."""
        inst = self.instrument
        wanted = {str(o.client_order_id): o for o in orders
                  if inst is not None and o.instrument_id == inst.id and o.status.is_working and o.price is not None}
        for cid in [c for c in self.order_lines if c not in wanted]:
            self.price_plot.removeItem(self.order_lines.pop(cid))
        for cid, order in wanted.items():
            line = self.order_lines.get(cid)
            if line is None:
                assert inst is not None
                line = self.order_lines[cid] = OrderLine(order, inst, self.signals)
                line.setMovable(self.entry is not None)
                self.price_plot.addItem(line, ignoreBounds=True)
            else:
                line.set_order(order)

    def set_position(self, average_price: Decimal | None, quantity: Decimal) -> None:
        """Show the position's average price line (hidden when flat)."""
        self.position_line.show_position(average_price, quantity, self.instrument.price_decimals if self.instrument else 2)

    def add_fills(self, fills: Sequence[Fill]) -> None:
        """Mark fills of this chart's instrument (repeated trade ids are ignored)."""
        seen = {f.trade_id for f in self._fills}
        inst = self.instrument
        for fill in fills:
            if inst is not None and fill.instrument_id == inst.id and fill.trade_id not in seen:
                seen.add(fill.trade_id)
                self._fills.append(fill)
        self._refresh_fills()

    def _refresh_fills(self) -> None:
        self.fill_markers.setData(spots=fill_spots(self._fills, self.series.start_ns))

    def modify(self, client_order_id: str, price: Decimal) -> None:
        """Ask the trading API to move an order to a price (already on the tick)."""
        if self.entry is not None:
            run_async(self.entry.modify(client_order_id, price=price), self._error)

    def cancel(self, client_order_id: str) -> None:
        if self.entry is not None:
            run_async(self.entry.cancel(client_order_id), self._error)

    def _error(self, exc: BaseException) -> None:
        self.readout.setText(f"<span style='color:{DOWN.name()}'>⚠ {exc}</span>")
        self.order_error.emit(str(exc))

    def _timeframe_picked(self, index: int) -> None:
        timeframe = self.timeframe_box.itemData(index)
        if timeframe is not None and timeframe is not self.timeframe:
            self.timeframe_requested.emit(timeframe)


def _cross_line(angle: int) -> pg.InfiniteLine:
    return pg.InfiniteLine(angle=angle, pen=pg.mkPen("#6b7480", style=Qt.PenStyle.DashLine))


def _extent(columns: Sequence[np.ndarray], lo: int, hi: int) -> tuple[float, float]:
    """Smallest and largest finite value of rows [lo, hi) of the columns; (inf, -inf) if there is none."""
    low, high = math.inf, -math.inf
    for column in columns:
        chunk = column[lo:hi]
        if len(chunk):
            a, b = float(np.fmin.reduce(chunk)), float(np.fmax.reduce(chunk))
            if not math.isnan(a):
                low, high = min(low, a), max(high, b)
    return low, high


def _union(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return min(a[0], b[0]), max(a[1], b[1])


def _volume(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= 10 * size:
            return f"{value / size:,.2f}{suffix}"
    return f"{value:,.4g}" if value < 1000 else f"{value:,.0f}"
