"""Panels redraw on their frame timer only while on screen (or while they still wait for first data)."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from widgets.frame_timer import screen_timer


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
