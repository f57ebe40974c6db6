"""The Kite REST transport (kite.md C1-C4): headers, the envelope, rate limits, error translation.

Every request carries X-Kite-Version: 3 and, once logged in, "Authorization: token api_key:access_token".
GET and DELETE parameters go in the query string, POST and PUT as a form (the margin calculator takes
JSON). Numbers in answers are parsed as Decimal, so prices stay exact. A 403 TokenException calls
on_token_expired (once per token) before AuthError is raised. Logs name the method and path only: the
query may hold tokens, so httpx's own request log is redacted too.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from core.errors import AuthError, TransportError
from core.venue import RequestSent

from ..request_sent import sent_extensions
from ..tls import context_for
from .errors import KiteOutcomeUnknown, translate
from .ratelimit import OTHER, KiteLimits, RateLimiter

log = logging.getLogger(__name__)
Params = Mapping[str, Any] | Iterable[tuple[str, Any]]
Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _RedactQuery(logging.Filter):
    """Strip query strings (tokens) from httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(f"{a.scheme}://{a.netloc.decode()}{a.path}" if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactQuery) for f in _logger.filters):
        _logger.addFilter(_RedactQuery())


class KiteRest:
    """One API key's REST client: rate limited, with the session's token once set."""

    def __init__(self, root: str, api_key: str, *, limits: KiteLimits = KiteLimits(), timeout_s: float = 7.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_token_expired: Callable[[str], None] | None = None) -> None:
        self.root = root.rstrip("/")
        self.api_key = api_key
        self.limiter = RateLimiter(limits)
        self.on_token_expired = on_token_expired
        self._access_token: str | None = None
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport, verify=context_for(self.root),
                                       headers={"X-Kite-Version": "3", "User-Agent": "shrivenquant-kite"})

    @property
    def access_token(self) -> str | None:
        return self._access_token

    @access_token.setter
    def access_token(self, token: str | None) -> None:
        self._access_token = token

    async def close(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, params: Params = (), *, kind: str = OTHER, form: Params | None = None,
                      json_body: Any = None, auth: bool = True, is_order: bool = False,
                      sent: RequestSent | None = None) -> Any:
        """Send one request; return the envelope's data, or raise the translated core error.

        is_order marks requests that change orders: a timeout after sending, a 5xx or a "timed out"
        answer raises KiteOutcomeUnknown (never retried here). sent() is called when the request has been
        written (connectors.request_sent).
        """
        headers = self._headers(auth)
        await self.limiter.acquire(kind)
        try:
            response = await self._http.request(method, self.root + path, params=_pairs(params), headers=headers,
                                                data=dict(_pairs(form)) if form is not None else None, json=json_body,
                                                extensions=sent_extensions(sent))
        except _NOT_SENT as exc:
            raise TransportError(f"Kite {method} {path}: could not connect ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            if is_order:
                raise KiteOutcomeUnknown(f"Kite {method} {path}: no answer ({type(exc).__name__})") from None
            raise TransportError(f"Kite {method} {path}: {type(exc).__name__}") from None
        return self._decode(method, path, response, headers, is_order, kind)

    async def download(self, path: str, progress: Progress | None = None, *, auth: bool = False) -> bytes:
        """GET a CSV (the instruments dump) in chunks, reporting progress; return the (decompressed) bytes."""
        await self.limiter.acquire(OTHER)
        chunks: list[bytes] = []
        try:
            async with self._http.stream("GET", self.root + path, headers=self._headers(auth)) as response:
                if response.status_code != 200:
                    await response.aread()
                    self._decode("GET", path, response, {}, False, OTHER)
                total = int(response.headers["content-length"]) if "content-length" in response.headers else None
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    if progress is not None:
                        progress(response.num_bytes_downloaded, total)
        except httpx.HTTPError as exc:
            raise TransportError(f"Kite GET {path}: {type(exc).__name__}") from None
        return b"".join(chunks)

    def _headers(self, auth: bool) -> dict[str, str]:
        if not auth:
            return {}
        if not self._access_token:
            raise AuthError("Kite: not logged in (no access token)", code="TokenException")
        return {"Authorization": f"token {self.api_key}:{self._access_token}"}

    def _decode(self, method: str, path: str, response: httpx.Response, headers: Mapping[str, str], is_order: bool,
                kind: str) -> Any:
        content_type = response.headers.get("content-type", "")
        body: Any = None
        if "json" in content_type:
            try:
                body = json.loads(response.content, parse_float=Decimal)
            except ValueError:
                body = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("status") == "success":
            return body.get("data")
        if response.status_code == 200 and "csv" in content_type:
            return response.content
        if response.status_code == 200 and body is None:
            raise translate(502, {"error_type": "DataException", "message": f"unreadable answer ({content_type or 'no type'})"},
                            is_order)
        error = translate(response.status_code, body, is_order)
        log.info("Kite %s %s -> %s %s", method, path, response.status_code, type(error).__name__)
        if response.status_code == 429:
            self.limiter.pause(kind, 1.0)
        if isinstance(error, AuthError) and "Authorization" in headers and self.on_token_expired is not None:
            expired = self._access_token
            if expired:
                self.on_token_expired(expired)
        raise error


def _pairs(params: Params | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    return [(k, _wire(v)) for k, v in items if v is not None]


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(value)
