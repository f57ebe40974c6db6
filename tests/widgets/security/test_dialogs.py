from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from core.security.errors import WrongPassphrase
from core.security.secret import Secret
from core.security.vault import Vault
from widgets.security import CredentialsDialog, UnlockDialog, run_dialog

PROFILES = {"binance": "binance", "binance-testnet": "binance", "zerodha": "zerodha"}


async def never(profile: str, values: dict[str, str]) -> str:
    raise AssertionError("not called")


def test_fields_follow_the_profile_and_secrets_use_password_echo(qtbot: QtBot, vault: Vault, qloop: object) -> None:
    dialog = CredentialsDialog(vault, PROFILES, never, profile="zerodha")
    qtbot.addWidget(dialog)
    assert list(dialog.edits) == ["api_key", "api_secret"]
    assert dialog.edits["api_secret"].echoMode() is QLineEdit.EchoMode.Password
    assert dialog.edits["api_key"].echoMode() is QLineEdit.EchoMode.Normal
    dialog.profile.setCurrentText("binance-testnet")
    assert dialog.venue == "binance" and list(dialog.edits) == ["api_key", "api_secret"]


def test_save_writes_the_vault_and_a_missing_field_keeps_the_dialog_open(qtbot: QtBot, vault: Vault, qloop: object) -> None:
    dialog = CredentialsDialog(vault, PROFILES, never, profile="zerodha")
    qtbot.addWidget(dialog)
    dialog.edits["api_key"].setText("kite-key-123")
    dialog.save()
    assert "API secret" in dialog.status.text() and vault.entries() == []
    dialog.edits["api_secret"].setText("kite-secret-456")
    dialog.save()
    assert dialog.result() == CredentialsDialog.DialogCode.Accepted and dialog.saved == ["api_key", "api_secret"]
    reopened = Vault.open(vault.path, "passphrase-1")
    assert reopened.get("zerodha", "zerodha", "api_secret") == Secret("kite-secret-456")


def test_a_stored_secret_is_never_shown_and_an_empty_field_keeps_it(qtbot: QtBot, vault: Vault, qloop: object) -> None:
    vault.set("binance", "binance", "api_key", "bin-key-123")
    vault.set("binance", "binance", "api_secret", "bin-secret-456")
    dialog = CredentialsDialog(vault, PROFILES, never, profile="binance")
    qtbot.addWidget(dialog)
    assert dialog.edits["api_key"].text() == "bin-key-123"
    assert dialog.edits["api_secret"].text() == "" and "stored" in dialog.edits["api_secret"].placeholderText()
    dialog.save()
    assert vault.get("binance", "binance", "api_secret") == Secret("bin-secret-456")


def test_test_connection_calls_the_injected_callable_and_shows_the_answer_redacted(
        qtbot: QtBot, vault: Vault, spin: Callable[[float], None]) -> None:
    calls: list[tuple[str, dict[str, str]]] = []

    async def check(profile: str, values: dict[str, str]) -> str:
        calls.append((profile, values))
        await asyncio.sleep(0)
        if values["api_secret"] == "bad-secret-999":
            raise PermissionError(f"signature rejected for {values['api_secret']}")
        return "3 balances"

    dialog = CredentialsDialog(vault, PROFILES, check, profile="binance-testnet")
    qtbot.addWidget(dialog)
    dialog.edits["api_key"].setText("bin-key-123")
    dialog.edits["api_secret"].setText("good-secret-1")
    dialog.test_button.click()
    spin(0.05)
    assert calls == [("binance-testnet", {"api_key": "bin-key-123", "api_secret": "good-secret-1"})]
    assert dialog.status.text() == "OK: 3 balances" and dialog.test_button.isEnabled()
    dialog.edits["api_secret"].setText("bad-secret-999")
    dialog.test_button.click()
    spin(0.05)
    assert dialog.status.text() == "Failed: signature rejected for ***"
    assert vault.entries() == []  # testing saves nothing


def test_unlock_dialog_shows_a_wrong_passphrase_inline_then_unlocks(qtbot: QtBot, tmp_path: Path,
                                                                    spin: Callable[[float], None]) -> None:
    attempts: list[str] = []

    async def unlock(passphrase: str) -> str:
        attempts.append(passphrase)
        if passphrase != "right-passphrase":
            raise WrongPassphrase("wrong passphrase: the vault stays locked")
        return "vault"

    dialog: UnlockDialog[str] = UnlockDialog(unlock)
    qtbot.addWidget(dialog)
    dialog.submit()
    assert dialog.error.text() == "Enter the passphrase." and attempts == []
    dialog.passphrase.setText("nope")
    dialog.submit()
    spin(0.05)
    assert "wrong passphrase" in dialog.error.text() and dialog.passphrase.text() == "" and dialog.isVisible() is False
    assert dialog.result() == 0
    dialog.passphrase.setText("right-passphrase")
    dialog.submit()
    spin(0.05)
    assert dialog.value == "vault" and dialog.result() == UnlockDialog.DialogCode.Accepted


def test_create_mode_asks_twice_and_a_long_enough_passphrase(qtbot: QtBot, qloop: object) -> None:
    async def create(passphrase: str) -> str:
        return passphrase

    dialog: UnlockDialog[str] = UnlockDialog(create, create=True)
    qtbot.addWidget(dialog)
    dialog.passphrase.setText("short")
    dialog.submit()
    assert "at least" in dialog.error.text()
    dialog.passphrase.setText("long-enough-1")
    dialog.confirm.setText("long-enough-2")
    dialog.submit()
    assert "differ" in dialog.error.text()


def test_run_dialog_waits_without_a_nested_loop(qtbot: QtBot, qapp: QApplication, qloop: asyncio.AbstractEventLoop) -> None:
    async def unlock(passphrase: str) -> str:
        return passphrase

    dialog: UnlockDialog[str] = UnlockDialog(unlock)
    qtbot.addWidget(dialog)
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # as the terminal runs: closing the only window must not end the loop

    async def scenario() -> int:
        waiting = asyncio.ensure_future(run_dialog(dialog))
        await asyncio.sleep(0.01)
        assert dialog.isVisible()
        dialog.passphrase.setText("anything-1")
        dialog.submit()
        return await asyncio.wait_for(waiting, 5)

    try:
        assert qloop.run_until_complete(scenario()) == UnlockDialog.DialogCode.Accepted
    finally:
        qapp.setQuitOnLastWindowClosed(quits)
    assert dialog.value == "anything-1"


@pytest.mark.parametrize("text", ["Secret key", "API secret"])
def test_labels_name_the_secret_field_per_venue(qtbot: QtBot, vault: Vault, qloop: object, text: str) -> None:
    dialog = CredentialsDialog(vault, PROFILES, never, profile="binance" if text == "Secret key" else "zerodha")
    qtbot.addWidget(dialog)
    labels = [dialog.form.itemAt(i, dialog.form.ItemRole.LabelRole).widget().text() for i in range(dialog.form.rowCount())]
    assert labels == ["API key", text]
