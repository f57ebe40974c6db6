"""Kite REST over httpx: the {status,data} envelope, error types mapped to core errors, and client-side
rate limits per endpoint class (kite.md C5: quote 1/s, historical 3/s, orders 10/s, others 10/s)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

import httpx

from core.errors import AuthError, OrderRejected, RateLimited, TransportError, ValidationError, VenueError, VenueUnavailable

log = logging.getLogger(__name__)
DEFAULT_LIMITS = {"quote": 1, "historical": 3, "orders": 10, "other": 10}


class KiteTimeout(TransportError):
    """A request went out and no answer came back in time."""


class _Window:
    """At most `rate` calls in any one-second window; waits (asynchronously) for a slot."""

    def __init__(self, rate: int) -> None:
        self.rate, self.calls = rate, deque[float]()

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            while self.calls and now - self.calls[0] >= 1.0:
                self.calls.popleft()
            if len(self.calls) < self.rate:
                self.calls.append(now)
                return
            await asyncio.sleep(1.0 - (now - self.calls[0]) + 0.005)


class KiteRest:
    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 10.0, limits: dict[str, int] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_key = api_key
        self.access_token = ""
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                       headers={"X-Kite-Version": "3"})
        self._limits = {k: _Window(v) for k, v in {**DEFAULT_LIMITS, **(limits or {})}.items()}

    async def close(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, *, data: dict[str, Any] | None = None, params: Any = None,
                      kind: str = "other", raw: bool = False) -> Any:
        """Send a request; return `data` of the envelope (or the text for CSV). Raises core errors."""
        await self._limits[kind].acquire()
        headers = {"Authorization": f"token {self.api_key}:{self.access_token}"} if self.access_token else {}
        try:
            response = await self._http.request(method, path, data=data, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise KiteTimeout(f"Kite {method} {path}: no answer ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransportError(f"Kite {method} {path}: {type(exc).__name__}") from None
        log.debug("Kite %s %s -> %s", method, path, response.status_code)  # never the query or the headers
        if raw and response.status_code == 200:
            return response.text
        try:
            body = response.json()
        except ValueError:
            raise VenueUnavailable(f"Kite {path}: HTTP {response.status_code}, not JSON", http_status=response.status_code) from None
        if response.status_code == 200 and body.get("status") == "success":
            return body.get("data")
        raise translate(response.status_code, str(body.get("error_type", "GeneralException")), str(body.get("message", "")),
                        is_order=kind == "orders")


def translate(status: int, error_type: str, message: str, is_order: bool = False) -> Exception:
    """Map Kite's error types and HTTP codes to core errors (kite.md C4)."""
    text = f"Kite {error_type}: {message}"
    if status == 429:
        return RateLimited(text, retry_after=1.0, http_status=status, code=error_type)
    if error_type == "TokenException" or status == 403:
        return AuthError(text, code=error_type, http_status=status)
    if error_type == "InputException":
        return ValidationError(text)
    if error_type in ("OrderException", "MarginException", "HoldingException"):
        return OrderRejected(text, code=error_type, http_status=status)
    if status >= 500 or error_type in ("NetworkException", "DataException"):
        return VenueUnavailable(text, code=error_type, http_status=status)
    return VenueError(text, code=error_type, http_status=status)
