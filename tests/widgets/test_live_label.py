"""A LiveLabel repaints itself for new text and relayouts its parents only when the wrapped height changes."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from widgets.live_label import LiveLabel


class LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        self.count += event.type() == QEvent.Type.LayoutRequest
        return False


def test_new_text_of_the_same_height_does_not_relayout_the_parent(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    label = LiveLabel("bid 100.00   ask 100.01")
    layout = QVBoxLayout(parent)
    layout.addWidget(label)
    layout.addStretch(1)
    parent.resize(400, 200)
    parent.show()
    qtbot.waitExposed(parent)
    qtbot.wait(50)  # the layout requests of showing it
    one_line = label.height()
    requests = LayoutRequests()
    parent.installEventFilter(requests)
    for n in range(5):
        label.setText(f"bid 100.0{n}   ask 100.1{n}")
    qtbot.wait(50)
    assert label.text() == "bid 100.04   ask 100.14" and requests.count == 0
    label.setText("a long warning that cannot fit on one line of a label this narrow " * 3)
    qtbot.waitUntil(lambda: label.height() > one_line, timeout=1000)  # wrapped: the layout gave it the lines it needs
    assert requests.count >= 1 and label.height() == label.heightForWidth(label.width())
