"""What the three Kite servers of one exchange share: API apps, request tokens, sessions and limits.

The login, REST and ticker apps are built separately (server.py builds each with the exchange and the
faults), so their shared state hangs off the exchange object: kite_state(exchange) returns the same
KiteState to all three. Tests use it to register apps, point a redirect URL at their own catcher, or
change the limits.

Sessions: one access token per app and user (a new login replaces the old token, as Kite does when the
user logs in elsewhere). The expire_token fault drops every session at once: REST answers 403
TokenException and the ticker refuses (and closes) connections until a new session is made.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..contract import ExchangeApi
from ..faults import Faults
from .errors import KiteError
from .limits import RateLimits

if TYPE_CHECKING:
    from .orders import KiteOrders

REQUEST_TOKEN_TTL_S = 300.0


@dataclass
class ApiApp:
    """A Kite Connect app: its key and secret, the user who logs in through it, and its redirect URL."""

    api_key: str
    api_secret: str
    user_id: str
    account: str  # the exchange account the user trades in
    redirect_url: str = ""  # empty: the login server's own /callback
    app_id: int = 1


@dataclass(frozen=True)
class Session:
    """A logged-in user of an app, known by its access token."""

    access_token: str
    public_token: str
    app: ApiApp
    login_ns: int

    @property
    def user_id(self) -> str:
        return self.app.user_id

    @property
    def account(self) -> str:
        return self.app.account


DEMO_APP = ApiApp("demo-kite-key", "demo-kite-secret", "DEMO01", "kite-demo")


@dataclass
class KiteState:
    """See the module docstring."""

    exchange: ExchangeApi
    faults: Faults
    apps: dict[str, ApiApp] = field(default_factory=lambda: {DEMO_APP.api_key: ApiApp(**vars(DEMO_APP))})
    sessions: dict[str, Session] = field(default_factory=dict)  # access token -> session
    limits: RateLimits = field(default_factory=RateLimits)
    tick_interval_s: float = 0.25
    heartbeat_s: float = 1.0
    max_tokens_per_connection: int = 3000
    max_connections_per_key: int = 3
    ttl_minute_s: float = 60.0  # how long a TTL validity "minute" lasts (tests shorten it)
    on_sessions_ended: list[Callable[[set[str]], None]] = field(default_factory=list)
    _request_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _orders: "KiteOrders | None" = None

    @property
    def orders(self) -> "KiteOrders":
        if self._orders is None:
            from .orders import KiteOrders

            self._orders = KiteOrders(self)
        return self._orders

    def register_app(self, api_key: str, api_secret: str, user_id: str = "DEMO01", account: str = "kite-demo",
                     redirect_url: str = "") -> ApiApp:
        """Add (or replace) an app."""
        app = self.apps[api_key] = ApiApp(api_key, api_secret, user_id, account, redirect_url, len(self.apps) + 1)
        return app

    def set_redirect(self, api_key: str, url: str) -> None:
        """Point an app's login redirect somewhere (a test's loopback catcher)."""
        self.apps[api_key].redirect_url = url

    def issue_request_token(self, api_key: str) -> str:
        """A single-use request token for an app, valid for five minutes."""
        token = secrets.token_hex(16)
        self._request_tokens[token] = (api_key, time.monotonic() + REQUEST_TOKEN_TTL_S)
        return token

    def create_session(self, api_key: str, request_token: str, checksum: str, now_ns: int) -> Session:
        """Exchange a request token (single use, five minutes) and its checksum for a session."""
        app = self.apps.get(api_key)
        if app is None:
            raise KiteError("InputException", "Invalid `api_key`.")
        issued = self._request_tokens.pop(request_token, None)
        if issued is None or issued[0] != api_key or issued[1] < time.monotonic():
            raise KiteError("TokenException", "Token is invalid or has expired.")
        expected = hashlib.sha256((api_key + request_token + app.api_secret).encode()).hexdigest()
        if not hmac.compare_digest(expected, checksum.lower()):
            raise KiteError("TokenException", "Invalid `checksum`.")
        replaced = {t for t, s in self.sessions.items() if s.app.api_key == api_key and s.user_id == app.user_id}
        self._end(replaced)
        session = Session(secrets.token_hex(16), secrets.token_hex(16), app, now_ns)
        self.sessions[session.access_token] = session
        return session

    def authenticate(self, authorization: str) -> Session:
        """The session of an "Authorization: token api_key:access_token" header; TokenException if none."""
        self._apply_expiry_fault()
        scheme, _, credentials = authorization.partition(" ")
        api_key, _, access_token = credentials.strip().partition(":")
        session = self.sessions.get(access_token) if scheme == "token" else None
        if session is None or session.app.api_key != api_key:
            raise KiteError("TokenException", "Incorrect `api_key` or `access_token`.")
        return session

    def ticker_session(self, api_key: str, access_token: str) -> Session | None:
        """The session a ticker connection presents (None: refuse it)."""
        self._apply_expiry_fault()
        session = self.sessions.get(access_token)
        return session if session is not None and session.app.api_key == api_key else None

    def invalidate(self, access_token: str) -> bool:
        """Log a session out; False if it did not exist."""
        if access_token not in self.sessions:
            return False
        self._end({access_token})
        return True

    def expire_all(self) -> None:
        """End every session (the expire_token fault)."""
        self._end(set(self.sessions))

    def _apply_expiry_fault(self) -> None:
        if self.faults.take("expire_token") is not None:
            self.expire_all()

    def _end(self, tokens: set[str]) -> None:
        if not tokens:
            return
        for token in tokens:
            self.sessions.pop(token, None)
        for listener in list(self.on_sessions_ended):
            listener(tokens)


_STATES: "weakref.WeakKeyDictionary[object, KiteState]" = weakref.WeakKeyDictionary()


def kite_state(exchange: ExchangeApi, faults: Faults | None = None) -> KiteState:
    """The KiteState of an exchange, created on first use (faults are required then)."""
    state = _STATES.get(exchange)
    if state is None:
        if faults is None:
            raise KeyError("no Kite server has been built for this exchange yet")
        # a weak proxy: the registry entry must not keep its own key (the exchange) alive
        state = _STATES[exchange] = KiteState(weakref.proxy(exchange), faults)  # type: ignore[arg-type]
    return state
