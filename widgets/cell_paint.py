"""A cell delegate that paints a table's text cells straight from the model's cached look.

QStyledItemDelegate asks the model for seven roles per cell (seven Python calls through the binding)
and lays the text out through the style: about 25 us a cell, 10-20 ms for a full option chain on the
one loop. This delegate makes one Python call per cell and draws the background and the text itself.
A selected or focused cell, a cell whose text does not fit (the style elides it), and a cell without a
cached look take the standard path, so those look exactly as before.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

_SELECTED_OR_FOCUSED = QStyle.StateFlag.State_Selected.value | QStyle.StateFlag.State_HasFocus.value
_ENABLED, _ACTIVE = QStyle.StateFlag.State_Enabled.value, QStyle.StateFlag.State_Active.value


class CellLook(NamedTuple):
    """What one cell shows. Equal looks paint the same pixels, so a model can diff them to emit
    dataChanged only for the cells that changed."""

    text: str
    align: Qt.AlignmentFlag
    background: QColor | None = None
    foreground: QColor | None = None  # None: the palette's text colour
    bold: bool = False


class LookDelegate(QStyledItemDelegate):
    """Paint cells from look(row, column); the model's data() must answer the same for the standard path."""

    def __init__(self, look: Callable[[int, int], CellLook | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._look = look
        self._font: QFont | None = None
        self._fonts: tuple[QFont, QFont] = (QFont(), QFont())  # regular, bold
        self._metrics: tuple[QFontMetrics, QFontMetrics] = (QFontMetrics(QFont()), QFontMetrics(QFont()))
        self._widths: tuple[dict[str, int], dict[str, int]] = ({}, {})  # text advance per font, bounded
        self._margin = 3

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        look = self._look(index.row(), index.column())
        state = option.state.value
        if look is None or state & _SELECTED_OR_FOCUSED:
            super().paint(painter, option, index)
            return
        font = option.font
        if font != self._font:
            self._set_font(font, option)
        text_rect = option.rect.adjusted(self._margin, 0, -self._margin, 0)
        widths = self._widths[look.bold]
        width = widths.get(look.text)
        if width is None:
            if len(widths) > 4096:
                widths.clear()
            width = widths[look.text] = self._metrics[look.bold].horizontalAdvance(look.text)
        if width > text_rect.width():
            super().paint(painter, option, index)
            return
        if look.background is not None:
            painter.fillRect(option.rect, look.background)
        if look.foreground is not None:
            painter.setPen(look.foreground)
        else:
            group = QPalette.ColorGroup.Disabled if not state & _ENABLED else \
                QPalette.ColorGroup.Normal if state & _ACTIVE else QPalette.ColorGroup.Inactive
            painter.setPen(option.palette.color(group, QPalette.ColorRole.Text))
        painter.setFont(self._fonts[look.bold])
        painter.drawText(text_rect, look.align, look.text)

    def _set_font(self, font: QFont, option: QStyleOptionViewItem) -> None:
        bold = QFont(font)
        bold.setBold(True)
        self._font, self._fonts = QFont(font), (QFont(font), bold)
        self._metrics = (QFontMetrics(font), QFontMetrics(bold))
        self._widths = ({}, {})
        style = option.widget.style() if option.widget is not None else QApplication.style()
        self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, option.widget) + 1
