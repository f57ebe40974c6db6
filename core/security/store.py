"""What the terminal needs of a secret store (the vault or the OS keyring), and the Kite token adapter."""
from __future__ import annotations

import hashlib
from typing import Protocol

from .secret import Secret


class SecretStore(Protocol):
    """Named secrets: (venue, account, field) -> text. Vault and KeyringStore implement it."""

    def get(self, venue: str, account: str, field: str) -> Secret | None: ...

    def set(self, venue: str, account: str, field: str, value: str | Secret) -> None: ...

    def delete(self, venue: str, account: str, field: str) -> bool: ...


class KiteTokenStore:
    """connectors.zerodha's TokenStore (get/set of strings) kept in a secret store.

    The connector's keys look like "zerodha/<api_key>/access_token"; each becomes the entry
    (zerodha, account, "session.access_token.<sha256(api_key)[:12]>"), so the api key itself is not
    written as an entry name. Setting "" (the connector forgetting a refused token) deletes the entry.
    """

    def __init__(self, store: SecretStore, account: str) -> None:
        self._store = store
        self._account = account

    def get(self, key: str) -> str | None:
        secret = self._store.get("zerodha", self._account, _field(key))
        return None if secret is None else secret.reveal()

    def set(self, key: str, value: str) -> None:
        if value:
            self._store.set("zerodha", self._account, _field(key), value)
        else:
            self._store.delete("zerodha", self._account, _field(key))


def _field(key: str) -> str:
    owner, _, name = key.rpartition("/")
    digest = hashlib.sha256(owner.encode()).hexdigest()[:12]
    return f"session.{name or 'value'}.{digest}"
