"""The hotkey editor (conflicts shown live, saving refused while any remain) and the help overlay."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QKeySequenceEdit, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from .keymap import ACTIONS, Keymap


class KeymapDialog(QDialog):
    """Edit the primary and secondary key of every action."""

    def __init__(self, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hotkeys")
        self.keymap = Keymap(dict(keymap.bindings))
        self.table = QTableWidget(len(ACTIONS), 3)
        self.table.setHorizontalHeaderLabels(["Action", "Key", "Alternative"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.edits: dict[tuple[str, int], QKeySequenceEdit] = {}
        for row, action in enumerate(ACTIONS):
            self.table.setItem(row, 0, QTableWidgetItem(action.label))
            keys = self.keymap.keys(action.name)
            for slot in (0, 1):
                edit = QKeySequenceEdit(QKeySequence(keys[slot]) if slot < len(keys) else QKeySequence())
                edit.keySequenceChanged.connect(self._changed)
                self.table.setCellWidget(row, slot + 1, edit)
                self.edits[(action.name, slot)] = edit
        self.problem = QLabel()
        self.problem.setProperty("state", "bad")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(620, 560)

    def _changed(self) -> None:
        for action in ACTIONS:
            keys = [self.edits[(action.name, s)].keySequence().toString(QKeySequence.SequenceFormat.PortableText) for s in (0, 1)]
            self.keymap.bind(action.name, [k for k in keys if k])
        conflicts = self.keymap.conflicts()
        self.problem.setText("\n".join(f"⚠ {k} is bound to {' and '.join(v)}" for k, v in conflicts.items()))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not conflicts)

    def restore_defaults(self) -> None:
        defaults = Keymap()
        for action in ACTIONS:
            keys = defaults.keys(action.name)
            for slot in (0, 1):
                self.edits[(action.name, slot)].setKeySequence(QKeySequence(keys[slot]) if slot < len(keys) else QKeySequence())
        self._changed()


class HotkeyHelp(QDialog):
    """A read-only overlay listing every hotkey (F12 or '?')."""

    def __init__(self, keymap: Keymap, extra: list[tuple[str, str]] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hotkeys")
        rows = [(a.label, "  or  ".join(keymap.keys(a.name))) for a in ACTIONS] + list(extra or [])
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (label, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(label))
            item = QTableWidgetItem(keys)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(row, 1, item)
        self.table = table
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.resize(560, 600)
