from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from core.security import SecurityEvent
from core.security.secret import Secret
from core.security.vault import Vault
from widgets.security import AuditNote, UnlockDialog, unlock_vault


@pytest.fixture
def app_loop(qapp: QApplication, qloop: qasync.QEventLoop) -> Iterator[qasync.QEventLoop]:
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # as the terminal runs
    try:
        yield qloop
    finally:
        qapp.setQuitOnLastWindowClosed(quits)


def open_dialog() -> UnlockDialog[Vault]:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, UnlockDialog) and w.isVisible()]
    assert len(found) == 1
    return found[0]


def test_a_given_passphrase_unlocks_without_a_dialog_and_is_noted(vault: Vault, app_loop: qasync.QEventLoop) -> None:
    vault.set("binance", "binance", "api_key", "key-123456")
    notes: list[AuditNote] = []
    opened = app_loop.run_until_complete(unlock_vault(vault.path, "passphrase-1", notes=notes))
    assert opened is not None and opened.get("binance", "binance", "api_key") == Secret("key-123456")
    assert notes == [(SecurityEvent.VAULT_UNLOCKED, {"path": str(vault.path)})]


def test_a_wrong_given_passphrase_is_logged_noted_and_leaves_it_locked(vault: Vault, app_loop: qasync.QEventLoop,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    notes: list[AuditNote] = []
    assert app_loop.run_until_complete(unlock_vault(vault.path, "not-it", notes=notes)) is None
    assert "wrong passphrase" in caplog.text and "not-it" not in caplog.text
    assert notes == [(SecurityEvent.WRONG_PASSPHRASE, {"path": str(vault.path), "error": "WrongPassphrase"})]


def test_no_vault_and_no_creation_says_how_to_make_one(tmp_path: Path, app_loop: qasync.QEventLoop,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    assert app_loop.run_until_complete(unlock_vault(tmp_path / "none.json")) is None
    assert "--setup-credentials" in caplog.text and not (tmp_path / "none.json").exists()


def test_the_dialog_creates_a_vault_when_allowed(tmp_path: Path, app_loop: qasync.QEventLoop) -> None:
    path = tmp_path / "new.json"
    notes: list[AuditNote] = []

    async def scenario() -> Vault | None:
        waiting = asyncio.ensure_future(unlock_vault(path, allow_create=True, notes=notes))
        await asyncio.sleep(0.05)
        dialog = open_dialog()
        assert dialog.confirm.isVisibleTo(dialog)  # create mode asks twice
        dialog.passphrase.setText("a-new-passphrase")
        dialog.confirm.setText("a-new-passphrase")
        dialog.submit()
        return await asyncio.wait_for(waiting, 10)

    vault = app_loop.run_until_complete(scenario())
    assert vault is not None and vault.path == path and path.exists()
    assert [n[0] for n in notes] == [SecurityEvent.VAULT_CREATED]


def test_cancelling_the_dialog_leaves_the_vault_locked(vault: Vault, app_loop: qasync.QEventLoop) -> None:
    async def scenario() -> Vault | None:
        waiting = asyncio.ensure_future(unlock_vault(vault.path))
        await asyncio.sleep(0.05)
        open_dialog().reject()
        return await asyncio.wait_for(waiting, 5)

    assert app_loop.run_until_complete(scenario()) is None
