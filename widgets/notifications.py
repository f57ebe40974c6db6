"""Notifications: fills, rejections and risk events as toasts over the window and lines in the log.

notice_for() decides what deserves the trader's eyes (a pure function, tested without a window);
ToastArea shows notices stacked in the window's top-right corner, newest on top, each fading after a
few seconds (errors stay longer; a click dismisses); Notifier connects the bus to both, with an
optional beep. Events come from the OMS (FillApplied, OrderUpdated), risk (RiskRejection) and the
kill switch (KillSwitchChanged), so a toast means the order path itself saw it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from core.bus import EventBus, Subscription
from core.domain import OrderStatus, OrderUpdated
from core.risk.engine import RiskRejection
from core.trading.events import FillApplied, KillSwitchChanged

log = logging.getLogger("notifications")


class Level(str, Enum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


_LOG_LEVEL = {Level.INFO: logging.INFO, Level.SUCCESS: logging.INFO, Level.WARNING: logging.WARNING, Level.ERROR: logging.ERROR}
_COLOURS = {Level.INFO: "#2f81f7", Level.SUCCESS: "#26a69a", Level.WARNING: "#f0b429", Level.ERROR: "#ef5350"}
_LIFETIME_MS = {Level.INFO: 4000, Level.SUCCESS: 4000, Level.WARNING: 7000, Level.ERROR: 12000}


@dataclass(frozen=True, slots=True)
class Notice:
    level: Level
    title: str
    text: str


def _qty(value: Any) -> str:
    return f"{value.normalize():f}"


def notice_for(event: object) -> Notice | None:
    """The notice an event deserves, or None for the ones that are routine."""
    if isinstance(event, FillApplied):
        fill, order = event.fill, event.order
        done = "filled" if order.status is OrderStatus.FILLED else f"part-filled {_qty(order.filled_quantity)}/{_qty(order.quantity or 0)}"
        return Notice(Level.SUCCESS, f"{fill.side.value} {fill.instrument_id.symbol} {done}",
                      f"{_qty(fill.quantity)} @ {fill.price:f} on {fill.instrument_id.venue.value}")
    if isinstance(event, OrderUpdated) and event.order.status is OrderStatus.REJECTED and event.previous_status is not OrderStatus.REJECTED:
        order = event.order
        return Notice(Level.ERROR, f"Rejected: {order.side.value} {order.instrument_id.symbol}",
                      order.reject_reason or "the venue gave no reason")
    if isinstance(event, RiskRejection):
        r = event.rejection
        return Notice(Level.WARNING, f"Risk blocked {r.side} {r.instrument_id.symbol}", f"{r.rule}: {r.message}")
    if isinstance(event, KillSwitchChanged):
        if event.engaged:
            return Notice(Level.ERROR, "KILL SWITCH ENGAGED", event.reason or "new orders are blocked")
        return Notice(Level.INFO, "Kill switch re-armed", "orders may be sent again")
    return None


class Toast(QFrame):
    """One notice card; a click closes it."""

    def __init__(self, notice: Notice, parent: QWidget) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("toast")
        colour = _COLOURS[notice.level]
        self.setStyleSheet(f"QFrame#toast {{ background: rgba(22, 27, 34, 235); border: 1px solid {colour};"
                           f" border-left: 5px solid {colour}; border-radius: 4px; }}"
                           "QLabel { background: transparent; color: #e6edf3; }")
        title = QLabel(notice.title)
        title.setStyleSheet(f"font-weight: bold; color: {colour};")
        body = QLabel(notice.text)
        body.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(title)
        layout.addWidget(body)
        self.setFixedWidth(320)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.dismiss()

    def dismiss(self) -> None:
        self.hide()
        self.deleteLater()


class ToastArea(QWidget):
    """An overlay in the host's top-right corner that stacks toasts, at most `limit` at once.

    It is exactly as tall as its toasts and hidden when there are none, so it never covers (or takes the
    clicks of) the panels under it for longer than a toast is on screen.
    """

    def __init__(self, host: QWidget, limit: int = 5) -> None:
        super().__init__(host)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.limit = limit
        self._toasts: list[Toast] = []  # newest first
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        host.installEventFilter(self)
        self._place()

    def toasts(self) -> list[Toast]:
        """The toasts on screen, newest first."""
        return list(self._toasts)

    def show_notice(self, notice: Notice) -> Toast:
        toast = Toast(notice, self)
        toast.destroyed.connect(lambda: self._forget(toast))
        self._toasts.insert(0, toast)
        self._layout.insertWidget(0, toast)  # newest on top
        toast.show()
        for old in self._toasts[self.limit:]:
            self._forget(old)
            old.dismiss()
        QTimer.singleShot(_LIFETIME_MS[notice.level], toast, toast.dismiss)
        self._place()
        self.show()
        self.raise_()
        return toast

    def _forget(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
            if shiboken6.isValid(self):  # the toasts also go when the area itself is destroyed
                QTimer.singleShot(0, self, self._place)  # after the toast has left the layout

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._place()
        return False

    def _place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        if not self._toasts:
            self.hide()
            return
        self._layout.activate()
        height = min(host.height() - 60, self._layout.sizeHint().height())
        self.setGeometry(max(0, host.width() - 340), 48, 330, max(0, height))


class Notifier:
    """Bus -> notices -> log and toasts (and a beep for errors and fills, when sound is on)."""

    EVENTS = (FillApplied, OrderUpdated, RiskRejection, KillSwitchChanged)

    def __init__(self, bus: EventBus, show: Callable[[Notice], object], sound: bool = False) -> None:
        self.sound = sound
        self._show = show
        self._subs: list[Subscription[Any]] = [bus.subscribe(t, self.on_event) for t in self.EVENTS]

    def on_event(self, event: object) -> None:
        notice = notice_for(event)
        if notice is None:
            return
        log.log(_LOG_LEVEL[notice.level], "%s: %s", notice.title, notice.text)
        self._show(notice)
        if self.sound and notice.level in (Level.SUCCESS, Level.ERROR):
            QApplication.beep()

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._subs.clear()
