"""Start-up order: the demo profile's emulator child is spawned before the window is built, so both boot at once."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from terminal.app import Terminal
from terminal.emulator_process import EmulatorProcess
from terminal.settings import Settings
from widgets.log_panel import QtLogHandler


class Stop(Exception):
    pass


async def test_the_emulator_is_spawned_before_the_window_is_built(tmp_path: Path, qapp: QApplication,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []

    async def start(self: EmulatorProcess) -> dict[str, str]:
        events.append("emulator spawned")  # the real start() spawns the child in its first step, too
        return {}

    def build_window(self: Terminal) -> None:
        events.append("window built")
        raise Stop

    monkeypatch.setattr(EmulatorProcess, "start", start)
    monkeypatch.setattr(Terminal, "build_window", build_window)
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    terminal = Terminal(settings, settings.profile("demo"), QtLogHandler())
    try:
        with pytest.raises(Stop):
            await terminal.run()
    finally:
        terminal.monitor.stop()
        await terminal.engine.stop()
    assert events == ["emulator spawned", "window built"]
