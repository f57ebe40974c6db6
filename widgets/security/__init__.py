"""Credential dialogs: unlock (or create) the vault, and add/test/save venue keys."""
from .credentials_dialog import CredentialsDialog
from .unlock_dialog import UnlockDialog, run_dialog
from .vault_flow import AuditNote, change_passphrase, unlock_vault

__all__ = ["AuditNote", "CredentialsDialog", "UnlockDialog", "change_passphrase", "run_dialog", "unlock_vault"]
