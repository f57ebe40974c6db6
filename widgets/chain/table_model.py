"""Table model of a ChainSnapshot: call columns mirrored left of the strike, put columns right."""
from __future__ import annotations

from math import isnan
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from core.chain.model import ChainSnapshot
from core.domain import OptionRight
from widgets.cell_paint import CellLook
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
_DISPLAY, _TOOLTIP, _ALIGN = int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.ToolTipRole), int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND, _FOREGROUND, _FONT = int(Qt.ItemDataRole.BackgroundRole), int(Qt.ItemDataRole.ForegroundRole), int(Qt.ItemDataRole.FontRole)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
STRIKE_BG = QColor(60, 66, 76, 120)


class ChainTableModel(QAbstractTableModel):
    """Columns: calls (FIELDS order), Strike, puts (FIELDS reversed), so bid/ask sit next to the strike.

    Each snapshot is formatted once into CellLooks; data() and the LookDelegate read them, and a new
    snapshot over the same strikes emits dataChanged only for the runs of cells whose look changed, so
    the view repaints those cells, not the whole chain."""

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
        self._looks: list[list[CellLook]] = []

    def set_snapshot(self, snapshot: ChainSnapshot) -> None:
        old = self.snapshot
        if old is None or not np.array_equal(old.strikes, snapshot.strikes):
            self.beginResetModel()
            self.snapshot = snapshot
            self._looks = [[_look(snapshot, spec, row) for spec in self.column_specs] for row in range(len(snapshot.strikes))]
            self.endResetModel()
            return
        self.snapshot = snapshot
        changed: dict[int, list[int]] = {}
        for col, spec in enumerate(self.column_specs):
            for row in _rows_to_redo(old, snapshot, spec[0], spec[1]):
                look = _look(snapshot, spec, row)
                if look != self._looks[row][col]:
                    self._looks[row][col] = look
                    changed.setdefault(row, []).append(col)
        for row, cols in changed.items():
            start = prev = cols[0]
            for col in cols[1:] + [-1]:
                if col != prev + 1:  # a run of adjacent changed cells ends: one rectangle to repaint
                    self.dataChanged.emit(self.index(row, start), self.index(row, prev))
                    start = col
                prev = col

    def look(self, row: int, col: int) -> CellLook | None:
        """The cached look of a cell (for the LookDelegate)."""
        return self._looks[row][col] if row < len(self._looks) else None

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
        if not self._looks or not index.isValid():
            return None
        look = self._looks[index.row()][index.column()]
        if role == _DISPLAY:
            return look.text
        if role == _ALIGN:
            return look.align
        if role == _BACKGROUND:
            return look.background
        if role == _FOREGROUND:
            return look.foreground
        if role == _FONT:
            return self.bold if look.bold else None
        if role == _TOOLTIP and self.column_specs[index.column()][1] in COMPACT:
            value = self.cell(index.row(), index.column())[2]
            return "" if np.isnan(value) else f"{value:,.0f}"
        return None


def _values(snap: ChainSnapshot, right: OptionRight | None, field: str) -> np.ndarray:
    return snap.strikes if right is None else (snap.calls if right is OptionRight.CALL else snap.puts)[field]


def _rows_to_redo(old: ChainSnapshot, new: ChainSnapshot, right: OptionRight | None, field: str) -> list[int]:
    """Rows of a column whose value, ITM shading or ATM mark moved between two snapshots of the same strikes."""
    before, after = _values(old, right, field), _values(new, right, field)
    moved = ~((before == after) | (np.isnan(before) & np.isnan(after)))
    if right is not None:
        moved |= old.itm(right) != new.itm(right)
    rows = np.flatnonzero(moved).tolist()
    if old.atm_index != new.atm_index:
        rows += [old.atm_index, new.atm_index]
    return rows


def _look(snap: ChainSnapshot, spec: tuple[OptionRight | None, str, str, int], row: int) -> CellLook:
    """Format one cell: text, alignment, background (ATM row, ITM side, strike), colour and weight."""
    right, field, _, decimals = spec
    value = float(_values(snap, right, field)[row])
    atm = row == snap.atm_index
    if right is None:
        return CellLook(f"{value:,.0f}", Qt.AlignmentFlag.AlignCenter, ATM_BG if atm else STRIKE_BG, None, True)
    strike = snap.strikes[row]
    itm = strike < snap.forward if right is OptionRight.CALL else strike > snap.forward
    return CellLook(_text(field, decimals, value), _RIGHT, ATM_BG if atm else ITM_BG if itm else None,
                    _sign_colour(value) if field in ("change", "oi_change") else None, atm)


def _text(field: str, decimals: int, value: float) -> str:
    if isnan(value):
        return "–" if field in ("ltp", "bid", "ask") else ""
    if field == "iv":
        value *= 100
    if field in COMPACT:
        return indian_compact(value, signed=field == "oi_change")
    return f"{value:{'+' if field == 'change' else ''},.{decimals}f}"


def _sign_colour(value: float) -> QColor | None:
    return None if isnan(value) or value == 0 else UP if value > 0 else DOWN
