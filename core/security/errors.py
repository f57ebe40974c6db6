"""Errors of the credentials layer, under core.errors.ShrivenQuantError.

    ShrivenQuantError
    └── SecurityError
        ├── VaultError               the vault file is missing, exists already, or is not a vault
        │   ├── WrongPassphrase      the passphrase does not open this vault
        │   ├── VaultLocked          the vault was locked (lock()); open it again
        │   └── VaultTampered        an entry or the header failed authentication: nothing was decrypted
        ├── KeyringUnavailable       no real OS keyring backend (never a silent plaintext fallback)
        └── InsecureEndpoint         a live endpoint is not TLS, or not the venue's host; or the emulator is not loopback
"""
from __future__ import annotations

from core.errors import ShrivenQuantError


class SecurityError(ShrivenQuantError):
    pass


class VaultError(SecurityError):
    pass


class WrongPassphrase(VaultError):
    pass


class VaultLocked(VaultError):
    pass


class VaultTampered(VaultError):
    pass


class KeyringUnavailable(SecurityError):
    pass


class InsecureEndpoint(SecurityError):
    pass
