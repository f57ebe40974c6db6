from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from widgets.keymap import ACTIONS, Keymap, normalise
from widgets.keymap_dialog import HotkeyHelp, KeymapDialog


def test_defaults_have_no_conflicts_and_cover_every_action(qapp: object) -> None:
    keymap = Keymap()
    assert keymap.conflicts() == {}
    assert all(keymap.keys(a.name) for a in ACTIONS)
    assert keymap.keys("buy_ticket") == ("F1", "Shift+B")
    assert keymap.keys("kill_switch") == ("Ctrl+Shift+K",)


def test_conflicts_are_detected_and_block_saving(qapp: object, tmp_path: Path) -> None:
    keymap = Keymap()
    keymap.bind("cancel_all", ["F1"])
    assert keymap.conflicts() == {"F1": ["buy_ticket", "cancel_all"]}
    with pytest.raises(ValueError, match="F1 -> buy_ticket, cancel_all"):
        keymap.save(tmp_path / "k.json")


def test_round_trip_and_bad_input(qapp: object, tmp_path: Path) -> None:
    keymap = Keymap()
    keymap.bind("cancel_all", ["ctrl+alt+c"])
    keymap.save(tmp_path / "k.json")
    again = Keymap.load(tmp_path / "k.json")
    assert again.keys("cancel_all") == ("Ctrl+Alt+C",)
    with pytest.raises(KeyError):
        keymap.bind("launch_rockets", ["F9"])
    (tmp_path / "bad.json").write_text("[oops")
    assert Keymap.load(tmp_path / "bad.json").keys("help") == Keymap().keys("help")
    assert normalise("shift+s") == "Shift+S"


def test_dialog_shows_conflicts_live(qtbot: QtBot) -> None:
    dialog = KeymapDialog(Keymap())
    qtbot.addWidget(dialog)
    dialog.edits[("cancel_all", 0)].setKeySequence(QKeySequence("F2"))
    assert "F2 is bound to" in dialog.problem.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()
    dialog.restore_defaults()
    assert dialog.problem.text() == "" and dialog.keymap.keys("cancel_all") == ("Ctrl+Shift+X",)


def test_help_lists_every_action(qtbot: QtBot) -> None:
    help_ = HotkeyHelp(Keymap(), extra=[("Ladder: centre", "C")])
    qtbot.addWidget(help_)
    assert help_.table.rowCount() == len(ACTIONS) + 1
