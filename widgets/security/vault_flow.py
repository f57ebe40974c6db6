"""Unlock (or create) the vault: from a passphrase given up front (an environment variable), else the dialog.

scrypt runs in a worker thread. Each attempt is noted as a security event for the audit log, which the
caller writes once the profile's journal is open (wrong passphrases included, never the passphrase).
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QWidget

from core.security import SecurityError, SecurityEvent, Vault

from .unlock_dialog import UnlockDialog, run_dialog

log = logging.getLogger(__name__)
AuditNote = tuple[SecurityEvent, dict[str, Any]]


async def unlock_vault(path: Path, passphrase: str | None = None, allow_create: bool = False,
                       notes: list[AuditNote] | None = None, parent: QWidget | None = None) -> Vault | None:
    """Return the unlocked vault at path, or None (no vault and not allowed to create, refused, or cancelled)."""
    notes = notes if notes is not None else []
    exists = path.exists()
    if not exists and not allow_create:
        log.error("no credentials vault at %s: run the terminal with --setup-credentials", path)
        return None

    async def attempt(text: str) -> Vault:
        try:
            vault = await asyncio.to_thread(Vault.open if exists else Vault.create, path, text)
        except SecurityError as exc:
            notes.append((SecurityEvent.WRONG_PASSPHRASE, {"path": str(path), "error": type(exc).__name__}))
            raise
        notes.append((SecurityEvent.VAULT_UNLOCKED if exists else SecurityEvent.VAULT_CREATED, {"path": str(path)}))
        return vault

    if passphrase:
        try:
            return await attempt(passphrase)
        except SecurityError as exc:
            log.error("credentials vault: %s", exc)
            return None
    dialog: UnlockDialog[Vault] = UnlockDialog(attempt, create=not exists, parent=parent)
    if await run_dialog(dialog) != QDialog.DialogCode.Accepted:
        log.warning("credentials vault left locked: live venues will not connect")
        return None
    return dialog.value


async def change_passphrase(vault: Vault, new_passphrase: str | None = None, notes: list[AuditNote] | None = None,
                            parent: QWidget | None = None) -> bool:
    """Re-encrypt an unlocked vault under a new passphrase (asked twice when not given); False if cancelled."""
    notes = notes if notes is not None else []

    async def rekey(text: str) -> Vault:
        await asyncio.to_thread(vault.change_passphrase, text)  # one atomic write: the old or the new vault
        notes.append((SecurityEvent.PASSPHRASE_CHANGED, {"path": str(vault.path)}))
        return vault

    if new_passphrase:
        await rekey(new_passphrase)
        return True
    dialog: UnlockDialog[Vault] = UnlockDialog(rekey, create=True, title="New passphrase for the credentials vault", parent=parent)
    return await run_dialog(dialog) == QDialog.DialogCode.Accepted
