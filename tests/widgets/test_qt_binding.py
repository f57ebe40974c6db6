"""The Qt binding must not leak or drop references on the calls every paint makes.

PySide6 6.12.0 dropped a reference to None on each void call (QPainter.setPen, drawLine...). On Python
3.11, where None is not immortal, the terminal then aborted ("deallocating None") after a few thousand
paints. pyproject.toml excludes that release; this test catches any binding that does the same.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication


def test_void_painter_calls_keep_the_reference_count_of_none(qapp: QApplication) -> None:
    pixmap = QPixmap(32, 32)
    painter = QPainter(pixmap)
    try:
        before = sys.getrefcount(None)
        for _ in range(200):
            painter.setPen(QPen())
            painter.drawLine(QLineF(0, 0, 8, 8))
            painter.drawLine(QPointF(0, 0), QPointF(4, 4))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert after - before > -50, f"None lost {before - after} references in 800 painter calls"
