"""The Binance REST transport: signing, server-time offset, rate limits and error translation.

Every parameter, signature included, travels in the query string (as the official SDK sends it), so
the string we sign is byte for byte the one the server verifies. Logs name the method and path only:
the query holds the signature, so it is never logged, and httpx's own request log is redacted.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from core.errors import OrderOutcomeUnknown, TransportError
from core.venue import RequestSent

from ..request_sent import sent_extensions
from ..tls import context_for
from .config import BinanceCredentials
from .errors import TIMESTAMP_CODE, UNKNOWN_OUTCOME_CODES, translate
from .ratelimit import SPOT_DEFAULT_LIMITS, RateLimiter
from .signing import rest_query, signed_rest_query

log = logging.getLogger(__name__)

ParamValue = str | int | Decimal | bool
Params = Iterable[tuple[str, ParamValue]] | Mapping[str, ParamValue]


class _RedactQuery(logging.Filter):
    """Strip query strings (signatures, keys) from httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_path_only(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _path_only(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode()}{url.path}"


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactQuery) for f in _logger.filters):
        _logger.addFilter(_RedactQuery())


class OutcomeUnknown(OrderOutcomeUnknown):
    """An order request went out and no trustworthy answer came back (5xx, timeout, -1006/-1007)."""


def wire_value(value: ParamValue) -> str:
    """Format a parameter as Binance expects it: plain decimals, lowercase booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class BinanceRest:
    """One product's REST API (spot /api/v3 or USD-M /fapi/v1) with its limiter and clock offset."""

    def __init__(self, base_url: str, credentials: BinanceCredentials | None = None, *, time_path: str = "/api/v3/time",
                 recv_window_ms: int = 5000, timeout_s: float = 10.0, limits: Iterable[Mapping[str, object]] = SPOT_DEFAULT_LIMITS,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._time_path = time_path
        self.recv_window_ms = recv_window_ms
        self.offset_ms = 0.0  # server clock minus local clock
        self.limiter = RateLimiter(self.server_ms, limits)
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport, verify=context_for(self.base_url),
                                       headers={"Accept": "application/json", "User-Agent": "shrivenquant"})

    def server_ms(self) -> int:
        """Our best estimate of the server's clock in milliseconds."""
        return int(time.time() * 1000 + self.offset_ms)

    async def close(self) -> None:
        await self._http.aclose()

    async def sync_time(self) -> None:
        """Measure the server clock offset: offset = serverTime - midpoint of the round trip."""
        t0 = time.time() * 1000
        answer = await self.request("GET", self._time_path, weight=1)
        t1 = time.time() * 1000
        self.offset_ms = float(answer["serverTime"]) - (t0 + t1) / 2
        log.info("Binance clock offset %+.0f ms (round trip %.0f ms)", self.offset_ms, t1 - t0)

    async def request(self, method: str, path: str, params: Params = (), *, weight: int = 1, signed: bool = False,
                      key_only: bool = False, orders: int = 0, is_order: bool = False,
                      sent: RequestSent | None = None) -> Any:
        """Send one request and return the decoded JSON; raise core errors on failure.

        signed adds timestamp, recvWindow and signature; key_only just the API key header (listenKey).
        is_order marks requests that change orders: a 5xx or timeout on them raises OutcomeUnknown
        (never retried), and -1021 is not retried either (the caller decides). sent() is called when the
        request has been written (connectors.request_sent).
        """
        pairs = [(k, wire_value(v)) for k, v in (params.items() if isinstance(params, Mapping) else params)]
        extensions = sent_extensions(sent)
        try:
            return await self._send(method, path, pairs, weight, signed, key_only, orders, is_order, extensions)
        except _ClockRejected as exc:
            await self.sync_time()
            if is_order:
                raise exc.error from None
            log.info("retrying %s %s after a clock resync", method, path)
            try:
                return await self._send(method, path, pairs, weight, signed, key_only, orders, is_order, extensions)
            except _ClockRejected as again:
                raise again.error from None

    async def _send(self, method: str, path: str, pairs: list[tuple[str, str]], weight: int, signed: bool, key_only: bool,
                    orders: int, is_order: bool, extensions: dict[str, Any] | None) -> Any:
        await self.limiter.acquire(weight, orders)
        headers = {}
        if (signed or key_only) and self._credentials is None:
            raise translate(401, -2015, "no API key configured for a signed request")
        if key_only:
            assert self._credentials is not None
            headers["X-MBX-APIKEY"] = self._credentials.api_key
        if signed:
            assert self._credentials is not None
            pairs = [*pairs, ("recvWindow", str(self.recv_window_ms)), ("timestamp", str(self.server_ms()))]
            query = signed_rest_query(pairs, self._credentials.signer)
            headers["X-MBX-APIKEY"] = self._credentials.api_key
        else:
            query = rest_query(pairs)
        url = f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}"
        try:
            response = await self._http.request(method, url, headers=headers, extensions=extensions)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportError(f"Binance {method} {path}: cannot connect ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            if is_order:
                raise OutcomeUnknown(f"Binance {method} {path}: no answer ({type(exc).__name__})") from None
            raise TransportError(f"Binance {method} {path}: {type(exc).__name__}") from None
        self.limiter.observe(response.headers)
        log.debug("%s %s -> %s", method, path, response.status_code)
        if response.status_code < 400:
            return _json(response)
        return self._fail(method, path, response, is_order)

    def _fail(self, method: str, path: str, response: httpx.Response, is_order: bool) -> Any:
        status = response.status_code
        body = _json(response, default={})
        code = body.get("code") if isinstance(body, dict) else None
        msg = str(body.get("msg", response.reason_phrase)) if isinstance(body, dict) else response.reason_phrase
        retry_after = _retry_after(response)
        if status in (418, 429):
            self.limiter.block(retry_after)
            log.warning("Binance %s on %s %s: pausing requests for %.1f s", status, method, path, retry_after)
        elif is_order and (status >= 500 or code in UNKNOWN_OUTCOME_CODES):
            raise OutcomeUnknown(f"Binance {method} {path}: HTTP {status} {msg} (execution status unknown)")
        error = translate(status, code, msg, retry_after=retry_after, is_order=is_order,
                          data=body.get("data") if isinstance(body, dict) else None)
        if code == TIMESTAMP_CODE:
            raise _ClockRejected(error)
        log.info("Binance %s %s -> HTTP %s code %s: %s", method, path, status, code, msg)
        raise error


class _ClockRejected(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0


def _json(response: httpx.Response, default: Any = None) -> Any:
    try:
        return json.loads(response.content) if response.content else default
    except ValueError:
        if default is not None:
            return default
        raise TransportError(f"Binance answered non-JSON ({len(response.content)} bytes) on {response.url.path}") from None
