"""CredentialsDialog: pick a profile, enter its keys (secrets in password echo), test the connection, save.

Keys go only to the secret store (the vault); nothing is written to the settings file. A stored secret
is never shown: its field stays empty with a "stored" placeholder and an empty field keeps it. The test
callable is injected (the app's: connect with these keys, read balances, disconnect); its answer or error
is shown redacted.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from core.security import FIELDS, SecretStore, redact, register_secret, save_credentials

from ..order_entry import run_async
from .risk_form import RiskLimitsForm

TestConnection = Callable[[str, dict[str, str]], Awaitable[str]]  # (profile, field values) -> summary; raises on failure


class RiskSettings(Protocol):
    """Where a profile's risk limits live (the settings file's [profiles.NAME.risk.default] table)."""

    def load(self, profile: str) -> dict[str, Any]: ...
    def save(self, profile: str, table: dict[str, Any]) -> None: ...


class CredentialsDialog(QDialog):
    """Add or replace the keys of a live profile (profiles: profile name -> venue, "binance" or "zerodha")."""

    def __init__(self, store: SecretStore, profiles: Mapping[str, str], test_connection: TestConnection,
                 profile: str | None = None, parent: QWidget | None = None, risk: RiskSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Venue credentials")
        self._store = store
        self._profiles = dict(profiles)
        self._test = test_connection
        self._task: asyncio.Task[None] | None = None
        self.saved: list[str] = []
        self.profile = QComboBox()
        self.profile.addItems(list(self._profiles))
        if profile in self._profiles:
            self.profile.setCurrentText(profile)
        self.form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._risk = risk
        self.risk_form = RiskLimitsForm()
        top = QFormLayout()
        top.addRow("Profile", self.profile)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.form)
        layout.addWidget(self.test_button)
        risk_box = QGroupBox("Risk limits (every venue of the profile; empty = default)", self)
        QVBoxLayout(risk_box).addWidget(self.risk_form)
        risk_box.setVisible(risk is not None)
        layout.addWidget(risk_box)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.profile.currentTextChanged.connect(self._build_fields)
        self._build_fields(self.profile.currentText())

    @property
    def venue(self) -> str:
        return self._profiles[self.profile.currentText()]

    def _build_fields(self, profile: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.edits = {}
        for spec in FIELDS[self._profiles[profile]]:
            edit = QLineEdit()
            stored = self._store.get(self.venue, profile, spec.name)
            if spec.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setPlaceholderText("stored (leave empty to keep)" if stored is not None else "")
            elif stored is not None:
                edit.setText(stored.reveal())
            self.form.addRow(spec.label, edit)
            self.edits[spec.name] = edit
        if self._risk is not None:
            self.risk_form.load(self._risk.load(profile))
        self._show("", ok=True)

    def values(self) -> dict[str, str]:
        """The entered values, with stored secrets standing in for empty secret fields."""
        out: dict[str, str] = {}
        profile = self.profile.currentText()
        for name, edit in self.edits.items():
            text = edit.text().strip()
            if not text:
                stored = self._store.get(self.venue, profile, name)
                text = stored.reveal() if stored is not None else ""
            out[name] = text
        return out

    def test_connection(self) -> None:
        """Run the injected test with the current values; the answer shows under the fields."""
        if self._task is not None and not self._task.done():
            return
        values = self.values()
        for text in values.values():  # typed but not yet saved: redact them from any answer or log too
            register_secret(text)
        self.test_button.setEnabled(False)
        self._show("Connecting…", ok=True)
        self._task = run_async(self._run_test(self.profile.currentText(), values))

    async def _run_test(self, profile: str, values: dict[str, str]) -> None:
        try:
            summary = await self._test(profile, values)
        except Exception as exc:  # any failure is the answer to show: the user fixes the keys and tries again
            self._show(f"Failed: {exc}", ok=False)
        else:
            self._show(f"OK: {summary}", ok=True)
        finally:
            self.test_button.setEnabled(True)

    def save(self) -> None:
        """Write the keys to the store and close; a missing field keeps the dialog open with the reason."""
        try:
            limits = self.risk_form.values() if self._risk is not None else None
            self.saved = save_credentials(self._store, self.venue, self.profile.currentText(), self.values())
            if self._risk is not None and limits is not None:
                self._risk.save(self.profile.currentText(), limits)
        except (ValueError, OSError) as exc:
            self._show(str(exc), ok=False)
            return
        self.accept()

    def _show(self, text: str, ok: bool) -> None:
        self.status.setText(redact(text))
        self.status.setProperty("state", "ok" if ok else "bad")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
