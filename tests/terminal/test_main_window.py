from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus, ProgressEvent, Venue
from core.loop_monitor import LoopLagMonitor
from terminal.main_window import MainWindow
from terminal.status_bar import TerminalStatusBar


def make_window(qtbot: QtBot, tmp_path: Path, closed: list[bool]) -> tuple[MainWindow, EventBus]:
    bus = EventBus()
    status = TerminalStatusBar(bus, LoopLagMonitor())
    window = MainWindow(status, tmp_path / "layout.json", lambda: closed.append(True))
    qtbot.addWidget(window)
    window.add_panel("a", "Panel A", QLabel("a"), Qt.DockWidgetArea.LeftDockWidgetArea)
    window.add_panel("b", "Panel B", QLabel("b"), Qt.DockWidgetArea.RightDockWidgetArea)
    return window, bus


def test_layout_is_saved_on_close_and_restored(qtbot: QtBot, tmp_path: Path) -> None:
    closed: list[bool] = []
    window, _ = make_window(qtbot, tmp_path, closed)
    window.show()
    window.docks["b"].hide()
    window.close()
    assert closed == [True]
    assert (tmp_path / "layout.json").exists()
    again, _ = make_window(qtbot, tmp_path, [])
    assert again.restore_layout()
    again.show()
    assert not again.docks["b"].isVisible() and again.docks["a"].isVisible()


def test_unreadable_layout_is_ignored(qtbot: QtBot, tmp_path: Path) -> None:
    (tmp_path / "layout.json").write_text("{broken")
    window, _ = make_window(qtbot, tmp_path, [])
    assert window.restore_layout() is False


def test_status_bar_shows_connection_state_per_venue(qtbot: QtBot, tmp_path: Path) -> None:
    window, bus = make_window(qtbot, tmp_path, [])
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.CONNECTED))
    bus.publish(ConnectionChanged(Venue.BINANCE, "user", ConnectionStatus.STALE, "no data for 2 s"))
    text = window.status.venue_text(Venue.BINANCE)
    assert text == "● Binance: user stale"  # only what is wrong; the tooltip has every channel
    assert "market: CONNECTED" in window.status._venues[Venue.BINANCE].toolTip()
    assert window.status._venues[Venue.BINANCE].property("state") == "bad"


def test_duplicate_panel_key_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    window, _ = make_window(qtbot, tmp_path, [])
    try:
        window.add_panel("a", "again", QLabel())
    except ValueError as exc:
        assert "already exists" in str(exc)
    else:
        raise AssertionError("expected ValueError")


def test_status_bar_shows_progress_until_done(qtbot: QtBot, tmp_path: Path) -> None:
    window, bus = make_window(qtbot, tmp_path, [])
    window.show()
    bus.publish(ProgressEvent("Kite instruments", 0.4, "2.0 MB of 5.0 MB"))
    assert window.status.progress.isVisible() and window.status.progress.value() == 400
    assert window.status.progress_label.text() == "Kite instruments: 2.0 MB of 5.0 MB"
    bus.publish(ProgressEvent("Kite instruments", None, "3.1 MB"))
    assert window.status.progress.maximum() == 0  # busy: total unknown
    bus.publish(ProgressEvent("Kite instruments", 1.0, "5.0 MB of 5.0 MB"))
    assert not window.status.progress.isVisible()


def test_status_bar_lag_is_the_recent_p99_so_a_slow_start_up_does_not_stay_red(qtbot: QtBot, tmp_path: Path) -> None:
    window, _ = make_window(qtbot, tmp_path, [])
    monitor = window.status._monitor
    monitor.samples.extend([500.0] * 5 + [0.5] * 200)  # a 0.5 s start-up stall, then 20 s of a healthy loop
    window.status.refresh()
    assert window.status.lag_label.text() == "loop  0.5 ms · p99 0.5"
    assert window.status.lag_label.property("state") == "ok"
    assert monitor.percentile(99) > 100  # the whole history still has it
