"""Option chain panel: expiry selector, summary line, the chain table, and the IV smile/term structure.

Click (or Enter on) a call/put Ask to buy it, a Bid to sell it: the ticket opens pre-filled at that
price. Right-click the header to choose columns. Refreshes on a frame timer from MarketState.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QSpinBox, QSplitter, QVBoxLayout,
                               QWidget)

from core.chain.model import ChainSnapshot, OptionChainModel
from core.domain import OptionRight, Side
from core.marketdata.state import MarketState
from widgets.cell_paint import LookTableView
from widgets.frame_timer import screen_timer
from widgets.live_label import LiveLabel
from widgets.plot_grid import show_grid
from widgets.style import BUY, SELL, mono_font

from .table_model import DEFAULT_HIDDEN, ChainTableModel

log = logging.getLogger(__name__)
PLOT_EVERY_S = 1.0  # the smile and the term structure (every expiry priced) redraw at most this often


class OptionChainPanel(QWidget):
    ticket_requested = Signal(object, object, object)  # InstrumentId, Side, Decimal price
    legs_picked = Signal(object, object)  # InstrumentId, Side (for the strategy builder)

    def __init__(self, chains: dict[str, OptionChainModel], market: MarketState, frame_hz: float = 4.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chains = chains
        self.market = market
        self.snapshot: ChainSnapshot | None = None
        self.underlying_box = QComboBox()
        self.underlying_box.addItems(list(chains))
        self.underlying_box.currentTextChanged.connect(lambda _: self.reload_expiries())
        self.expiry_box = QComboBox()
        # sized to its dates whenever they change: the box is empty when first shown, before the catalog loads
        self.expiry_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.expiry_box.currentIndexChanged.connect(lambda _: self.refresh())
        self.count_box = QSpinBox()
        self.count_box.setRange(3, 50)
        self.count_box.setValue(10)
        self.count_box.setPrefix("± ")
        self.count_box.setSuffix(" strikes")
        self.count_box.valueChanged.connect(lambda _: self.refresh())
        self.summary = LiveLabel("Waiting for data…")
        self.summary.setFont(mono_font(9))
        self.model = ChainTableModel()
        self.table = LookTableView(self.model.look)
        self.table.setModel(self.model)
        self.model.modelReset.connect(self._apply_hidden)  # after the view's own handler: a reset unhides columns
        self.table.setFont(mono_font(9))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(21)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(36)
        self.table.setMinimumWidth(300)
        self.table.horizontalHeader().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.horizontalHeader().customContextMenuRequested.connect(self._column_menu)
        self.table.clicked.connect(self._clicked)
        self.table.installEventFilter(self)
        self.hidden: set[str] = set(DEFAULT_HIDDEN)
        self._smile_at, self._plotted_expiry = 0.0, None
        self.smile = pg.PlotWidget()
        self.smile.setMinimumSize(120, 90)
        self.smile.setMaximumHeight(150)
        show_grid(self.smile, 0.2)
        self.smile.setLabel("left", "IV %")
        self.smile.setLabel("bottom", "Strike")
        self.smile.addLegend(offset=(10, 5))
        self.call_curve = self.smile.plot([], [], pen=pg.mkPen(BUY, width=2), symbol="o", symbolSize=4, name="Calls")
        self.put_curve = self.smile.plot([], [], pen=pg.mkPen(SELL, width=2), symbol="o", symbolSize=4, name="Puts")
        self.term = pg.PlotWidget()
        self.term.setMinimumSize(120, 90)
        self.term.setMaximumHeight(150)
        show_grid(self.term, 0.2)
        self.term.setLabel("left", "ATM IV %")
        self.term.setLabel("bottom", "Days to expiry")
        self.term_curve = self.term.plot([], [], pen=pg.mkPen("#2f81f7", width=2), symbol="o", symbolSize=6)
        top = QHBoxLayout()
        for w in (QLabel("Underlying"), self.underlying_box, QLabel("Expiry"), self.expiry_box, self.count_box):
            top.addWidget(w)
        top.addStretch(1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.smile)
        plots.addWidget(self.term)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(plots)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 2)
        split.setSizes([400, 160])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.reload_expiries()
        self._timer = screen_timer(self, frame_hz, self.refresh, when_hidden=lambda: self.snapshot is None)
        self._term_timer = screen_timer(self, 1 / PLOT_EVERY_S, self.refresh_term_structure)

    @property
    def chain(self) -> OptionChainModel | None:
        return self.chains.get(self.underlying_box.currentText())

    def reload_expiries(self) -> None:
        """List the chosen underlying's expiries (again: call when the catalog has changed) and refresh."""
        chain = self.chain
        self.expiry_box.blockSignals(True)
        self.expiry_box.clear()
        if chain is not None:
            for expiry in chain.expiries():
                self.expiry_box.addItem(f"{expiry:%d %b %Y}", expiry)
        self.expiry_box.blockSignals(False)
        self.refresh()
        self.refresh_term_structure()

    def refresh(self) -> None:
        """Recompute the chain for the chosen expiry and update the table and summary; the smile at most
        once a second (the term structure, a snapshot of every expiry, has its own timer)."""
        chain, expiry = self.chain, self.expiry_box.currentData()
        if chain is None or not isinstance(expiry, datetime):
            return
        chain.strikes_each_side = self.count_box.value()
        try:
            snap = chain.snapshot(expiry, self.market.ticks)
        except ValueError as exc:
            self.summary.setText(str(exc))
            return
        self.snapshot = snap
        self.model.set_snapshot(snap)
        basis = f"{snap.basis:+,.2f}" if snap.basis is not None else "–"
        self.summary.setText(
            f"{chain.underlying}  spot {_n(snap.spot)}   fut {_n(snap.future)}   basis {basis}   "
            f"PCR {_n(snap.pcr, 2)}   max pain {_n(snap.max_pain, 0)}   ATM IV {_n(snap.atm_iv * 100, 2)}%   "
            f"T {snap.t_years * 365:.2f} d")
        now = time.monotonic()
        if now - self._smile_at >= PLOT_EVERY_S or self._plotted_expiry != expiry:
            self._smile_at, self._plotted_expiry = now, expiry
            for curve, ivs in ((self.call_curve, snap.calls["iv"]), (self.put_curve, snap.puts["iv"])):
                _plot_smile(curve, snap.strikes, ivs * 100)
            _settle(self.smile)

    def refresh_term_structure(self) -> None:
        """Plot the ATM IV of every expiry (its own frame, so it never adds to a chain refresh)."""
        chain = self.chain
        if chain is None:
            return
        atm_only = replace(chain, strikes_each_side=0)  # the ATM IV needs the ATM strike alone: one row per expiry
        days, ivs = [], []
        for i in range(self.expiry_box.count()):
            expiry = self.expiry_box.itemData(i)
            try:
                snap = self.snapshot if self.snapshot and self.snapshot.expiry == expiry else atm_only.snapshot(expiry, self.market.ticks)
            except ValueError:
                continue
            if not np.isnan(snap.atm_iv):
                days.append(snap.t_years * 365)
                ivs.append(snap.atm_iv * 100)
        self.term_curve.setData(days, ivs)
        _settle(self.term)

    # columns --------------------------------------------------------------------------------------
    def _apply_hidden(self) -> None:
        for col, (right, field, _, _) in enumerate(self.model.column_specs):
            self.table.setColumnHidden(col, right is not None and field in self.hidden)

    def _column_menu(self, pos: object) -> None:
        menu = QMenu(self)
        for field, title, _ in sorted({(f, t, d) for _, f, t, d in self.model.column_specs if f != "strike"}, key=lambda x: x[1]):
            action = QAction(title, menu, checkable=True, checked=field not in self.hidden)
            action.toggled.connect(lambda on, f=field: self.set_column_visible(f, on))
            menu.addAction(action)
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))  # type: ignore[arg-type]

    def set_column_visible(self, field: str, visible: bool) -> None:
        (self.hidden.discard if visible else self.hidden.add)(field)
        self._apply_hidden()

    # trading --------------------------------------------------------------------------------------
    def _clicked(self, index: QModelIndex) -> None:
        self.trade_cell(index.row(), index.column())

    def trade_cell(self, row: int, col: int) -> bool:
        """Open a ticket for a bid/ask cell: buy at the ask, sell at the bid. Return True if it did."""
        snap = self.snapshot
        if snap is None:
            return False
        right, field, value = self.model.cell(row, col)
        if right is None or field not in ("bid", "ask") or np.isnan(value):
            return False
        side_data = snap.calls if right is OptionRight.CALL else snap.puts
        iid = side_data.ids[row]
        if iid is None:
            return False
        side = Side.BUY if field == "ask" else Side.SELL
        self.ticket_requested.emit(iid, side, Decimal(str(round(value, 2))))
        self.legs_picked.emit(iid, side)
        return True

    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802
        if obj is self.table and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            index = self.table.currentIndex()
            return index.isValid() and self.trade_cell(index.row(), index.column())
        return False


def _n(value: float | None, decimals: int = 2) -> str:
    return "–" if value is None or np.isnan(value) else f"{value:,.{decimals}f}"


def _settle(plot: pg.PlotWidget) -> None:
    """Fit the auto range to new data now, so the axes change before the repaint rather than during it
    (pyqtgraph fits at paint time and then asks for a second paint)."""
    plot.getViewBox().updateAutoRange()


def _plot_smile(curve: pg.PlotDataItem, strikes: np.ndarray, ivs: np.ndarray) -> None:
    """Plot the IVs that exist; with none yet (no quotes) clear the curve rather than plot NaN everywhere."""
    finite = np.isfinite(ivs)
    if finite.any():
        curve.setData(strikes, ivs, connect="finite")
    else:
        curve.setData([], [])
