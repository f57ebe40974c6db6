"""What the three Kite apps (login, REST, ticker) share for one exchange: keys, sessions, order ids."""
from __future__ import annotations

import hashlib
import secrets
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

from ..contract import ExchangeApi
from ..faults import Faults

# api_key -> (api_secret, user_id, exchange account)
DEMO_KEYS = {"demo-kite-key": ("demo-kite-secret", "DEMO01", "kite-demo")}
RATE_LIMITS = {"quote": 1, "historical": 3, "orders": 10, "other": 10}  # requests per second (kite.md C5)


@dataclass
class KiteState:
    exchange: ExchangeApi
    faults: Faults
    keys: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(DEMO_KEYS))
    request_tokens: dict[str, str] = field(default_factory=dict)  # request_token -> api_key
    sessions: dict[str, str] = field(default_factory=dict)  # access_token -> api_key
    redirect_urls: dict[str, str] = field(default_factory=dict)
    calls: dict[str, deque[float]] = field(default_factory=dict)
    orders_per_minute: deque[float] = field(default_factory=deque)
    meta: dict[int, dict[str, object]] = field(default_factory=dict)  # order id -> variety, product, validity ...

    def new_request_token(self, api_key: str) -> str:
        token = secrets.token_urlsafe(24)
        self.request_tokens[token] = api_key
        return token

    def exchange_token(self, api_key: str, request_token: str, checksum: str) -> str | None:
        """Return a new access token if the request token and checksum are right."""
        if self.request_tokens.get(request_token) != api_key or api_key not in self.keys:
            return None
        secret = self.keys[api_key][0]
        expected = hashlib.sha256((api_key + request_token + secret).encode()).hexdigest()
        if not secrets.compare_digest(expected, checksum):
            return None
        del self.request_tokens[request_token]
        access = secrets.token_urlsafe(24)
        self.sessions[access] = api_key
        return access

    def account_for(self, api_key: str, access_token: str) -> str | None:
        if self.faults.take("expire_token") is not None:
            self.sessions.clear()
        if self.sessions.get(access_token) != api_key:
            return None
        return self.keys[api_key][2]

    def allow(self, kind: str) -> bool:
        """Sliding one-second window per endpoint class (and 200 orders a minute)."""
        now = time.monotonic()
        window = self.calls.setdefault(kind, deque())
        while window and now - window[0] > 1.0:
            window.popleft()
        if len(window) >= RATE_LIMITS[kind]:
            return False
        if kind == "orders":
            while self.orders_per_minute and now - self.orders_per_minute[0] > 60.0:
                self.orders_per_minute.popleft()
            if len(self.orders_per_minute) >= 200:
                return False
            self.orders_per_minute.append(now)
        window.append(now)
        return True


_STATES: "weakref.WeakKeyDictionary[object, KiteState]" = weakref.WeakKeyDictionary()


def state_for(exchange: ExchangeApi, faults: Faults) -> KiteState:
    """The one KiteState of an exchange (so login, REST and ticker agree on sessions)."""
    state = _STATES.get(exchange)
    if state is None:
        state = _STATES[exchange] = KiteState(exchange, faults)
    return state
