"""The connectors' TLS contexts: one verified context shared by every https client, and for plain-http
clients (the emulator) a context that verifies too but trusts nothing, so https through it fails closed."""
from __future__ import annotations

import ssl

from connectors import tls
from connectors.binance.rest import BinanceRest
from connectors.zerodha.rest import KiteRest


def pool_context(rest: BinanceRest | KiteRest) -> ssl.SSLContext:
    return rest._http._transport._pool._ssl_context  # type: ignore[attr-defined, no-any-return]


def test_https_clients_share_one_verified_context() -> None:
    context = tls.verified()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    assert tls.context_for("https://api.binance.com") is context
    assert tls.context_for("HTTPS://api.kite.trade") is context


def test_plain_http_clients_verify_but_trust_no_authority() -> None:
    context = tls.context_for("http://127.0.0.1:8000")
    assert context is tls.trust_nothing()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509"] == 0  # no certificate can be verified: https fails closed


async def test_rest_clients_get_their_context_from_their_base_url() -> None:
    clients = [BinanceRest("https://api.binance.com"), BinanceRest("https://fapi.binance.com"),
               KiteRest("https://api.kite.trade", "key"), BinanceRest("http://127.0.0.1:1"), KiteRest("http://127.0.0.1:2", "key")]
    try:
        contexts = [pool_context(c) for c in clients]
        assert all(c is tls.verified() for c in contexts[:3])
        assert all(c is tls.trust_nothing() for c in contexts[3:])
    finally:
        for client in clients:
            await client.close()
