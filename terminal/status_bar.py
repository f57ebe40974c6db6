"""Status bar: connection state per venue and channel, event-loop lag, and clocks in IST and UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus, ProgressEvent, Venue
from core.loop_monitor import LoopLagMonitor

IST = ZoneInfo("Asia/Kolkata")
_STATE = {
    ConnectionStatus.CONNECTED: "ok",
    ConnectionStatus.CONNECTING: "warn",
    ConnectionStatus.RECONNECTING: "warn",
    ConnectionStatus.STALE: "bad",
    ConnectionStatus.DISCONNECTED: "bad",
    ConnectionStatus.FAILED: "bad",
}
RECENT_LAG_S = 10.0  # the lag figure's window: what the trader feels now
_VENUE_LABEL = {Venue.BINANCE: "Binance", Venue.BINANCE_USDM: "Binance USD-M", Venue.ZERODHA: "Kite"}


def _restyle(label: QLabel, state: str) -> None:
    label.setProperty("state", state)
    label.style().unpolish(label)
    label.style().polish(label)


class TerminalStatusBar(QStatusBar):
    """Subscribes to ConnectionChanged; polls the loop monitor and the clock twice a second."""

    def __init__(self, bus: EventBus, monitor: LoopLagMonitor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self._monitor = monitor
        self._venues: dict[Venue, QLabel] = {}
        self._channels: dict[Venue, dict[str, ConnectionChanged]] = {}
        self.profile_label = QLabel()
        self.lag_label = QLabel("loop — ms")
        self.lag_label.setToolTip(f"Event-loop lag: the last sample, and the 99th percentile over the last "
                                  f"{RECENT_LAG_S:.0f} s")
        self.clock_label = QLabel()
        self.addWidget(self.profile_label)
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setRange(0, 1000)
        self.addWidget(self.progress_label)
        self.addWidget(self.progress)
        self.progress_label.hide()
        self.progress.hide()
        bus.subscribe(ProgressEvent, self.on_progress)
        self.addPermanentWidget(self.lag_label)
        self.addPermanentWidget(self.clock_label)
        bus.subscribe(ConnectionChanged, self.on_connection)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def set_profile(self, name: str, description: str) -> None:
        self.profile_label.setText(f"Profile: {name} — {description}")

    def venue_text(self, venue: Venue) -> str:
        label = self._venues.get(venue)
        return label.text() if label else ""

    def on_progress(self, event: ProgressEvent) -> None:
        """Show a long job's progress; hide it when done."""
        done = event.fraction is not None and event.fraction >= 1.0
        self.progress_label.setVisible(not done)
        self.progress.setVisible(not done)
        self.progress_label.setText(f"{event.task}: {event.detail}")
        if event.fraction is None:
            self.progress.setRange(0, 0)  # busy indicator: the total is unknown
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(event.fraction * 1000))

    def on_connection(self, event: ConnectionChanged) -> None:
        channels = self._channels.setdefault(event.venue, {})
        channels[event.channel] = event
        label = self._venues.get(event.venue)
        if label is None:
            label = QLabel()
            self._venues[event.venue] = label
            self.addPermanentWidget(label)
        worst = max(channels.values(), key=lambda e: ("ok", "warn", "bad").index(_STATE[e.status]))
        problems = ", ".join(f"{ch} {e.status.value.lower()}" for ch, e in sorted(channels.items())
                             if e.status is not ConnectionStatus.CONNECTED)
        name = _VENUE_LABEL.get(event.venue, event.venue.value)
        label.setText(f"● {name}" + (f": {problems}" if problems else ""))  # compact: only what is wrong
        label.setToolTip("\n".join(f"{ch}: {e.status.value} {e.detail}" for ch, e in sorted(channels.items())))
        _restyle(label, _STATE[worst.status])

    def refresh(self) -> None:
        lag = self._monitor.last_ms
        recent = max(1, round(RECENT_LAG_S / self._monitor.interval))  # now, not the start-up minute
        p99 = self._monitor.percentile(99, last=recent)
        self.lag_label.setText(f"loop {lag:4.1f} ms · p99 {p99:.1f}")
        _restyle(self.lag_label, "ok" if p99 < 20 else "warn" if p99 < 100 else "bad")
        now = datetime.now(timezone.utc)
        self.clock_label.setText(f"IST {now.astimezone(IST):%H:%M:%S}   UTC {now:%H:%M:%S}")
