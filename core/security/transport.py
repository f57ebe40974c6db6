"""Where secrets may be sent: live venues over TLS to their own hosts, the emulator on loopback only.

check_live_endpoint() runs on every live URL before a connector is built, so a key can never go to a
typo'd or plaintext host. TLS certificate verification itself is httpx's and websockets' default
(verify on), which the connectors keep; tests/core/security checks that.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InsecureEndpoint

VENUE_HOSTS: dict[str, tuple[str, ...]] = {
    "binance": ("binance.com", "binance.vision", "binancefuture.com"),
    "zerodha": ("kite.trade", "zerodha.com"),
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_live_endpoint(venue: str, url: str) -> str:
    """Return url if it is https/wss to the venue's own domain; InsecureEndpoint otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "wss"):
        raise InsecureEndpoint(f"{venue}: live endpoint {parts.scheme}://{host} is not TLS (https/wss required)")
    if parts.username or parts.password:
        raise InsecureEndpoint(f"{venue}: live endpoint {host} carries credentials in the URL")
    domains = VENUE_HOSTS.get(venue, ())
    if not any(host == d or host.endswith("." + d) for d in domains):
        raise InsecureEndpoint(f"{venue}: {host!r} is not a {venue} host ({', '.join(domains) or 'none known'})")
    return url


def check_loopback(url: str) -> str:
    """Return url if it points at this machine (the emulator); InsecureEndpoint otherwise."""
    host = (urlsplit(url).hostname or "").lower()
    if host not in LOOPBACK:
        raise InsecureEndpoint(f"the emulator must be on loopback, not {host!r}")
    return url
