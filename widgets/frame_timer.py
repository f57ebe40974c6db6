"""The panels' frame timer: redraw at a fixed rate, but only while the panel is on screen.

A panel in a background tab or a hidden dock does no work; it catches up on its first frame when shown
(every panel reads state, it does not accumulate events). An explicit refresh() still runs at once.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


def screen_timer(owner: QWidget, hz: float, refresh: Callable[[], None],
                 when_hidden: Callable[[], bool] = lambda: False) -> QTimer:
    """Start a timer owned by `owner` calling refresh() hz times a second while owner is visible
    (or while when_hidden() says a hidden panel still needs it, e.g. before its first data)."""
    timer = QTimer(owner)
    timer.setInterval(max(1, int(1000 / hz)))
    timer.timeout.connect(lambda: refresh() if owner.isVisible() or when_hidden() else None)
    timer.start()
    return timer
