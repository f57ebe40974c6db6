"""Table model of a ChainSnapshot: call columns mirrored left of the strike, put columns right."""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from core.chain.model import ChainSnapshot
from core.domain import OptionRight
from widgets.style import ATM_BG, DOWN, ITM_BG, UP

# (field, title, decimals)
FIELDS: tuple[tuple[str, str, int], ...] = (
    ("oi_change", "ΔOI", 0), ("oi", "OI", 0), ("volume", "Volume", 0), ("iv", "IV %", 2), ("delta", "Delta", 3),
    ("gamma", "Gamma", 5), ("theta", "Theta", 2), ("vega", "Vega", 2), ("change", "Chg", 2), ("ltp", "LTP", 2),
    ("bid", "Bid", 2), ("ask", "Ask", 2),
)
DEFAULT_HIDDEN = frozenset({"gamma", "vega", "theta", "change"})  # all four a right-click away (column chooser)
COMPACT = frozenset({"oi", "oi_change", "volume"})  # shown in Indian units (K, L, Cr) as Kite does; full value in the tooltip


def indian_compact(value: float, signed: bool = False) -> str:
    """Format a count the way Indian traders read OI and volume: 7.5K, 2.54L (lakh), 1.23Cr (crore)."""
    sign = "+" if signed and value > 0 else "-" if value < 0 else ""
    size = abs(value)
    for unit, scale, places in (("Cr", 1e7, 2), ("L", 1e5, 2), ("K", 1e3, 1)):
        if round(size / scale, places) >= 1:  # decided after rounding: 99,999 reads 1.00L, not 100.0K
            return f"{sign}{size / scale:.{places}f}{unit}"
    return f"{sign}{size:.0f}"
_Index = QModelIndex | QPersistentModelIndex


class ChainTableModel(QAbstractTableModel):
    """Columns: calls (FIELDS order), Strike, puts (FIELDS reversed), so bid/ask sit next to the strike."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: ChainSnapshot | None = None
        n = len(FIELDS)
        self.column_specs: list[tuple[OptionRight | None, str, str, int]] = (
            [(OptionRight.CALL, f, t, d) for f, t, d in FIELDS] + [(None, "strike", "Strike", 0)]
            + [(OptionRight.PUT, f, t, d) for f, t, d in reversed(FIELDS)])
        self.strike_column = n
        self.bold = QFont()
        self.bold.setBold(True)

    def set_snapshot(self, snapshot: ChainSnapshot) -> None:
        same_rows = self.snapshot is not None and np.array_equal(self.snapshot.strikes, snapshot.strikes)
        if same_rows:
            self.snapshot = snapshot
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
        else:
            self.beginResetModel()
            self.snapshot = snapshot
            self.endResetModel()

    def column_of(self, right: OptionRight | None, field: str) -> int:
        return next(i for i, (r, f, _, _) in enumerate(self.column_specs) if r is right and f == field)

    def cell(self, row: int, col: int) -> tuple[OptionRight | None, str, float]:
        """(side, field, value) of a cell."""
        assert self.snapshot is not None
        right, field, _, _ = self.column_specs[col]
        if right is None:
            return None, "strike", float(self.snapshot.strikes[row])
        side = self.snapshot.calls if right is OptionRight.CALL else self.snapshot.puts
        return right, field, float(side[field][row])

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self.snapshot is None else len(self.snapshot.strikes)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.column_specs)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.column_specs[section][2]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            right = self.column_specs[section][0]
            return "" if right is None else ("Calls" if right is OptionRight.CALL else "Puts")
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        snap = self.snapshot
        if snap is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        right, field, _, decimals = self.column_specs[col]
        if role == Qt.ItemDataRole.DisplayRole:
            _, _, value = self.cell(row, col)
            if np.isnan(value):
                return "–" if field in ("ltp", "bid", "ask") else ""
            if field == "iv":
                value *= 100
            if field in COMPACT:
                return indian_compact(value, signed=field == "oi_change")
            sign = "+" if field == "change" else ""
            return f"{value:{sign},.{decimals}f}"
        if role == Qt.ItemDataRole.ToolTipRole and field in COMPACT:
            _, _, value = self.cell(row, col)
            return "" if np.isnan(value) else f"{value:,.0f}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter if right is None else Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.BackgroundRole:
            if row == snap.atm_index:
                return ATM_BG
            if right is not None and bool(snap.itm(right)[row]):
                return ITM_BG
            if right is None:
                return QColor(60, 66, 76, 120)
        if role == Qt.ItemDataRole.ForegroundRole and field in ("change", "oi_change"):
            _, _, value = self.cell(row, col)
            return None if np.isnan(value) or value == 0 else UP if value > 0 else DOWN
        if role == Qt.ItemDataRole.FontRole and (right is None or row == snap.atm_index):
            return self.bold
        return None
