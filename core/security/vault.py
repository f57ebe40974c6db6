"""The credentials vault: one JSON file of AES-256-GCM encrypted entries, keyed by a passphrase.

File (mode 0600, written atomically: temp file in the same folder, fsync, os.replace, fsync of the folder;
a crash leaves the old file or the new one, never a mix):

    {"format": "shrivenquant-vault", "version": 1,
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>"},
     "verifier": {"nonce": "<12 bytes>", "ciphertext": "..."},
     "entries": [{"venue": "binance", "account": "binance", "field": "api_secret", "nonce": "...", "ciphertext": "..."}]}

Key: scrypt(passphrase, salt) at OWASP's cost (N=2^17, r=8, p=1; about 0.3-1 s) -> 32 bytes -> AES-256-GCM.
Every encryption takes a fresh random 12-byte nonce. Each entry's associated data is "venue|account|field",
so an entry moved to another name fails authentication; the verifier's associated data is the KDF header,
so a wrong passphrase (or an altered header) raises WrongPassphrase before any entry is touched. A flipped
byte in an entry raises VaultTampered and returns nothing of it. Names (venue, account, field) are not
secret and stay readable; values are.

The derived key lives in this object only while unlocked; lock() drops it (Python cannot promise to wipe
the bytes, but nothing keeps a reference). get() returns a Secret and registers the text for log
redaction. Tests may pass a lower `cost` to keep runs fast; real vaults use OWASP (the default).
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import VaultError, VaultLocked, VaultTampered, WrongPassphrase
from .redaction import register_secret
from .secret import Secret

log = logging.getLogger(__name__)

FORMAT, VERSION = "shrivenquant-vault", 1
SALT_BYTES, NONCE_BYTES, KEY_BYTES = 16, 12, 32
_VERIFIER_TEXT = b"shrivenquant-vault-ok"

Name = tuple[str, str, str]  # venue, account, field


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's work factors: n (CPU/memory, a power of two), r (block size), p (parallelism)."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """Return the 32-byte key of a passphrase and salt."""
        return Scrypt(salt=salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p).derive(passphrase.encode())


OWASP = ScryptCost()


class Vault:
    """An unlocked vault file. Build with create() or open(); every change is one atomic write."""

    def __init__(self, path: Path, cost: ScryptCost, salt: bytes, key: bytes,
                 entries: dict[Name, tuple[bytes, bytes]]) -> None:
        self.path = path
        self.cost = cost
        self._salt = salt
        self._key: bytes | None = key
        self._entries = entries  # name -> (nonce, ciphertext)

    @classmethod
    def create(cls, path: str | Path, passphrase: str, cost: ScryptCost = OWASP) -> "Vault":
        """Create an empty vault at path (VaultError if a file is there already)."""
        path = Path(path)
        if path.exists():
            raise VaultError(f"a vault already exists at {path}")
        if not passphrase:
            raise VaultError("the passphrase is empty")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        salt = secrets.token_bytes(SALT_BYTES)
        vault = cls(path, cost, salt, cost.derive(passphrase, salt), {})
        vault._write()
        log.info("vault created at %s", path)
        return vault

    @classmethod
    def open(cls, path: str | Path, passphrase: str) -> "Vault":
        """Unlock the vault at path; WrongPassphrase if the passphrase does not open it."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise VaultError(f"no vault at {path}") from None
        except (OSError, ValueError) as exc:
            raise VaultError(f"{path} is not a readable vault ({type(exc).__name__})") from None
        cost, salt, verifier, entries = _parse(doc, path)
        _check_mode(path)
        key = cost.derive(passphrase, salt)
        try:
            AESGCM(key).decrypt(verifier[0], verifier[1], _header_aad(cost, salt))
        except InvalidTag:
            raise WrongPassphrase("wrong passphrase: the vault stays locked") from None
        if cost.n < OWASP.n:
            log.warning("vault %s uses scrypt N=%d, below OWASP's %d: change the passphrase to upgrade it", path, cost.n, OWASP.n)
        return cls(path, cost, salt, key, entries)

    @property
    def unlocked(self) -> bool:
        return self._key is not None

    def lock(self) -> None:
        """Forget the key; every later call raises VaultLocked until the vault is opened again."""
        self._key = None

    def entries(self) -> list[Name]:
        """Return the names (venue, account, field) of every entry, sorted; no values."""
        self._need_key()
        return sorted(self._entries)

    def get(self, venue: str, account: str, field: str) -> Secret | None:
        """Decrypt one entry (None if absent); VaultTampered if it fails authentication."""
        name = _name(venue, account, field)
        key = self._need_key()
        sealed = self._entries.get(name)
        if sealed is None:
            return None
        try:
            text = AESGCM(key).decrypt(sealed[0], sealed[1], _aad(name)).decode()
        except InvalidTag:
            raise VaultTampered(f"vault entry {'/'.join(name)} failed authentication (altered or moved)") from None
        register_secret(text)
        return Secret(text)

    def set(self, venue: str, account: str, field: str, value: str | Secret) -> None:
        """Encrypt and store one entry (replacing any old value), then write the file."""
        name = _name(venue, account, field)
        key = self._need_key()
        text = value.reveal() if isinstance(value, Secret) else value
        register_secret(text)
        nonce = secrets.token_bytes(NONCE_BYTES)
        previous = self._entries.get(name)
        self._entries[name] = (nonce, AESGCM(key).encrypt(nonce, text.encode(), _aad(name)))
        try:
            self._write()
        except BaseException:
            self._restore(name, previous)
            raise

    def delete(self, venue: str, account: str, field: str) -> bool:
        """Remove one entry and write the file; False if there was none."""
        name = _name(venue, account, field)
        self._need_key()
        previous = self._entries.pop(name, None)
        if previous is None:
            return False
        try:
            self._write()
        except BaseException:
            self._restore(name, previous)
            raise
        return True

    def change_passphrase(self, new_passphrase: str, cost: ScryptCost = OWASP) -> None:
        """Re-encrypt every entry under a new passphrase (new salt, new nonces) in one atomic write.

        Every entry is decrypted first, so a tampered vault is refused before anything is written; if
        the write fails, this object and the file both keep the old passphrase.
        """
        key = self._need_key()
        if not new_passphrase:
            raise VaultError("the passphrase is empty")
        plain: dict[Name, bytes] = {}
        for name, (nonce, ciphertext) in self._entries.items():
            try:
                plain[name] = AESGCM(key).decrypt(nonce, ciphertext, _aad(name))
            except InvalidTag:
                raise VaultTampered(f"vault entry {'/'.join(name)} failed authentication; passphrase not changed") from None
        salt = secrets.token_bytes(SALT_BYTES)
        new_key = cost.derive(new_passphrase, salt)
        aead = AESGCM(new_key)
        entries: dict[Name, tuple[bytes, bytes]] = {}
        for name, text in plain.items():
            nonce = secrets.token_bytes(NONCE_BYTES)
            entries[name] = (nonce, aead.encrypt(nonce, text, _aad(name)))
        replacement = Vault(self.path, cost, salt, new_key, entries)
        replacement._write()
        self.cost, self._salt, self._key, self._entries = cost, salt, new_key, entries
        log.info("vault passphrase changed (%d entries re-encrypted)", len(entries))

    def _need_key(self) -> bytes:
        if self._key is None:
            raise VaultLocked("the vault is locked: unlock it with the passphrase")
        return self._key

    def _restore(self, name: Name, previous: tuple[bytes, bytes] | None) -> None:
        if previous is None:
            self._entries.pop(name, None)
        else:
            self._entries[name] = previous

    def _document(self) -> dict[str, Any]:
        key = self._need_key()
        nonce = secrets.token_bytes(NONCE_BYTES)
        verifier = AESGCM(key).encrypt(nonce, _VERIFIER_TEXT, _header_aad(self.cost, self._salt))
        return {
            "format": FORMAT, "version": VERSION,
            "kdf": {"name": "scrypt", "n": self.cost.n, "r": self.cost.r, "p": self.cost.p, "salt": _b64(self._salt)},
            "verifier": {"nonce": _b64(nonce), "ciphertext": _b64(verifier)},
            "entries": [{"venue": v, "account": a, "field": f, "nonce": _b64(n), "ciphertext": _b64(c)}
                        for (v, a, f), (n, c) in sorted(self._entries.items())],
        }

    def _write(self) -> None:
        write_atomic(self.path, json.dumps(self._document(), indent=1).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace path with data: a 0600 temp file beside it, fsync, os.replace, fsync of the folder."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _name(venue: str, account: str, field: str) -> Name:
    for part in (venue, account, field):
        if not part or "|" in part or not part.isprintable():
            raise VaultError(f"bad vault entry name part {part!r}: printable, non-empty, no '|'")
    return venue, account, field


def _aad(name: Name) -> bytes:
    return "|".join(name).encode()


def _header_aad(cost: ScryptCost, salt: bytes) -> bytes:
    return f"{FORMAT}|{VERSION}|scrypt|{cost.n}|{cost.r}|{cost.p}|{_b64(salt)}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _parse(doc: Any, path: Path) -> tuple[ScryptCost, bytes, tuple[bytes, bytes], dict[Name, tuple[bytes, bytes]]]:
    try:
        if doc["format"] != FORMAT or doc["version"] != VERSION or doc["kdf"]["name"] != "scrypt":
            raise VaultError(f"{path} is not a version {VERSION} vault")
        kdf = doc["kdf"]
        cost = ScryptCost(int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        if not (2 <= cost.n <= 2**20 and 1 <= cost.r <= 32 and 1 <= cost.p <= 16):
            raise VaultError(f"{path}: scrypt cost out of range (n={cost.n}, r={cost.r}, p={cost.p})")
        salt = base64.b64decode(kdf["salt"], validate=True)
        verifier = (base64.b64decode(doc["verifier"]["nonce"], validate=True),
                    base64.b64decode(doc["verifier"]["ciphertext"], validate=True))
        entries = {_name(e["venue"], e["account"], e["field"]): (base64.b64decode(e["nonce"], validate=True),
                                                                 base64.b64decode(e["ciphertext"], validate=True))
                   for e in doc["entries"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise VaultError(f"{path} is not a readable vault ({type(exc).__name__})") from None
    if len(salt) != SALT_BYTES or any(len(n) != NONCE_BYTES for n, _ in [verifier, *entries.values()]):
        raise VaultTampered(f"{path}: a salt or nonce has the wrong length")
    return cost, salt, verifier, entries


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("vault %s was readable by others (mode %o); setting it to 0600", path, mode)
        os.chmod(path, 0o600)
