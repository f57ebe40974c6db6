"""Time and sales: the public trades of one instrument, newest first, in a bounded tape.

New prints are inserted at the top in one beginInsertRows per refresh and the oldest dropped past the
capacity, so the view never resets and a busy feed costs one small model change per frame. Rows are
coloured by aggressor (buyer green, seller red); prints at or above a size threshold are highlighted.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from core.domain import Instrument, Side, TradePrint
from core.marketdata.state import MarketState
from widgets.frame_timer import screen_timer
from widgets.style import BUY, SELL, WARN, mono_font
from widgets.table import Align, Column, column_header, widen_column_to

_Index = QModelIndex | QPersistentModelIndex
SIDE_LABELS = {Side.BUY: "Buy", Side.SELL: "Sell", None: ""}
BIG_BG = QColor(240, 180, 41, 60)


def print_time(ts_ns: int, tz: tzinfo) -> str:
    """HH:MM:SS.mmm in the venue's zone."""
    ms = ts_ns // 1_000_000
    return f"{datetime.fromtimestamp(ms // 1000, tz):%H:%M:%S}.{ms % 1000:03d}"


class TapeModel(QAbstractTableModel):
    """The newest `capacity` prints, newest in row 0."""

    def __init__(self, instrument: Instrument | None, tz: tzinfo, capacity: int = 500,
                 big_quantity: Decimal | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.instrument, self.tz, self.capacity, self.big_quantity = instrument, tz, capacity, big_quantity
        self._rows: list[TradePrint] = []
        self.columns: list[Column[TradePrint]] = [
            Column("Time", lambda t: t.ts_ns, lambda t: print_time(t.ts_ns, self.tz), Align.LEFT),
            Column("Price", lambda t: t.price, lambda t: f"{t.price:,.{self._price_decimals}f}", Align.RIGHT,
                   _side_colour),
            Column("Qty", lambda t: t.quantity, lambda t: f"{t.quantity:,.{self._qty_decimals}f}",
                   Align.RIGHT),
            Column("Side", lambda t: t.aggressor, lambda t: SIDE_LABELS[t.aggressor], Align.CENTER, _side_colour),
        ]

    @property
    def _price_decimals(self) -> int:
        return self.instrument.price_decimals if self.instrument else 2

    @property
    def _qty_decimals(self) -> int:
        return min(self.instrument.quantity_decimals, 6) if self.instrument else 4

    def prints(self) -> list[TradePrint]:
        """The rows, newest first."""
        return list(self._rows)

    def add_trades(self, trades: Iterable[TradePrint]) -> None:
        """Insert prints (given oldest first) at the top and drop the oldest beyond the capacity."""
        fresh = list(trades)[-self.capacity:]
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[:0] = reversed(fresh)
        self.endInsertRows()
        if len(self._rows) > self.capacity:
            self.beginRemoveRows(QModelIndex(), self.capacity, len(self._rows) - 1)
            del self._rows[self.capacity:]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def set_big_quantity(self, quantity: Decimal | None) -> None:
        """Highlight prints of at least this quantity (None: none)."""
        self.big_quantity = quantity
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1))

    def is_big(self, trade: TradePrint) -> bool:
        return self.big_quantity is not None and trade.quantity >= self.big_quantity

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        return column_header(self.columns, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        trade, column = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and self.is_big(trade):
            return BIG_BG
        if role == Qt.ItemDataRole.FontRole and self.is_big(trade):
            font = QFont()
            font.setBold(True)
            return font
        return column.cell(trade, role)


def _side_colour(trade: TradePrint) -> QColor | None:
    return {Side.BUY: BUY, Side.SELL: SELL}.get(trade.aggressor)  # type: ignore[arg-type]


class TimeAndSalesPanel(QWidget):
    """The tape of one instrument, read from MarketState on a frame timer."""

    def __init__(self, market: MarketState, instrument: Instrument | None, tz: tzinfo, capacity: int = 500,
                 big_quantity: Decimal | None = None, frame_hz: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.market = market
        self.model = TapeModel(instrument, tz, capacity, big_quantity, self)
        self._last: TradePrint | None = None
        self.title = QLabel(f"{instrument.symbol} — time & sales" if instrument else "Time & sales")
        self.big_edit = QLineEdit("" if big_quantity is None else f"{big_quantity.normalize():f}")
        self.big_edit.setPlaceholderText("size")
        self.big_edit.setMaximumWidth(90)
        self.big_edit.setToolTip("Highlight prints of at least this quantity")
        self.big_edit.editingFinished.connect(self._big_changed)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setFont(mono_font(9))
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(19)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)  # sized to the times below
        self.view.setWordWrap(False)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(QLabel("Big ≥"))
        top.addWidget(self.big_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._timer = screen_timer(self, frame_hz, self.refresh)

    def set_instrument(self, instrument: Instrument, tz: tzinfo | None = None) -> None:
        """Show another instrument's tape (starting empty), with times in its venue's zone."""
        self.model.instrument = instrument
        if tz is not None:
            self.model.tz = tz
        self.model.clear()
        self.title.setText(f"{instrument.symbol} — time & sales")
        self._last = None
        self.refresh()

    def refresh(self) -> None:
        """Add the prints that arrived since the last refresh."""
        if self.model.instrument is None:
            return
        trades = self.market.trades.get(self.model.instrument.id)
        if not trades or trades[-1] is self._last:
            return
        fresh: list[TradePrint] = []
        for trade in reversed(trades):
            if trade is self._last:
                break
            fresh.append(trade)
        self._last = trades[-1]
        self.model.add_trades(reversed(fresh))
        # times have one width, so the newest print's sizes the column (bold if it is big); the header's
        # ResizeToContents had sized it while the tape was empty, to its title, and times read '12:2…'
        widen_column_to(self.view, self.model.index(0, 0))

    def _big_changed(self) -> None:
        text = self.big_edit.text().strip().replace(",", "")
        try:
            self.model.set_big_quantity(Decimal(text) if text else None)
        except InvalidOperation:
            self.big_edit.setText("")
            self.model.set_big_quantity(None)
