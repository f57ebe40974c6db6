from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from core.security import redaction
from core.security import vault as vault_module
from core.security.errors import VaultError, VaultLocked, VaultTampered, WrongPassphrase
from core.security.secret import Secret
from core.security.vault import OWASP, ScryptCost, Vault


def test_round_trip_at_owasp_cost_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "vault.json"
    v = Vault.create(path, "correct horse battery")
    assert v.cost == OWASP == ScryptCost(2**17, 8, 1)
    v.set("binance", "binance", "api_key", "K" * 64)
    v.set("binance", "binance", "api_secret", Secret("S" * 64))
    again = Vault.open(path, "correct horse battery")
    assert again.get("binance", "binance", "api_secret") == Secret("S" * 64)
    assert again.get("binance", "binance", "api_key").reveal() == "K" * 64  # type: ignore[union-attr]
    assert again.get("binance", "binance-testnet", "api_key") is None
    assert again.entries() == [("binance", "binance", "api_key"), ("binance", "binance", "api_secret")]
    doc = json.loads(path.read_text())
    assert doc["kdf"] | {"salt": None} == {"name": "scrypt", "n": 2**17, "r": 8, "p": 1, "salt": None}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 16
    assert "S" * 64 not in path.read_text() and "K" * 64 not in path.read_text()


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    Vault.create(tmp_path / "v.json", "right one", OWASP).set("zerodha", "zerodha", "api_secret", "kite-secret-1")
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Vault.open(tmp_path / "v.json", "wrong one")


def test_every_encryption_takes_a_fresh_nonce_and_salt_changes_with_the_passphrase(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    v = Vault.create(path, "pw-1", fast)
    v.set("binance", "a", "api_secret", "same-value")
    v.set("binance", "b", "api_secret", "same-value")
    doc = json.loads(path.read_text())
    nonces = [e["nonce"] for e in doc["entries"]] + [doc["verifier"]["nonce"]]
    assert len(set(nonces)) == 3
    assert doc["entries"][0]["ciphertext"] != doc["entries"][1]["ciphertext"]
    salt = doc["kdf"]["salt"]
    v.change_passphrase("pw-2", fast)
    assert json.loads(path.read_text())["kdf"]["salt"] != salt
    with pytest.raises(WrongPassphrase):
        Vault.open(path, "pw-1")
    assert Vault.open(path, "pw-2").get("binance", "b", "api_secret") == Secret("same-value")


def test_file_is_0600_from_creation_and_a_loose_mode_is_tightened(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "sub" / "v.json"
    v = Vault.create(path, "pw", fast)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    v.set("binance", "binance", "api_key", "abcdefgh")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    Vault.open(path, "pw")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_create_refuses_an_existing_file_and_open_a_missing_or_foreign_one(tmp_path: Path, fast: ScryptCost) -> None:
    Vault.create(tmp_path / "v.json", "pw", fast)
    with pytest.raises(VaultError, match="already exists"):
        Vault.create(tmp_path / "v.json", "pw", fast)
    with pytest.raises(VaultError, match="no vault"):
        Vault.open(tmp_path / "missing.json", "pw")
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(VaultError, match="not a"):
        Vault.open(tmp_path / "x.json", "pw")


def _flip(path: Path, entry: int, field: str) -> None:
    doc = json.loads(path.read_text())
    raw = bytearray(base64.b64decode(doc["entries"][entry][field]))
    raw[len(raw) // 2] ^= 0x01
    doc["entries"][entry][field] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_a_flipped_byte_fails_authentication_with_no_plaintext(tmp_path: Path, fast: ScryptCost, field: str) -> None:
    path = tmp_path / "v.json"
    v = Vault.create(path, "pw", fast)
    v.set("binance", "binance", "api_secret", "the-real-secret-value")
    v.set("binance", "binance", "api_key", "the-api-key-value")
    _flip(path, 1, field)  # entries are sorted: 1 is api_secret
    opened = Vault.open(path, "pw")
    with pytest.raises(VaultTampered, match="binance/binance/api_secret") as info:
        opened.get("binance", "binance", "api_secret")
    assert "the-real" not in str(info.value) and info.value.__cause__ is None
    assert opened.get("binance", "binance", "api_key") == Secret("the-api-key-value")  # the others still open
    with pytest.raises(VaultTampered):
        opened.change_passphrase("new", fast)  # refused before anything is written
    assert Vault.open(path, "pw").entries() == opened.entries()


def test_an_altered_header_is_refused_like_a_wrong_passphrase(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    Vault.create(path, "pw", fast)
    doc = json.loads(path.read_text())
    doc["kdf"]["n"] = 2**11
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        Vault.open(path, "pw")


def test_entries_cannot_be_swapped_between_names(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    v = Vault.create(path, "pw", fast)
    v.set("binance", "binance", "api_secret", "live-secret-xyz")
    v.set("binance", "binance-testnet", "api_secret", "test-secret-xyz")
    doc = json.loads(path.read_text())
    a, b = doc["entries"]
    a["account"], b["account"] = b["account"], a["account"]
    path.write_text(json.dumps(doc))
    opened = Vault.open(path, "pw")
    for account in ("binance", "binance-testnet"):
        with pytest.raises(VaultTampered):
            opened.get("binance", account, "api_secret")


def test_a_crash_before_the_replace_leaves_the_old_vault_readable(tmp_path: Path, fast: ScryptCost,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.json"
    v = Vault.create(path, "old-pw", fast)
    v.set("zerodha", "zerodha", "api_secret", "kite-app-secret")
    before = path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(vault_module.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        v.change_passphrase("new-pw", fast)
    with pytest.raises(OSError):
        v.set("zerodha", "zerodha", "api_key", "never-written")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert v.entries() == [("zerodha", "zerodha", "api_secret")]  # the object did not move either
    assert Vault.open(path, "old-pw").get("zerodha", "zerodha", "api_secret") == Secret("kite-app-secret")
    v.set("zerodha", "zerodha", "api_key", "written-now")  # and the old key still writes
    assert Vault.open(path, "old-pw").get("zerodha", "zerodha", "api_key") == Secret("written-now")


def test_a_leftover_temp_file_from_a_killed_write_does_not_matter(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    Vault.create(path, "pw", fast).set("binance", "binance", "api_key", "key-123456")
    (tmp_path / ".v.json.dead.tmp").write_bytes(b'{"half": ')
    assert Vault.open(path, "pw").get("binance", "binance", "api_key") == Secret("key-123456")


def test_lock_drops_the_key(tmp_path: Path, fast: ScryptCost) -> None:
    v = Vault.create(tmp_path / "v.json", "pw", fast)
    v.set("binance", "binance", "api_key", "key-123456")
    v.lock()
    assert not v.unlocked
    for call in (lambda: v.get("binance", "binance", "api_key"), v.entries,
                 lambda: v.set("binance", "binance", "api_key", "x"), lambda: v.delete("binance", "binance", "api_key")):
        with pytest.raises(VaultLocked):
            call()


def test_delete_and_bad_names(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    v = Vault.create(path, "pw", fast)
    v.set("binance", "binance", "api_key", "key-123456")
    assert v.delete("binance", "binance", "api_key") and not v.delete("binance", "binance", "api_key")
    assert Vault.open(path, "pw").entries() == []
    with pytest.raises(VaultError, match="'|'"):
        v.set("binance", "a|b", "api_key", "x")
    with pytest.raises(VaultError):
        v.set("", "a", "api_key", "x")


def test_revealed_values_are_registered_for_redaction(tmp_path: Path, fast: ScryptCost) -> None:
    path = tmp_path / "v.json"
    Vault.create(path, "pw", fast).set("binance", "binance", "api_secret", "registered-secret")
    redaction.forget_secrets()
    Vault.open(path, "pw").get("binance", "binance", "api_secret")
    assert redaction.redact("x registered-secret y") == "x *** y"
