"""LookTableView paints the plain cells itself: it must put the pixels QTableView and its standard delegate put,
on a full paint and on the partial repaints that dataChanged and scrolling ask for, and leave the special cells
(selected, current, elided, without a look) to the standard delegate."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QCursor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QStyleOptionViewItem, QTableView, QWidget
from pytestqt.qtbot import QtBot

from widgets.cell_paint import CellLook, LookTableView
from widgets.style import ATM_BG, DOWN, ITM_BG, UP, load_theme, mono_font

_Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ROWS, COLUMNS = 40, 7
LONG_COLUMN, HIDDEN_COLUMN, NO_LOOK = 5, 3, (4, 1)


class Looks(QAbstractTableModel):
    """A grid of CellLooks; data() answers from them, as ChainTableModel does, for the standard path."""

    def __init__(self, looks: list[list[CellLook | None]]) -> None:
        super().__init__()
        self.looks = looks

    def look(self, row: int, col: int) -> CellLook | None:
        return self.looks[row][col]

    def set_look(self, row: int, col: int, look: CellLook) -> None:
        self.looks[row][col] = look
        self.dataChanged.emit(self.index(row, col), self.index(row, col))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.looks)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else COLUMNS

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        look = self.looks[index.row()][index.column()]
        if look is None:
            return "no look" if role == Qt.ItemDataRole.DisplayRole else None
        bold = QFont()
        bold.setBold(True)
        return {Qt.ItemDataRole.DisplayRole: look.text, Qt.ItemDataRole.TextAlignmentRole: look.align,
                Qt.ItemDataRole.BackgroundRole: look.background, Qt.ItemDataRole.ForegroundRole: look.foreground,
                Qt.ItemDataRole.FontRole: bold if look.bold else None}.get(role)  # type: ignore[call-overload]


def random_look(rng: np.random.Generator, col: int) -> CellLook:
    """A look as the chain has them: numbers right-aligned, some shaded (translucent), coloured or bold, a centred
    column, a left-aligned one, and a column of long texts."""
    text = f"{rng.uniform(-5e4, 5e4):,.{int(rng.integers(0, 4))}f}"
    if col == LONG_COLUMN:
        text = "a long text that does not fit " * int(rng.integers(0, 2)) + text
    align = Qt.AlignmentFlag.AlignCenter if col == 2 else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter \
        if col == 6 else RIGHT
    background = [None, None, ITM_BG, ATM_BG, QColor(60, 66, 76)][int(rng.integers(0, 5))]
    foreground = [None, None, UP, DOWN][int(rng.integers(0, 4))]
    return CellLook(text, align, background, foreground, bool(rng.random() < 0.3))


def looks_model(seed: int = 1) -> Looks:
    rng = np.random.default_rng(seed)
    looks: list[list[CellLook | None]] = [[random_look(rng, c) for c in range(COLUMNS)] for _ in range(ROWS)]
    looks[NO_LOOK[0]][NO_LOOK[1]] = None
    return Looks(looks)


def table(qtbot: QtBot, view: QTableView, model: Looks, sheet: str) -> QTableView:
    """A view of the model, set up as the chain's: mono font, no row header, 21 px rows; scrolled, with a cell
    selected, another current, a column hidden and the long-text column narrow enough to elide some texts."""
    qtbot.addWidget(view)
    view.setStyleSheet(sheet)
    view.setModel(model)
    view.setFont(mono_font(9))
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(21)
    for col in range(COLUMNS):
        view.setColumnWidth(col, 95)
    view.setColumnWidth(LONG_COLUMN, 120)
    view.setColumnHidden(HIDDEN_COLUMN, True)
    view.resize(560, 330)  # about 14 of the 40 rows shown
    view.show()
    selection = view.selectionModel()
    selection.select(model.index(9, 1), selection.SelectionFlag.Select)
    selection.setCurrentIndex(model.index(8, 4), selection.SelectionFlag.NoUpdate)  # current, not selected
    view.verticalScrollBar().setValue(3)
    view.horizontalScrollBar().setValue(20)
    return view


def shown(view: QTableView) -> QImage:
    """The pixels of the view's viewport as they are on screen now (the window's backing store), not repainted."""
    screen = QApplication.primaryScreen().grabWindow(view.window().winId())
    viewport = view.viewport()
    return screen.copy(QRect(viewport.mapTo(view.window(), QPoint(0, 0)), viewport.size())).toImage()


def painted(view: QTableView) -> QImage:
    """The viewport painted afresh, in the format of shown()."""
    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


SHEETS = {"no style sheet": "", "dark": load_theme("dark"), "light": load_theme("light"),
          # a grid line drawn twice shows
          "translucent grid": "QTableView { background: #101418; gridline-color: rgba(255, 255, 255, 90); }"}


@pytest.mark.parametrize("sheet", SHEETS.values(), ids=SHEETS.keys())
def test_view_paints_as_the_standard_table_view(qtbot: QtBot, sheet: str) -> None:
    model = looks_model()
    fast = table(qtbot, LookTableView(model.look), model, sheet)
    standard = table(qtbot, QTableView(), looks_model(), sheet)  # the same looks
    assert fast.viewport().size() == standard.viewport().size()
    assert painted(fast) == painted(standard)
    fast.setFont(mono_font(11))  # a new font: new metrics, and the elided cells change
    standard.setFont(mono_font(11))
    assert painted(fast) == painted(standard)
    for view in (fast, standard):
        view.verticalHeader().setDefaultSectionSize(12)  # rows lower than the text: the style clips it
    assert painted(fast) == painted(standard)
    other = SHEETS["light" if sheet == SHEETS["dark"] else "dark"]  # a theme switch: new palette and grid colour
    fast.setStyleSheet(other)
    standard.setStyleSheet(other)
    assert painted(fast) == painted(standard)


class Recording(QStyledItemDelegate):
    """The standard delegate, noting the cells it paints."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.cells: set[tuple[int, int]] = set()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        self.cells.add((index.row(), index.column()))
        super().paint(painter, option, index)


def test_only_the_special_cells_take_the_standard_delegate(qtbot: QtBot) -> None:
    model = looks_model()
    view = table(qtbot, LookTableView(model.look), model, SHEETS["dark"])
    delegate = Recording(view)
    view.setItemDelegate(delegate)
    painted(view)
    elided = {(r, LONG_COLUMN) for r in range(ROWS) if len(model.look(r, LONG_COLUMN).text) > 20}  # type: ignore[union-attr]
    visible = {(r, c) for r in range(ROWS) for c in range(COLUMNS)
               if not view.isColumnHidden(c) and view.visualRect(model.index(r, c)).intersects(view.viewport().rect())}
    assert delegate.cells == {(9, 1), (8, 4), NO_LOOK, *elided} & visible
    assert elided & visible  # the case is covered
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)  # as styles that paint hover set it
    hovered = view.visualRect(model.index(10, 2)).center()
    QCursor.setPos(view.viewport().mapToGlobal(hovered))
    delegate.cells.clear()
    painted(view)
    assert (10, 2) in delegate.cells and (11, 2) not in delegate.cells


def test_partial_repaints_leave_the_screen_as_a_full_paint(qtbot: QtBot) -> None:
    """Cells change a few at a time and the view scrolls: after each repaint the screen must show what a full
    paint shows, so no changed cell was missed nor painted outside its own rectangle."""
    model = looks_model()
    view = table(qtbot, LookTableView(model.look), model, SHEETS["translucent grid"])
    rng = np.random.default_rng(5)
    for step in range(30):
        for _ in range(int(rng.integers(1, 25))):
            row, col = int(rng.integers(0, ROWS)), int(rng.integers(0, COLUMNS))
            if (row, col) != NO_LOOK:
                model.set_look(row, col, random_look(rng, col))
        if step % 10 == 9:
            view.verticalScrollBar().setValue(int(rng.integers(0, 20)))
        QApplication.processEvents()
        assert shown(view) == painted(view), f"step {step}"
