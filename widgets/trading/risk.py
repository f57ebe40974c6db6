"""Risk panel: every limit with its usage as a bar, the kill switch, and the last rejections."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from core.domain import Venue
from core.risk.engine import RiskSnapshot
from widgets.order_entry import run_async
from widgets.frame_timer import screen_timer
from widgets.style import mono_font
from widgets.table import fmt_number


MAX_LIMITS_WIDTH = 560  # px the limits pane may claim from the rejections beside it


class RiskPanel(QWidget):
    def __init__(self, snapshot: Callable[[Venue], RiskSnapshot], venues: list[Venue], engage: Callable[[bool], object],
                 rearm: Callable[[], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._snapshot, self.venues = snapshot, venues
        self._engage, self._rearm = engage, rearm
        self.kill = QPushButton("KILL SWITCH")
        self.kill.setProperty("role", "danger")
        self.kill.setMinimumHeight(36)
        self.kill.setToolTip("Block new orders, cancel every open order on every venue, stop strategies (Ctrl+Shift+K)")
        self.kill.clicked.connect(self.engage)
        self.flatten = QCheckBox("also flatten positions")
        self.rearm_button = QPushButton("Re-arm")
        self.rearm_button.clicked.connect(lambda: self._call(self._rearm()))
        self.state = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.kill)
        top.addWidget(self.flatten)
        top.addWidget(self.rearm_button)
        top.addWidget(self.state, 1)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)  # the bars take the spare width; names and figures read whole
        self.bars: dict[tuple[Venue, str], tuple[QLabel, QProgressBar, QLabel]] = {}
        self._limits = QWidget()
        self._limits.setLayout(self.grid)
        self._scroll = scroll = QScrollArea()  # many limits x venues: scroll rather than force the window taller
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._limits)
        self.rejections = QPlainTextEdit()
        self.rejections.setReadOnly(True)
        self.rejections.setFont(mono_font(9))
        self.rejections.setMaximumBlockCount(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(scroll)
        split.addWidget(self.rejections)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.rejections.setPlaceholderText("Last rejections appear here, with the rule and the numbers")
        layout.addWidget(split, 1)
        self._timer = screen_timer(self, 2.0, self.refresh)

    def engage(self) -> None:
        self._call(self._engage(self.flatten.isChecked()))

    def _call(self, result: object) -> None:
        if hasattr(result, "__await__"):
            run_async(result, lambda exc: self.state.setText(f"⚠ {exc}"))  # type: ignore[arg-type]

    def _fit_limits(self) -> None:
        """Keep the limits pane wide enough for its names, a bar and the figures: the rows arrive once the venues
        are known, after the splitter has shared out its width (the rejections' long lines had taken it all)."""
        bar = self._scroll.verticalScrollBar().sizeHint().width()
        wanted = self._limits.sizeHint().width() + bar + 2 * self._scroll.frameWidth()
        self._scroll.setMinimumWidth(min(wanted, MAX_LIMITS_WIDTH))  # wider still: the pane scrolls sideways

    def refresh(self) -> None:
        lines: list[str] = []
        engaged = False
        for venue in self.venues:
            snap = self._snapshot(venue)
            engaged |= snap.kill_switch_engaged
            for usage in snap.usages:
                key = (venue, usage.name)
                if key not in self.bars:
                    row = len(self.bars)
                    widgets = (QLabel(f"{venue.value} · {usage.name.replace('_', ' ')}"), QProgressBar(), QLabel())
                    widgets[1].setRange(0, 1000)
                    widgets[1].setTextVisible(False)
                    for col, w in enumerate(widgets):
                        self.grid.addWidget(w, row, col)
                        w.show()  # now, not on the layout's deferred show: the pane's width is fitted to them below
                    self.bars[key] = widgets
                _, bar, value = self.bars[key]
                if usage.limit is None or usage.limit == 0:
                    bar.setValue(0)
                    value.setText(f"{fmt_number(usage.value, 2)} {usage.unit} (no limit)")
                else:
                    ratio = float(usage.value / usage.limit)
                    bar.setValue(int(min(1.0, max(0.0, ratio)) * 1000))
                    colour = "#ef5350" if ratio >= 0.9 else "#f0b429" if ratio >= 0.7 else "#26a69a"
                    if bar.property("chunk") != colour:  # a style sheet re-polishes the widget: set it on change only
                        bar.setProperty("chunk", colour)
                        bar.setStyleSheet("QProgressBar::chunk { background: %s; }" % colour)
                    value.setText(f"{fmt_number(usage.value, 2)} / {fmt_number(usage.limit, 2)} {usage.unit}")
            for r in snap.recent_rejections:
                when = datetime.fromtimestamp(r.ts_ns / 1e9, timezone.utc).astimezone().strftime("%H:%M:%S")
                lines.append(f"{when} {r.instrument_id.symbol} {r.side} {r.quantity.normalize():f} [{r.source}] {r.rule}: {r.message}")
            if snap.halted:
                lines.append(f"{venue.value}: HALTED — daily loss limit reached")
        self._fit_limits()
        self.state.setText("● ENGAGED: new orders blocked" if engaged else "armed")
        self.state.setProperty("state", "bad" if engaged else "ok")
        self.state.style().unpolish(self.state)
        self.state.style().polish(self.state)
        text = "\n".join(lines[-200:])
        if text != self.rejections.toPlainText():
            self.rejections.setPlainText(text)
