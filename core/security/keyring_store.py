"""The OS keyring (the `keyring` package) as a secret store, only where a real backend exists.

Refused, with KeyringUnavailable: the package missing, the fail and null backends, anything of priority
below 1, and plaintext or "insecure" backends (keyrings.alt's PlaintextKeyring and the like). A chain
is accepted only if every backend in it is. There is never a silent fallback to plaintext.
"""
from __future__ import annotations

from typing import Any

from .errors import KeyringUnavailable
from .redaction import register_secret
from .secret import Secret

SERVICE = "ShrivenQuant"
_REFUSED_WORDS = ("fail", "null", "plaintext", "insecure", "uncrypted", "unencrypted")


def real_backend(backend: Any) -> bool:
    """True if a keyring backend stores secrets in a real OS keyring."""
    inner = getattr(backend, "backends", None)
    if inner is not None:  # keyring's ChainerBackend
        return bool(inner) and all(real_backend(b) for b in inner)
    name = f"{type(backend).__module__}.{type(backend).__qualname__}".lower()
    try:
        priority = float(backend.priority)
    except Exception:
        return False
    return priority >= 1 and not any(word in name for word in _REFUSED_WORDS)


class KeyringStore:
    """get/set/delete of (venue, account, field) in the OS keyring, service "ShrivenQuant"."""

    def __init__(self, backend: Any = None) -> None:
        if backend is None:
            try:
                import keyring
            except ImportError:
                raise KeyringUnavailable("the keyring package is not installed; use the encrypted vault") from None
            backend = keyring.get_keyring()
        if not real_backend(backend):
            raise KeyringUnavailable(f"no secure OS keyring ({type(backend).__module__}.{type(backend).__name__}); "
                                     "use the encrypted vault")
        self._backend = backend

    def get(self, venue: str, account: str, field: str) -> Secret | None:
        """Return the stored value, or None."""
        text = self._backend.get_password(SERVICE, _username(venue, account, field))
        if text is None:
            return None
        register_secret(text)
        return Secret(text)

    def set(self, venue: str, account: str, field: str, value: str | Secret) -> None:
        """Store a value (replacing any old one)."""
        text = value.reveal() if isinstance(value, Secret) else value
        register_secret(text)
        self._backend.set_password(SERVICE, _username(venue, account, field), text)

    def delete(self, venue: str, account: str, field: str) -> bool:
        """Remove a value; False if there was none."""
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, _username(venue, account, field))
        except PasswordDeleteError:
            return False
        return True


def _username(venue: str, account: str, field: str) -> str:
    return f"{venue}|{account}|{field}"
