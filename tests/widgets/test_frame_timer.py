"""Panels redraw on their frame timer only while on screen (or while they still wait for first data), each at its own phase."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from widgets.frame_timer import frame_timer, on_screen, screen_timer


def test_the_timer_refreshes_a_shown_panel_only(qtbot: QtBot) -> None:
    panel = QWidget()
    qtbot.addWidget(panel)
    calls: list[int] = []
    screen_timer(panel, 100.0, lambda: calls.append(1))
    qtbot.wait(80)
    assert calls == []  # hidden: no work
    panel.show()
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=2000)
    panel.hide()
    count = len(calls)
    qtbot.wait(80)
    assert len(calls) == count


def test_a_hidden_panel_may_ask_for_frames_until_it_has_data(qtbot: QtBot) -> None:
    panel = QWidget()
    qtbot.addWidget(panel)
    waiting = [True]
    calls: list[int] = []

    def refresh() -> None:
        calls.append(1)
        waiting[0] = len(calls) < 3

    screen_timer(panel, 100.0, refresh, when_hidden=lambda: waiting[0])
    qtbot.waitUntil(lambda: len(calls) == 3, timeout=2000)
    qtbot.wait(80)
    assert len(calls) == 3


def test_a_dock_tabbed_behind_another_is_not_on_screen(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QWidget())
    front, back = QDockWidget("front"), QDockWidget("back")
    front_panel, back_panel = QWidget(), QWidget()
    front.setWidget(front_panel)
    back.setWidget(back_panel)
    for dock in (back, front):
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(back, front)
    front.raise_()
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    calls: list[str] = []
    screen_timer(back_panel, 100.0, lambda: calls.append("back"))
    screen_timer(front_panel, 100.0, lambda: calls.append("front"))
    qtbot.waitUntil(lambda: calls.count("front") >= 3, timeout=2000)
    assert back_panel.isVisible() and not on_screen(back_panel)  # Qt moves it off screen, it stays 'visible'
    assert "back" not in calls


def test_frame_timers_of_one_rate_start_at_different_phases(qtbot: QtBot) -> None:
    panel = QWidget()
    qtbot.addWidget(panel)
    ticks: dict[int, list[float]] = {0: [], 1: []}
    for n in ticks:
        frame_timer(panel, 10.0, lambda n=n: ticks[n].append(time.perf_counter()))
    qtbot.waitUntil(lambda: min(len(t) for t in ticks.values()) >= 3, timeout=3000)
    gaps = [abs(a - b) for a, b in zip(ticks[0], ticks[1])]
    assert min(gaps) > 0.01  # 100 ms timers created together fire tens of ms apart, not in one iteration
