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


def test_no_widget_attribute_shadows_a_qt_method() -> None:
    """An instance attribute named like a Qt virtual (self.metric = QComboBox()) makes shiboken call it
    in place of the C++ method (QPaintDevice.metric while fonts are set): a segfault, not an error."""
    import ast
    from pathlib import Path

    from PySide6.QtWidgets import QWidget

    qt_methods = {name for name in dir(QWidget) if not name.startswith("_") and callable(getattr(QWidget, name))}
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [*root.joinpath("widgets").rglob("*.py"), *root.joinpath("terminal").rglob("*.py")]:
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef) or not any(_is_qt(base) for base in cls.bases):
                continue
            for node in ast.walk(cls):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) \
                        and node.value.id == "self" and node.attr in qt_methods:
                    found.append(f"{path.relative_to(root)}:{node.lineno} self.{node.attr}")
    assert found == []


def _is_qt(base: object) -> bool:
    """A base class from Qt or pyqtgraph (QWidget, QAbstractTableModel, pg.GraphicsObject...)."""
    import ast

    if isinstance(base, ast.Name):
        return base.id.startswith("Q")
    return isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "pg"
