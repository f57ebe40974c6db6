"""API keys, signature checks and timing security, as Binance applies them (binance.md A3, A4).

REST: the signed payload is the raw query string plus the raw form body exactly as received (before
any URL decoding), minus the `signature` pair. WS API: the params other than `signature`, sorted by
name, joined as k=v with '&', not percent-encoded. HMAC signatures are lowercase hex (compared
case-insensitively); Ed25519 signatures are base64.

Keys live in a module-level registry: the demo HMAC key is built in, and tests register Ed25519
public keys with register_ed25519_key().
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import BinanceError, bad_key, bad_key_format, bad_signature, mandatory

DEMO_ACCOUNT = "binance-demo"
DEMO_API_KEY = "demo-binance-key"
DEMO_SECRET = "demo-binance-secret"
MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000


@dataclass(frozen=True)
class ApiKey:
    api_key: str
    account: str
    secret: str = ""  # HMAC
    public_key: Ed25519PublicKey | None = None  # Ed25519

    @property
    def is_ed25519(self) -> bool:
        return self.public_key is not None

    def verify(self, payload: str, signature: str) -> bool:
        """True if signature signs payload with this key."""
        if self.public_key is None:
            expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature.lower())
        try:
            self.public_key.verify(base64.b64decode(signature, validate=True), payload.encode())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


_KEYS: dict[str, ApiKey] = {DEMO_API_KEY: ApiKey(DEMO_API_KEY, DEMO_ACCOUNT, secret=DEMO_SECRET)}


def register_hmac_key(api_key: str, secret: str, account: str = DEMO_ACCOUNT) -> None:
    """Accept an HMAC key for an account (tests)."""
    _KEYS[api_key] = ApiKey(api_key, account, secret=secret)


def register_ed25519_key(api_key: str, public_key: Ed25519PublicKey, account: str = DEMO_ACCOUNT) -> None:
    """Accept an Ed25519 key for an account (tests; also the only key type session.logon takes)."""
    _KEYS[api_key] = ApiKey(api_key, account, public_key=public_key)


def lookup(api_key: str | None) -> ApiKey:
    """Return the key's record; -2014 for a malformed key, -2015 for an unknown one."""
    if not api_key or len(api_key) > 128 or not api_key.isprintable():
        raise bad_key_format()
    key = _KEYS.get(api_key)
    if key is None:
        raise bad_key()
    return key


def rest_payload(raw_query: str, raw_body: str) -> tuple[str, str]:
    """Split a request into (signed payload, signature) from the raw query string and raw body."""
    signature = ""
    kept: list[str] = []
    for part in (raw_query, raw_body):
        if not part:
            continue
        pairs = []
        for pair in part.split("&"):
            if pair.startswith("signature="):
                signature = unquote(pair[len("signature="):])
            else:
                pairs.append(pair)
        kept.append("&".join(pairs))
    return "".join(kept), signature


def ws_payload(params: Mapping[str, object]) -> str:
    """The WS API signature payload: sorted k=v without `signature`, values as text, not encoded."""
    return "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items()) if k != "signature")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_signature(key: ApiKey, payload: str, signature: str) -> None:
    if not signature:
        raise mandatory("signature")
    if not key.verify(payload, signature):
        raise bad_signature()


def check_timestamp(params: Mapping[str, str], server_ms: int) -> None:
    """Apply the recvWindow rules: -1021 when ahead by >= 1 s or older than recvWindow."""
    raw = params.get("timestamp")
    if raw in (None, ""):
        raise mandatory("timestamp")
    try:
        timestamp = int(str(raw))
        window = float(params.get("recvWindow") or DEFAULT_RECV_WINDOW_MS)
    except ValueError:
        raise BinanceError(-1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.") from None
    if timestamp > 10**14:  # microseconds
        timestamp //= 1000
    if window > MAX_RECV_WINDOW_MS or window <= 0:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp >= server_ms + 1000:
        raise BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
