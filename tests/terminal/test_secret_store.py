"""A profile may keep its keys in the OS keyring instead of the vault, and only in a real one."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtWidgets import QApplication

from core.security import KeyringStore, save_credentials
from terminal.app import Terminal, vault_path
from terminal.settings import Settings
from widgets.log_panel import QtLogHandler


class DesktopKeyring:
    """Stands in for an OS keyring backend (Secret Service, macOS Keychain...)."""

    priority = 5

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


def keyring_profile(tmp_path: Path) -> tuple[Settings, Any]:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    settings.set_profile_option("binance", "secret_store", "keyring")
    return settings, settings.profile("binance")


async def test_keys_come_from_a_real_keyring_and_no_vault_is_made(tmp_path: Path, qapp: QApplication,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    backend = DesktopKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    save_credentials(KeyringStore(backend), "binance", "binance", {"api_key": "key-123456", "api_secret": "secret-123456"})
    settings, profile = keyring_profile(tmp_path)
    terminal = Terminal(settings, profile, QtLogHandler())
    await terminal.unlock_credentials()
    assert terminal.credentials["binance"].api_key.reveal() == "key-123456"
    assert not vault_path(settings).exists()


async def test_without_a_secure_keyring_nothing_connects_and_nothing_falls_back(
        tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    settings, profile = keyring_profile(tmp_path)
    terminal = Terminal(settings, profile, QtLogHandler())
    with caplog.at_level(logging.ERROR):
        await terminal.unlock_credentials()
    assert terminal.credentials == {} and not vault_path(settings).exists()
    assert "no secure OS keyring" in caplog.text
