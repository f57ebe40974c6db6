"""Tables declared by a column spec: one model and one view serve every table panel.

A panel lists Columns (title, how to read the value, how to format it, alignment, colour) and calls
set_rows() with its latest rows keyed by a stable id. The model emits the smallest change it can
(changed cells only while the row keys stay the same), remembers which cells changed for the flash
highlight, and the view adds sorting, a filter box, copy (Ctrl+C) and CSV export.
"""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QHeaderView, QLineEdit, QTableView, QVBoxLayout, QWidget

from .style import DOWN, UP, mono_font

R = TypeVar("R")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FLASH_SECONDS = 0.6
_Index = QModelIndex | QPersistentModelIndex


class Align(Enum):
    LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    CENTER = Qt.AlignmentFlag.AlignCenter


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: value() gives the raw value (sorting, export); text() the display string."""

    title: str
    value: Callable[[R], Any]
    text: Callable[[R], str] | None = None
    align: Align = Align.LEFT
    color: Callable[[R], QColor | None] | None = None
    flash: bool = False  # tint the cell up/down for a moment when its value changes
    width: int | None = None

    def cell(self, row: R, role: int) -> Any:
        """What a model returns for this column's cell: text, alignment or colour (None for other roles)."""
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row) if self.text else _plain(self.value(row))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.align.value
        if role == Qt.ItemDataRole.ForegroundRole and self.color is not None:
            return self.color(row)
        return None


def column_header(columns: Sequence[Column[Any]], section: int, orientation: Qt.Orientation, role: int) -> Any:
    """headerData of a model built from columns: the title, aligned like the cells."""
    if orientation != Qt.Orientation.Horizontal:
        return None
    if role == Qt.ItemDataRole.DisplayRole:
        return columns[section].title
    if role == Qt.ItemDataRole.TextAlignmentRole:
        return columns[section].align.value
    return None


def fmt_number(value: Decimal | float | int | None, decimals: int = 2, sign: bool = False) -> str:
    """Format a number with thousands separators and fixed decimals; '' for None/NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:{'+' if sign else ''},.{decimals}f}"


PRICE_DECIMALS = 8  # Binance's finest step (1e-8): no venue's price needs more
_FINEST_STEP = Decimal(1).scaleb(-PRICE_DECIMALS)
_WIDE = Context(prec=60)  # quantizing to 1e-8 must not fail on a large figure (the default keeps 28 digits)


def fmt_price(value: Decimal | float | None) -> str:
    """A price with thousands separators and every decimal it has, at least 2 and at most PRICE_DECIMALS.

    Binance sends '96999.90000000' (shown '96,999.90'); a coin at 0.00001234 must not read '0.00', as fixed
    decimals made it; an average over fills (a long quotient) is rounded to the finest step. '' for None/NaN."""
    if value is None:
        return ""
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not number.is_finite():
        return ""
    number = number.quantize(_FINEST_STEP, ROUND_HALF_EVEN, _WIDE)
    exponent = number.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{number:,.{places}f}"


def signed_color(value: Decimal | float | None) -> QColor | None:
    """Green for positive, red for negative, default otherwise."""
    if value is None or value == 0 or (isinstance(value, float) and value != value):
        return None
    return UP if value > 0 else DOWN


class RowTableModel(QAbstractTableModel, Generic[R]):
    """Rows of any type, keyed by a stable id; see the module docstring."""

    def __init__(self, columns: Sequence[Column[R]], key: Callable[[R], Hashable], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self._rows: list[R] = []
        self._keys: list[Hashable] = []
        self._flash: dict[tuple[Hashable, int], tuple[float, int]] = {}  # (key, col) -> (until, direction)
        self.flash_enabled = True

    # data -------------------------------------------------------------------------------------------
    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def row_of(self, key: Hashable) -> int | None:
        """The index of the row with this key, or None."""
        try:
            return self._keys.index(key)
        except ValueError:
            return None

    def set_rows(self, rows: Sequence[R]) -> None:
        """Replace the rows; emit cell changes when the keys are unchanged, else reset."""
        keys = [self._key(r) for r in rows]
        if keys != self._keys:
            self.beginResetModel()
            old = dict(zip(self._keys, self._rows))
            self._rows, self._keys = list(rows), keys
            self._note_flashes(old)
            self.endResetModel()
            return
        old = dict(zip(self._keys, self._rows))
        changed = [i for i, r in enumerate(rows) if r != self._rows[i]]
        self._rows = list(rows)
        self._note_flashes(old)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(self.columns) - 1))

    def _note_flashes(self, old: dict[Hashable, R]) -> None:
        if not self.flash_enabled:
            return
        until = time.monotonic() + FLASH_SECONDS
        for col, column in enumerate(self.columns):
            if not column.flash:
                continue
            for key, row in zip(self._keys, self._rows):
                before = old.get(key)
                if before is None:
                    continue
                a, b = column.value(before), column.value(row)
                if a is not None and b is not None and a != b:
                    self._flash[(key, col)] = (until, 1 if b > a else -1)

    def flashing(self, row: int, col: int) -> int:
        """+1/-1 while a cell is flashing up/down, else 0."""
        entry = self._flash.get((self._keys[row], col))
        if entry is None:
            return 0
        if entry[0] < time.monotonic():
            del self._flash[(self._keys[row], col)]
            return 0
        return entry[1]

    # Qt model API -----------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        return column_header(self.columns, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role == SORT_ROLE:
            value = column.value(row)
            return float(value) if isinstance(value, Decimal) else value
        if role == Qt.ItemDataRole.BackgroundRole and column.flash:
            direction = self.flashing(index.row(), index.column())
            if direction:
                color = QColor(UP if direction > 0 else DOWN)
                color.setAlpha(70)
                return color
        return column.cell(row, role)

    # export -----------------------------------------------------------------------------------------
    def to_csv(self, rows: Sequence[int] | None = None) -> str:
        """Return the rows (all, or the given indexes) as CSV with a header line."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([c.title for c in self.columns])
        for i in rows if rows is not None else range(len(self._rows)):
            writer.writerow([_plain(c.value(self._rows[i])) for c in self.columns])
        return out.getvalue()


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


class _Proxy(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)

    def lessThan(self, left: _Index, right: _Index) -> bool:  # noqa: N802
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            return a is None and b is not None
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


FIT_COLUMNS_EVERY_MS = 1000


def widen_column_to(view: QTableView, index: QModelIndex) -> None:
    """Widen index's column, if need be, so that cell shows whole (its delegate's margins and font, and the grid
    line, which takes 1 px of the section). Never narrows: a short value must not make a table jump."""
    wanted = view.sizeHintForIndex(index).width() + view.showGrid()
    if wanted > view.columnWidth(index.column()):
        view.setColumnWidth(index.column(), wanted)


class DataTable(QWidget):
    """A RowTableModel in a sortable, filterable view with copy and CSV export."""

    def __init__(self, model: RowTableModel[Any], filter_placeholder: str = "Filter…", parent: QWidget | None = None,
                 fit_every_ms: int = FIT_COLUMNS_EVERY_MS) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = _Proxy()
        self.proxy.setSourceModel(model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(filter_placeholder)
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setFont(mono_font(9))
        self.view.setWordWrap(False)
        self.view.setMinimumHeight(48)  # a header and a row; the view scrolls, docks decide the height
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for i, column in enumerate(model.columns):
            self.view.setColumnWidth(i, column.width or 90)
        self._fit_timer = QTimer(self)  # widen columns whose figures outgrew them, at most once a second
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(fit_every_ms)
        self._fit_timer.timeout.connect(self.fit_columns)
        for signal in (model.modelReset, model.rowsInserted, model.dataChanged):
            signal.connect(self._schedule_fit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)
        QShortcut(QKeySequence.StandardKey.Copy, self.view, activated=self.copy_selection)
        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(200)
        self._flash_timer.timeout.connect(self.view.viewport().update)
        self._flash_timer.start()

    def _schedule_fit(self, *_: object) -> None:
        if not self._fit_timer.isActive():
            self._fit_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Rows that changed while the table was hidden are fitted once it shows."""
        super().showEvent(event)
        self._schedule_fit()

    def fit_columns(self) -> None:
        """Widen every column (but the stretching last one) whose rows on screen no longer fit: a figure is never
        cut to '1,000,000...'. Columns only grow, so a row that leaves does not make the table jump.

        Only the widest text of each column is sized by the view (with its delegate's margins): asking the view
        for whole columns called the model for every role of every cell, 15 ms for a 40-row table."""
        view, proxy = self.view, self.proxy
        rows = proxy.rowCount()
        if not rows or not view.isVisible():
            return
        first = max(view.rowAt(0), 0)
        last = view.rowAt(view.viewport().height() - 1)
        last = rows - 1 if last < 0 else last
        advance = view.fontMetrics().horizontalAdvance
        for col in range(proxy.columnCount() - 1):
            if view.isColumnHidden(col):
                continue
            widest, widest_row = -1, first
            for row in range(first, last + 1):
                text = proxy.index(row, col).data()
                width = advance(text) if isinstance(text, str) else 0
                if width > widest:
                    widest, widest_row = width, row
            widen_column_to(view, proxy.index(widest_row, col))

    def selected_rows(self) -> list[Any]:
        """Return the model rows currently selected (in view order)."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row_at(r) for r in rows]

    def current_row(self) -> Any | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())

    def select_key(self, key: Hashable) -> bool:
        """Make the row with this key current and selected (False if it is not shown)."""
        row = self.model.row_of(key)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.selectRow(index.row())
        return True

    def copy_selection(self) -> str:
        """Copy the selected rows as CSV to the clipboard; return the text."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        text = self.model.to_csv(rows)
        QGuiApplication.clipboard().setText(text)
        return text

    def export_csv(self, path: Path | None = None) -> Path | None:
        """Write every row to a CSV file (asks for the path when none is given)."""
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "Export CSV", "", "CSV (*.csv)")
            if not name:
                return None
            path = Path(name)
        path.write_text(self.model.to_csv(), encoding="utf-8")
        return path
