"""LazyPanel: the panel is built on the tab's first show, once, and its minimum size never grows the window."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from widgets.lazy_panel import LazyPanel


def big_panel(built: list[QWidget]) -> QWidget:
    panel = QLabel("backtest")
    panel.setMinimumSize(900, 300)
    built.append(panel)
    return panel


def test_built_on_first_show_only_once(qtbot: QtBot) -> None:
    built: list[QWidget] = []
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    lazy: LazyPanel[QWidget] = LazyPanel(lambda: big_panel(built))
    tabs.addTab(QLabel("front"), "front")
    tabs.addTab(lazy, "lazy")
    tabs.resize(400, 300)
    tabs.show()
    qtbot.waitExposed(tabs)
    assert built == [] and lazy.content is None  # a tab behind another costs nothing
    tabs.setCurrentWidget(lazy)
    assert lazy.content is built[0] and lazy.content.isVisible()  # built inside the show, never seen empty
    tabs.setCurrentIndex(0)
    tabs.setCurrentWidget(lazy)
    assert lazy.build() is built[0] and len(built) == 1


def test_the_panel_scrolls_rather_than_growing_the_window(qtbot: QtBot) -> None:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    lazy: LazyPanel[QWidget] = LazyPanel(lambda: big_panel([]))
    tabs.addTab(lazy, "lazy")
    before = tabs.minimumSizeHint()
    lazy.build()
    assert tabs.minimumSizeHint() == before
    assert lazy.minimumSizeHint().width() < 900
