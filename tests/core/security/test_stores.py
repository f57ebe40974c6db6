from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring.backend
import pytest
from keyring.backends import fail, null
from keyring.errors import PasswordDeleteError

from core.journal import Journal
from core.security import audit
from core.security.credentials import load_credentials, save_credentials, venue_of_profile
from core.security.errors import InsecureEndpoint, KeyringUnavailable
from core.security.keyring_store import KeyringStore, real_backend
from core.security.redaction import register_secret
from core.security.secret import Secret
from core.security.store import KiteTokenStore
from core.security.transport import check_live_endpoint, check_loopback
from core.security.vault import ScryptCost, Vault


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError("absent")


class PlaintextKeyring(MemoryKeyring):
    pass


def test_keyring_store_round_trips_on_a_real_backend() -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend)
    store.set("binance", "binance", "api_secret", Secret("ring-secret-1"))
    assert store.get("binance", "binance", "api_secret") == Secret("ring-secret-1")
    assert real_backend(backend) and real_backend(type("Chain", (), {"backends": [backend]})())
    assert backend.values == {("ShrivenQuant", "binance|binance|api_secret"): "ring-secret-1"}
    assert store.delete("binance", "binance", "api_secret") and not store.delete("binance", "binance", "api_secret")
    assert store.get("binance", "binance", "api_secret") is None


class MixedChain:  # shaped like keyring's ChainerBackend (whose `backends` is a read-only class property)
    backends = [MemoryKeyring(), PlaintextKeyring()]


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), PlaintextKeyring(), MixedChain()])
def test_no_silent_plaintext_fallback(backend: Any) -> None:
    assert not real_backend(backend)
    with pytest.raises(KeyringUnavailable, match="vault"):
        KeyringStore(backend)


def test_the_default_backend_here_is_refused_or_real() -> None:
    import keyring

    backend = keyring.get_keyring()
    if real_backend(backend):
        KeyringStore()
    else:
        with pytest.raises(KeyringUnavailable):
            KeyringStore()


def test_kite_token_store_keeps_tokens_in_the_vault_without_the_api_key_as_a_name(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    vault = Vault.create(path, "pw", ScryptCost(2**10))
    tokens = KiteTokenStore(vault, "zerodha")
    tokens.set("zerodha/kite-app-key-1/access_token", "access-token-abc")
    tokens.set("zerodha/kite-app-key-1/login_time", "2026-12-04T09:00:00+05:30")
    again = KiteTokenStore(Vault.open(path, "pw"), "zerodha")
    assert again.get("zerodha/kite-app-key-1/access_token") == "access-token-abc"
    assert again.get("zerodha/other-key/access_token") is None
    assert "kite-app-key-1" not in path.read_text()
    tokens.set("zerodha/kite-app-key-1/access_token", "")  # the connector forgetting a refused token
    assert KiteTokenStore(Vault.open(path, "pw"), "zerodha").get("zerodha/kite-app-key-1/access_token") is None


def test_kite_token_store_satisfies_the_connector_protocol(tmp_path: Path) -> None:
    from datetime import datetime

    from connectors.zerodha import auth

    vault = Vault.create(tmp_path / "v.json", "pw", ScryptCost(2**10))
    store: auth.TokenStore = KiteTokenStore(vault, "zerodha")
    now = datetime.now(auth.IST)
    session = auth.KiteSession("AB1234", "A B", "tok-123456", "pub", now, ("NSE",), ("CNC",))
    auth.store_session(store, "app-key", session)
    assert auth.stored_token(store, "app-key", now) == "tok-123456"
    auth.forget_token(store, "app-key")
    assert auth.stored_token(store, "app-key", now) is None


def test_credentials_save_and_load_per_profile(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "v.json", "pw", ScryptCost(2**10))
    with pytest.raises(ValueError, match="Secret key"):
        save_credentials(vault, "binance", "binance", {"api_key": "k-123456"})
    assert vault.entries() == []
    assert save_credentials(vault, "binance", "binance-testnet", {"api_key": "k-123456", "api_secret": " s-123456 "}) == [
        "api_key", "api_secret"]
    creds = load_credentials(vault, "binance", "binance-testnet")
    assert creds is not None and creds.api_secret == Secret("s-123456")
    assert load_credentials(vault, "binance", "binance") is None
    with pytest.raises(ValueError, match="API secret"):
        save_credentials(vault, "zerodha", "zerodha", {"api_key": "k"})
    assert venue_of_profile(("emulator",)) is None and venue_of_profile(("zerodha",)) == "zerodha"


@pytest.mark.parametrize("venue, url", [("binance", "https://api.binance.com"), ("binance", "wss://stream.binance.com:9443"),
                                        ("binance", "https://testnet.binance.vision"), ("binance", "wss://fstream.binancefuture.com"),
                                        ("zerodha", "https://api.kite.trade"), ("zerodha", "wss://ws.kite.trade"),
                                        ("zerodha", "https://kite.zerodha.com/connect/login")])
def test_live_endpoints_of_the_venues_pass(venue: str, url: str) -> None:
    assert check_live_endpoint(venue, url) == url


@pytest.mark.parametrize("venue, url, why", [
    ("binance", "http://api.binance.com", "not TLS"), ("zerodha", "ws://ws.kite.trade", "not TLS"),
    ("binance", "https://api.binance.com.evil.io", "not a binance host"), ("binance", "https://evilbinance.com", "not a binance"),
    ("zerodha", "https://api.binance.com", "not a zerodha"), ("binance", "https://user:pw@api.binance.com", "credentials"),
    ("emulator", "https://127.0.0.1", "none known")])
def test_other_endpoints_are_refused(venue: str, url: str, why: str) -> None:
    with pytest.raises(InsecureEndpoint, match=why):
        check_live_endpoint(venue, url)


def test_the_emulator_must_be_loopback() -> None:
    assert check_loopback("http://127.0.0.1:8000")
    with pytest.raises(InsecureEndpoint):
        check_loopback("http://10.0.0.5:8000")


def test_security_events_are_audited_in_the_journal_redacted(tmp_path: Path) -> None:
    register_secret("audit-canary-77")
    journal = Journal.open(tmp_path / "j.db")
    try:
        audit.record(journal, audit.SecurityEvent.VAULT_UNLOCKED, profile="binance", note="opened with audit-canary-77")
        journal.audit("user_action", {"text": "api_key=audit-canary-77"})  # the journal redacts every audit entry
        entries = journal.audit_entries()
    finally:
        journal.close()
    assert entries[1].kind == "security" and entries[1].detail == {"event": "vault_unlocked", "profile": "binance",
                                                                    "note": "opened with ***"}
    assert entries[0].detail == {"text": "api_key=***"}
    assert b"audit-canary-77" not in (tmp_path / "j.db").read_bytes()
    wal = tmp_path / "j.db-wal"
    assert not wal.exists() or b"audit-canary-77" not in wal.read_bytes()
