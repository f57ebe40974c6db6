"""Table model of a ChainSnapshot: call columns mirrored left of the strike, put columns right."""
from __future__ import annotations

from math import isnan
from collections.abc import Callable
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
_CENTRE = Qt.AlignmentFlag.AlignCenter
_SIGNED = frozenset({"change", "oi_change"})  # coloured by sign
_BLANK = CellLook("", _RIGHT)  # placeholder before a reset fills the looks
STRIKE_BG = QColor(60, 66, 76, 120)


class ChainTableModel(QAbstractTableModel):
    """Columns: calls (FIELDS order), Strike, puts (FIELDS reversed), so bid/ask sit next to the strike.

    Each snapshot is formatted once into CellLooks; data() and the LookTableView read them, and a new
    snapshot over the same strikes emits dataChanged only for the cells whose look changed, so the view
    repaints those cells, not the whole chain.

    The update goes column by column: comparing the raw values (and the ITM/ATM marks) picks the rows to
    redo, their text comes from a formatter made once per column, and a CellLook is built only where the
    text, colours or weight differ. Changed cells are emitted as rectangles (a run of adjacent
    columns, extended down the rows that changed the same run) through createIndex, which skips the
    binding's Python rowCount/columnCount calls that index() makes. On a busy tape (every option requoted
    between frames, +-10 strikes) this took set_snapshot from 1.6 to 0.5 ms. The tests hold the cached
    looks to a cell-by-cell reference."""

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
        self._looks: list[list[CellLook]] = []  # by column, then row
        self._formats: list[Callable[[float], str]] = [_formatter(field, decimals) for _, field, _, decimals in self.column_specs]

    def set_snapshot(self, snapshot: ChainSnapshot) -> None:
        old = self.snapshot
        if old is None or not np.array_equal(old.strikes, snapshot.strikes):
            self.beginResetModel()
            self.snapshot = snapshot
            self._looks = [[_BLANK] * len(snapshot.strikes) for _ in self.column_specs]
            self._restyle(None, snapshot)
            self.endResetModel()
            return
        self.snapshot = snapshot
        self._emit_changed(self._restyle(old, snapshot))

    def _restyle(self, old: ChainSnapshot | None, new: ChainSnapshot) -> list[list[int]]:
        """Update the cached looks from old to new (None: every cell); return the changed rows of each column.

        A side whose ATM row and ITM shading stayed put keeps each cell's background and weight, so only
        the cells whose value moved are formatted. The values are compared as Python floats: for ~20 rows
        that is cheaper than the half-dozen NumPy calls a column would take."""
        n, atm = len(new.strikes), new.atm_index
        changed: list[list[int]] = [[] for _ in self.column_specs]
        restyle = old is None or old.atm_index != atm
        # backgrounds of a side whose shading must be redone, None where every cell keeps its own
        backgrounds: dict[OptionRight | None, list[QColor | None] | None] = {
            None: [ATM_BG if r == atm else STRIKE_BG for r in range(n)] if restyle else None}
        for right in OptionRight:
            itm = new.itm(right).tolist()
            redo = restyle or old is None or itm != old.itm(right).tolist()
            backgrounds[right] = [ATM_BG if r == atm else ITM_BG if i else None for r, i in enumerate(itm)] if redo else None
        for col, (right, field, _, _) in enumerate(self.column_specs):
            bgs = backgrounds[right]
            if right is None and bgs is None:
                continue  # same strikes, same ATM row
            values, fmt, column = _values(new, right, field).tolist(), self._formats[col], self._looks[col]
            signed = field in _SIGNED
            if bgs is None:
                previous = _values(old, right, field).tolist()  # type: ignore[arg-type]
                for row, (value, before) in enumerate(zip(values, previous)):
                    if value == before or (value != value and before != before):  # unchanged, or NaN both times
                        continue
                    text, cur = fmt(value), column[row]
                    fg = _sign_colour(value) if signed else None
                    if text != cur.text or fg is not cur.foreground:
                        column[row] = CellLook(text, cur.align, cur.background, fg, cur.bold)
                        changed[col].append(row)
                continue
            align = _RIGHT if right is not None else _CENTRE
            for row, value in enumerate(values):
                text, bg = fmt(value), bgs[row]
                fg = _sign_colour(value) if signed else None
                bold = right is None or row == atm
                cur = column[row]
                if text != cur.text or bg is not cur.background or fg is not cur.foreground or bold is not cur.bold:
                    column[row] = CellLook(text, align, bg, fg, bold)
                    changed[col].append(row)
        return changed

    def _emit_changed(self, changed: list[list[int]]) -> None:
        """Emit one dataChanged per rectangle of changed cells: a run of adjacent rows of a column, widened
        over the following columns whose run is the same (e.g. bid, ask and LTP of the same strikes). Column
        by column, as the values move, a busy frame takes ~60 rectangles (row by row: ~75)."""
        open_runs: dict[tuple[int, int], int] = {}  # (first row, last row) -> first column
        emit, index = self.dataChanged.emit, self.createIndex
        for col, rows in enumerate([*changed, []]):  # the empty last column closes every rectangle
            runs: list[tuple[int, int]] = []
            if rows:
                start = prev = rows[0]
                for row in rows[1:]:
                    if row != prev + 1:
                        runs.append((start, prev))
                        start = row
                    prev = row
                runs.append((start, prev))
            following = {run: open_runs.pop(run, col) for run in runs}
            for (top, bottom), first in open_runs.items():
                emit(index(top, first), index(bottom, col - 1))
            open_runs = following

    def look(self, row: int, col: int) -> CellLook | None:
        """The cached look of a cell (for the LookTableView)."""
        return self._looks[col][row] if self._looks and row < len(self._looks[0]) else None

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
        look = self._looks[index.column()][index.row()]
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


def _formatter(field: str, decimals: int) -> Callable[[float], str]:
    """The text of a column's cells, with the field's branches decided once (a busy chain formats ~400 cells
    a frame): blank or a dash where there is no value, Indian units for counts, IV in percent."""
    if field == "strike":
        return lambda value: f"{value:,.0f}"
    blank = "–" if field in ("ltp", "bid", "ask") else ""
    if field in COMPACT:
        signed = field == "oi_change"
        return lambda value: blank if isnan(value) else indian_compact(value, signed)
    spec = f"{'+' if field == 'change' else ''},.{decimals}f"
    scale = 100.0 if field == "iv" else None
    if scale is not None:
        return lambda value: blank if isnan(value) else format(value * scale, spec)
    return lambda value: blank if isnan(value) else format(value, spec)


def _sign_colour(value: float) -> QColor | None:
    return None if isnan(value) or value == 0 else UP if value > 0 else DOWN
