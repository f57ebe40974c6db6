"""The setup flows: risk limits checked before anything is written and saved to the profile's settings;
the vault re-encrypted under a new passphrase."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from core.risk import RiskProfile
from core.security.audit import SecurityEvent
from core.security.errors import WrongPassphrase
from core.security.secret import Secret
from core.security.vault import Vault
from terminal.settings import ProfileRisk, Settings
from widgets.security import AuditNote, CredentialsDialog, change_passphrase

PROFILES = {"binance": "binance", "zerodha": "zerodha"}


async def never(profile: str, values: dict[str, str]) -> str:
    raise AssertionError("not called")


def test_limits_are_validated_then_saved_to_the_settings_file(qtbot: QtBot, vault: Vault, tmp_path: Path, qloop: object) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    dialog = CredentialsDialog(vault, PROFILES, never, profile="binance", risk=ProfileRisk(settings))
    qtbot.addWidget(dialog)
    dialog.edits["api_key"].setText("key-123456")
    dialog.edits["api_secret"].setText("secret-123456")
    dialog.risk_form.edits["max_open_orders"].setText("2.5")
    dialog.save()
    assert "Max open orders: must be a positive whole number" in dialog.status.text() and vault.entries() == []
    dialog.risk_form.edits["max_open_orders"].setText("20")
    dialog.risk_form.edits["max_order_value"].setText("25,000")
    dialog.risk_form.edits["daily_loss_limit"].setText("1500.5")
    dialog.save()
    assert dialog.result() == CredentialsDialog.DialogCode.Accepted
    reread = Settings.load(tmp_path / "settings.toml", tmp_path / "data")  # what the next start reads
    table: dict[str, Any] = reread.profile("binance").options["risk"]
    assert table == {"default": {"max_order_value": 25000, "daily_loss_limit": 1500.5, "max_open_orders": 20}}
    limits = RiskProfile.from_dict(table).default
    assert (limits.max_open_orders, str(limits.max_order_value)) == (20, "25000")
    assert "secret-123456" not in (tmp_path / "settings.toml").read_text()


def test_the_form_shows_the_saved_limits_of_the_chosen_profile(qtbot: QtBot, vault: Vault, tmp_path: Path, qloop: object) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    ProfileRisk(settings).save("zerodha", {"orders_per_second": 5})
    dialog = CredentialsDialog(vault, PROFILES, never, profile="binance", risk=ProfileRisk(settings))
    qtbot.addWidget(dialog)
    assert dialog.risk_form.edits["orders_per_second"].text() == ""
    dialog.profile.setCurrentText("zerodha")
    assert dialog.risk_form.edits["orders_per_second"].text() == "5"


async def test_change_passphrase_rekeys_the_vault_and_audits_it(vault: Vault) -> None:
    vault.set("binance", "binance", "api_secret", "secret-abcdef")
    notes: list[AuditNote] = []
    assert await change_passphrase(vault, "a-new-passphrase-2", notes=notes)
    assert [event for event, _ in notes] == [SecurityEvent.PASSPHRASE_CHANGED]
    with pytest.raises(WrongPassphrase):
        Vault.open(vault.path, "passphrase-1")
    assert Vault.open(vault.path, "a-new-passphrase-2").get("binance", "binance", "api_secret") == Secret("secret-abcdef")
