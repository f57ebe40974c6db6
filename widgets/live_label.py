"""A label for text that changes every frame (quotes, summaries) without relaying out the window.

QLabel.setText always calls updateGeometry(), and each layout that activates calls updateGeometry()
on its own widget in turn, so one changed quote re-runs every layout up to the main window (dock
title bars, splitters) and repaints what they touch. LiveLabel repaints only itself, and asks for a
new layout only when the wrapped text needs a different number of lines.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

_FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
_UNBOUNDED = 1 << 20


class LiveLabel(QWidget):
    """Word-wrapped plain text in the palette's text colour, like a QLabel with setWordWrap(True)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._height = 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802
        """Show text; repaint, and relayout only if it now wraps to a different height."""
        if text == self._text:
            return
        self._text = text
        height = self.heightForWidth(self.width())
        if height != self._height:
            self._height = height
            self.updateGeometry()
        self.update()

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        fm = self.fontMetrics()
        if not self._text:
            return fm.height()
        return fm.boundingRect(QRect(0, 0, max(1, width), _UNBOUNDED), _FLAGS, self._text).height()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = self.fontMetrics()  # as QLabel: a wrapped text asks for at most 80 characters' width
        width = min(fm.horizontalAdvance(self._text), fm.averageCharWidth() * 80)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.fontMetrics().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._height = self.heightForWidth(event.size().width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.rect(), _FLAGS, self._text)
        painter.end()
