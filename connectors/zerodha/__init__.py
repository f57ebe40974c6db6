"""Zerodha Kite Connect v3 connector: httpx REST, the binary Kite Ticker, login; no kiteconnect SDK at run time."""
from __future__ import annotations

from core.bus import EventBus

from .client import KiteClient
from .login import auto_login, create_session, login_url, request_token_from
from .rest import KiteRest
from .ticker import TickerFrameError, parse_frame


def demo_client(bus: EventBus, endpoints: dict[str, str], api_key: str, api_secret: str) -> KiteClient:
    """A Kite client for the emulator: its login page redirects at once, so login is automatic."""
    rest = KiteRest(endpoints["kite_rest"], api_key)
    return KiteClient(bus, rest, endpoints["kite_ws"], lambda r: auto_login(r, endpoints["kite_login"], api_secret))


__all__ = ["KiteClient", "KiteRest", "TickerFrameError", "auto_login", "create_session", "demo_client", "login_url", "parse_frame",
           "request_token_from"]
