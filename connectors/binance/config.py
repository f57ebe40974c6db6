"""Where a Binance connector connects and with which key: live, testnet or the local emulator.

Endpoints are plain base URLs (no path). The emulator serves REST, market streams and the WS API of
one product on one port, so `BinanceEndpoints.single_host("http://127.0.0.1:8123")` is all it needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .signing import Ed25519Signer, HmacSigner, Signer


@dataclass(frozen=True, slots=True)
class BinanceEndpoints:
    """Base URLs of one product (spot or USD-M).

    rest: https://api.binance.com (spot) or https://fapi.binance.com (futures).
    streams: wss://stream.binance.com:9443 / wss://fstream.binance.com (paths /ws, /stream added here).
    ws_api: full URL of the spot WS API (wss://ws-api.binance.com:443/ws-api/v3); unused by futures.
    routed: futures streams use the /public, /market and /private route prefixes.
    """

    rest: str
    streams: str
    ws_api: str = ""
    routed: bool = False

    @classmethod
    def single_host(cls, base_url: str, futures: bool = False) -> "BinanceEndpoints":
        """Endpoints of a server that serves everything on one host:port (the emulator)."""
        base = base_url.rstrip("/")
        ws = _ws_scheme(base)
        return cls(rest=base, streams=ws, ws_api="" if futures else ws + "/ws-api/v3", routed=futures)


def _ws_scheme(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


SPOT_LIVE = BinanceEndpoints("https://api.binance.com", "wss://stream.binance.com:9443",
                             "wss://ws-api.binance.com:443/ws-api/v3")
SPOT_TESTNET = BinanceEndpoints("https://testnet.binance.vision", "wss://stream.testnet.binance.vision",
                                "wss://ws-api.testnet.binance.vision/ws-api/v3")
USDM_LIVE = BinanceEndpoints("https://fapi.binance.com", "wss://fstream.binance.com", routed=True)
USDM_TESTNET = BinanceEndpoints("https://testnet.binancefuture.com", "wss://fstream.binancefuture.com", routed=True)


@dataclass(frozen=True, slots=True)
class BinanceCredentials:
    """An API key and what signs for it. repr() never shows the secret."""

    api_key: str
    signer: Signer

    @classmethod
    def hmac(cls, api_key: str, secret: str) -> "BinanceCredentials":
        return cls(api_key, HmacSigner(secret))

    @classmethod
    def ed25519(cls, api_key: str, private_key_pem: bytes | str) -> "BinanceCredentials":
        return cls(api_key, Ed25519Signer.from_pem(private_key_pem))

    def __repr__(self) -> str:
        return f"BinanceCredentials(api_key={self.api_key[:4]}…, signer={self.signer.key_type})"


def credentials_from(api_key: str | None, secret: str | None = None,
                     ed25519_pem: bytes | str | None = None) -> BinanceCredentials | None:
    """Credentials from a key and its secret (HMAC) or private key (Ed25519); None without a key."""
    if api_key is None:
        return None
    if ed25519_pem is not None:
        return BinanceCredentials.ed25519(api_key, ed25519_pem)
    if secret is None:
        raise ValueError("an API key needs a secret or an Ed25519 private key")
    return BinanceCredentials.hmac(api_key, secret)
