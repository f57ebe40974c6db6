"""Log panel: the logging module's records, filtered by level, appended in batches on a frame timer."""
from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from .style import mono_font

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_MAX_LINES = 5000


class _Bridge(QObject):
    record = Signal(int, str)  # queued across threads: logging may be called from worker threads


class QtLogHandler(logging.Handler):
    """A logging handler that forwards formatted records to the UI thread through a Qt signal."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(record.levelno, self.format(record))
        except RuntimeError:  # the bridge was deleted at shutdown
            pass
        except Exception:
            self.handleError(record)


class LogPanel(QWidget):
    """Shows log lines at or above the chosen level; keeps the last 5,000 lines of each level filter."""

    def __init__(self, handler: QtLogHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LogPanel")
        self._all: deque[tuple[int, str]] = deque(maxlen=_MAX_LINES)
        self._pending: list[tuple[int, str]] = []
        self.level_box = QComboBox()
        self.level_box.addItems(LEVELS)
        self.level_box.setCurrentText("INFO")
        self.level_box.currentTextChanged.connect(self._refilter)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(_MAX_LINES)
        self.text.setFont(mono_font(9))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Level"))
        bar.addWidget(self.level_box)
        bar.addStretch(1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        handler.bridge.record.connect(self._on_record)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._flush)
        self._timer.start()

    @property
    def level(self) -> int:
        return logging.getLevelName(self.level_box.currentText())  # type: ignore[no-any-return]

    def lines(self) -> list[str]:
        """Return the lines currently shown (for tests and copy)."""
        self._flush()
        return self.text.toPlainText().splitlines()

    def clear(self) -> None:
        self._all.clear()
        self._pending.clear()
        self.text.clear()

    def _on_record(self, levelno: int, line: str) -> None:
        self._all.append((levelno, line))
        self._pending.append((levelno, line))

    def _flush(self) -> None:
        if not self._pending:
            return
        level = self.level
        shown = [line for levelno, line in self._pending if levelno >= level]
        self._pending.clear()
        if shown:
            self.text.appendPlainText("\n".join(shown))

    def _refilter(self) -> None:
        self._pending.clear()
        level = self.level
        self.text.setPlainText("\n".join(line for levelno, line in self._all if levelno >= level))
