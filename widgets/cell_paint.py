"""A table view that paints its plain text cells straight from the model's cached looks.

QTableView paints a cell through its delegate: per cell two Python calls for the bounds check of the model's
index() (rowCount, columnCount), then the delegate's paint() and the wrapping of its three arguments.
QStyledItemDelegate then asks the model for seven roles and lays the text out through the style (~25 us a
cell); a delegate drawing from the cached look (the previous LookDelegate) still took ~20 us a cell. This view
paints all the plain cells of the dirty region in one paintEvent: a fillRect and a drawText a cell (the pen
and font set only when they change, the text placed where the style places it), then the grid lines. On the
chain at a busy tape (~300 cells a frame; tests/bench/bench_chain_refresh.py, "chain table paint") the table's
repaint went from 6.3 to 2.7 ms (median; max 10-14 ms to 5-8 ms), a full 21 x 17 repaint from 7.0 to 2.8 ms.
What is left is mostly drawText (~4.5 us a cell); QStaticText drew faster, but its cache and its float
placement cost as much in Python.

The cells that look special go to QTableView's own paintEvent and the standard delegate, so they look exactly
as before: selected, current, under the mouse where the style shows hover, a text too wide (the style elides
it) or too tall (the style clips it) for its cell, a cell without a look.
"""
from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPalette, QRegion
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionViewItem, QTableView, QWidget

_PLACED: dict[Qt.AlignmentFlag, tuple[float, int]] = {}  # see _placed
_Sections = list[tuple[int, int, int]]  # (logical index, viewport position, size) of the shown sections


class CellLook(NamedTuple):
    """What one cell shows. Equal looks paint the same pixels, so a model can diff them to emit
    dataChanged only for the cells that changed."""

    text: str
    align: Qt.AlignmentFlag
    background: QColor | None = None
    foreground: QColor | None = None  # None: the palette's text colour
    bold: bool = False


class LookTableView(QTableView):
    """Paint plain cells from look(row, column); the model's data() must answer the same for the standard path.

    The whole view takes the standard path where the layout is not the plain one painted here: right to
    left, alternating rows, a dashed grid, a style that draws the top and left grid lines. Assumed: no spans,
    every cell enabled, no style sheet rule for ::item (these would need the standard path too)."""

    def __init__(self, look: Callable[[int, int], CellLook | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._look = look
        self._font: QFont | None = None  # the view font the fonts, metrics and advances below are for
        self._fonts: tuple[QFont, QFont] = (QFont(), QFont())  # regular, bold
        self._metrics: tuple[QFontMetricsF, QFontMetricsF] = (QFontMetricsF(QFont()), QFontMetricsF(QFont()))
        self._advances: tuple[dict[str, float], dict[str, float]] = ({}, {})  # text advance per font, bounded
        self._baselines: dict[int, tuple[tuple[float | None, float | None], ...]] = {}  # see _place_lines

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        style = self.style()
        if self.isRightToLeft() or self.alternatingRowColors() or self.gridStyle() != Qt.PenStyle.SolidLine \
                or self.selectionModel() is None \
                or style.styleHint(QStyle.StyleHint.SH_Table_AlwaysDrawLeftTopGridLines, option, self):
            super().paintEvent(event)
            return
        region = event.region()
        bounds = region.boundingRect()
        rows = _sections(self.verticalHeader(), bounds.top(), bounds.bottom())
        columns = _sections(self.horizontalHeader(), bounds.left(), bounds.right())
        with QPainter(self.viewport()) as painter:
            special = self._paint_cells(painter, region, rows, columns, option)
            if self.showGrid():
                if not special.isEmpty():
                    painter.setClipRegion(region.subtracted(special))  # the standard path draws the grid of its cells
                colour = style.styleHint(QStyle.StyleHint.SH_Table_GridLineColor, option, self) & 0xFFFFFFFF
                self._paint_grid(painter, QColor.fromRgba(colour), bounds, rows, columns)
        if not special.isEmpty():
            super().paintEvent(QPaintEvent(special))

    def _paint_cells(self, painter: QPainter, region: QRegion, rows: _Sections, columns: _Sections,
                     option: QStyleOptionViewItem) -> QRegion:
        """Paint the plain cells that meet region, as the delegate would; return the region of the others."""
        font = self.font()
        if font != self._font:
            self._set_font(font)
        state = option.state
        group = QPalette.ColorGroup.Disabled if not state & QStyle.StateFlag.State_Enabled else \
            QPalette.ColorGroup.Normal if state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
        text_colour = option.palette.color(group, QPalette.ColorRole.Text)
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        grid = 1 if self.showGrid() else 0
        special_cells = self._special_cells()
        special = QRegion()
        intersects, fill, draw = region.intersects, painter.fillRect, painter.drawText
        look_of, fonts, advances, known = self._look, self._fonts, self._advances, self._baselines
        pen: QColor | None = None
        font_bold: bool | None = None
        for row, y, height in rows:
            cell_height = height - grid
            baselines = known.get(cell_height) or self._place_lines(cell_height)
            for col, x, width in columns:
                section = QRect(x, y, width, height)
                if not intersects(section):
                    continue
                look = look_of(row, col)
                if look is None or (row, col) in special_cells:
                    special = special.united(section)
                    continue
                text, align, background, foreground, bold = look
                across, vertical = _PLACED.get(align) or _placed(align)
                baseline = baselines[vertical][bold]
                advance = advances[bold].get(text)
                if advance is None:
                    advance = self._advance(text, bold)
                text_width = width - grid - 2 * margin
                if baseline is None or advance > text_width:  # the style clips or elides it
                    special = special.united(section)
                    continue
                if background is not None:
                    fill(x, y, width - grid, cell_height, background)
                colour = text_colour if foreground is None else foreground
                if colour is not pen:
                    painter.setPen(colour)
                    pen = colour
                if bold is not font_bold:
                    painter.setFont(fonts[bold])
                    font_bold = bold
                draw(QPointF(x + margin + (text_width - advance) * across, y + baseline), text)
        return special

    def _place_lines(self, cell_height: int) -> tuple[tuple[float | None, float | None], ...]:
        """Where the style puts the baseline of a line of text in a cell this high, by vertical alignment (top,
        centre, bottom), then font: the line's top at QStyle.alignedRect of its height rounded up to whole pixels
        (drawText's own centring is a pixel off it for some fonts). None where the line does not fit: the style
        clips it."""
        baselines = []
        for vertical in range(3):
            by_font = []
            for metrics in self._metrics:
                line = metrics.height()
                top = (0, cell_height // 2 - ceil(line) // 2, cell_height - ceil(line))[vertical]
                by_font.append(top + metrics.ascent() if top >= 0 and top + line <= cell_height else None)
            baselines.append((by_font[0], by_font[1]))
        self._baselines[cell_height] = tuple(baselines)
        return self._baselines[cell_height]

    def _advance(self, text: str, bold: bool) -> float:
        """The width of a text, kept: measuring it is half the cost of drawing it."""
        advances = self._advances[bold]
        if len(advances) >= 4096:
            advances.clear()
        advance = advances[text] = self._metrics[bold].horizontalAdvance(text)
        return advance

    def _paint_grid(self, painter: QPainter, colour: QColor, bounds: QRect, rows: _Sections, columns: _Sections) -> None:
        """Draw the grid lines QTableView draws in each dirty rectangle (the painter clips to the region): the last
        pixel row and column of each cell, up to the end of the last row and column. fillRect puts the same pixels
        as QTableView's one-pixel drawLine (0.1 ms a busy frame, drawLine 0.26 ms)."""
        horizontal, vertical = self.horizontalHeader(), self.verticalHeader()
        left, right = bounds.left(), min(bounds.right(), horizontal.length() - horizontal.offset() - 1)
        top, bottom = bounds.top(), min(bounds.bottom(), vertical.length() - vertical.offset() - 1)
        if left > right or top > bottom:
            return
        for _, y, height in rows:
            painter.fillRect(left, y + height - 1, right - left + 1, 1, colour)
        for _, x, width in columns:
            painter.fillRect(x + width - 1, top, 1, bottom - top + 1, colour)

    def _special_cells(self) -> set[tuple[int, int]]:
        """(row, column) of the cells the standard path paints for their state: selected, current, hovered."""
        cells = {(index.row(), index.column()) for index in self.selectionModel().selectedIndexes()}
        current = self.currentIndex()
        cells.add((current.row(), current.column()))
        viewport = self.viewport()
        if viewport.testAttribute(Qt.WidgetAttribute.WA_Hover):  # styles that paint hover set it
            hovered = self.indexAt(viewport.mapFromGlobal(QCursor.pos()))
            cells.add((hovered.row(), hovered.column()))
        return cells

    def _set_font(self, font: QFont) -> None:
        bold = QFont(font)
        bold.setBold(True)
        self._font, self._fonts = QFont(font), (QFont(font), bold)
        self._metrics = (QFontMetricsF(font), QFontMetricsF(bold))
        self._advances = ({}, {})
        self._baselines = {}


def _placed(align: Qt.AlignmentFlag) -> tuple[float, int]:
    """The share of the spare width left of the text, and the vertical alignment as QStyle.alignedRect reads
    it: 0 top, 1 centre, 2 bottom."""
    across = 1.0 if align & Qt.AlignmentFlag.AlignRight else 0.5 if align & Qt.AlignmentFlag.AlignHCenter else 0.0
    vertical = 1 if align & Qt.AlignmentFlag.AlignVCenter else 2 if align & Qt.AlignmentFlag.AlignBottom else 0
    _PLACED[align] = across, vertical
    return _PLACED[align]


def _sections(header: QHeaderView, first: int, last: int) -> _Sections:
    """The shown sections of a header that meet the viewport pixels first..last, in visual order."""
    shown = []
    for visual in range(header.count()):
        logical = header.logicalIndex(visual)
        if not header.isSectionHidden(logical):
            position, size = header.sectionViewportPosition(logical), header.sectionSize(logical)
            if position <= last and position + size > first:
                shown.append((logical, position, size))
    return shown
