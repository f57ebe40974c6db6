"""The panels' frame timers: redraw at a fixed rate, each panel at its own phase of the frame.

Timers of one rate started together fire in the same loop iteration, and the repaints they ask for are
painted together: four ladders, a table and a chart in one paint, one long block of the loop. Each
timer here starts after an offset spread over its interval (golden-ratio steps, so any number of
panels stay apart) and is a precise timer, which Qt does not align with others as it does coarse ones.

screen_timer() runs only while the panel is on screen: a panel in a background tab, a hidden dock or
a dock tabbed behind another does no work; it catches up on its first frame when shown (every panel
reads state, it does not accumulate events). An explicit refresh() still runs at once.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

_GOLDEN = 0.6180339887
_started = itertools.count()


def frame_timer(owner: QWidget, hz: float, tick: Callable[[], None]) -> QTimer:
    """Start a precise timer owned by `owner` calling tick() hz times a second, at a phase of its own."""
    timer = QTimer(owner)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(max(1, int(1000 / hz)))
    timer.timeout.connect(tick)
    phase = int(next(_started) * _GOLDEN % 1.0 * timer.interval())
    QTimer.singleShot(phase, timer, timer.start)
    return timer


def on_screen(widget: QWidget) -> bool:
    """True while some of the widget can be seen (a dock tabbed behind another is 'visible' off screen)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def screen_timer(owner: QWidget, hz: float, refresh: Callable[[], None],
                 when_hidden: Callable[[], bool] = lambda: False) -> QTimer:
    """Start a frame timer calling refresh() hz times a second while owner is on screen
    (or while when_hidden() says a hidden panel still needs it, e.g. before its first data)."""
    return frame_timer(owner, hz, lambda: refresh() if on_screen(owner) or when_hidden() else None)
