"""TLS contexts for the connectors' HTTP clients: built once and shared, certificate checks always on.

httpx builds a new SSLContext for every client and loads the whole CA bundle into it, about 20 ms
each; the demo profile starts four clients, so that was 80 ms of the way to the first order book, for
an emulator that speaks plain http on loopback.

- A URL that is https (every live venue: core.security.check_live_endpoint insists on it) gets the
  verified context: httpx's own default (its CA bundle, honouring SSL_CERT_FILE / SSL_CERT_DIR),
  hostname and certificate verification on. It is built on first use and shared by every client.
- A plain-http URL (the emulator) gets a context that also requires a verified certificate but
  trusts no authority at all: it loads nothing, and should such a client ever be sent to an https URL
  the handshake fails. It can never talk TLS unverified.

Sharing is safe: an SSLContext is read-only once built, except that httpcore sets the ALPN list on it
at each connect, and every client here asks for the same list (HTTP/1.1, no http2).
"""
from __future__ import annotations

import functools
import ssl

__all__ = ["context_for", "trust_nothing", "verified"]


@functools.cache
def verified() -> ssl.SSLContext:
    """The context for https: httpx's default trust store, certificate and hostname checks on."""
    import httpx

    return httpx.create_ssl_context()


@functools.cache
def trust_nothing() -> ssl.SSLContext:
    """The context for plain-http clients: verification required, no trusted roots (https fails closed)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default


def context_for(url: str) -> ssl.SSLContext:
    """The TLS context for a client whose requests go to url (see the module docstring)."""
    return trust_nothing() if url.lower().startswith("http://") else verified()
