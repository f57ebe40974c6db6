"""The REST request pipeline shared by the spot and USD-M servers.

For every request: injected faults (418/429), request weight (429/418 when over), then for signed
endpoints the API key, the signature over the raw query + raw body, and the timestamp window; then the
handler. Errors become {"code", "msg"} with their HTTP status; every answer carries the weight header.
"""
from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .auth import ApiKey, check_signature, check_timestamp, lookup, rest_payload
from .errors import BinanceError
from .state import ServerState

log = logging.getLogger(__name__)

STATE_KEY: web.AppKey[ServerState] = web.AppKey("binance_state", ServerState)

NONE, KEY, SIGNED = "NONE", "USER_STREAM", "SIGNED"


@dataclass
class Req:
    """A parsed request as handlers see it."""

    params: dict[str, str]
    key: ApiKey | None
    headers: dict[str, str] = field(default_factory=dict)  # extra answer headers (order counts)

    @property
    def account(self) -> str:
        assert self.key is not None
        return self.key.account


Handler = Callable[[ServerState, Req], Any | Awaitable[Any]]


def endpoint(fn: Handler, weight: int | Callable[[dict[str, str]], int] = 1, security: str = NONE,
             places_orders: bool = False) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Wrap a handler (state, req) -> JSON-able into an aiohttp handler applying the pipeline.

    places_orders: the http_5xx_after_order fault applies (the order is placed, the answer is a 5xx).
    """

    async def handle(request: web.Request) -> web.Response:
        state = request.app[STATE_KEY]
        headers: dict[str, str] = {}
        try:
            fault = state.faults.take("http_418")
            if fault is not None:
                raise state.limits.ban(float(fault.get("retry_after", state.limits.ban_s)))
            fault = state.faults.take("http_429")
            if fault is not None:
                raise state.limits.too_many(int(fault.get("retry_after", 1)))
            raw_query = request.rel_url.raw_query_string
            raw_body = await request.text() if request.can_read_body else ""
            params = _params(raw_query, raw_body)
            headers.update(state.limits.admit(weight(params) if callable(weight) else weight))
            key = None
            if security != NONE:
                key = lookup(request.headers.get("X-MBX-APIKEY"))
            if security == SIGNED:
                assert key is not None
                payload, signature = rest_payload(raw_query, raw_body)
                check_signature(key, payload, signature)
                check_timestamp(params, state.server_ms())
            req = Req(params, key)
            result = fn(state, req)
            if inspect.isawaitable(result):
                result = await result
            headers.update(req.headers)
            fault = state.faults.take("http_5xx_after_order") if places_orders else None
            if fault is not None:
                raise BinanceError(-1006, "An unexpected response was received from the message bus. Execution status "
                                          "unknown.", status=int(fault.get("status", 503)))
            return web.json_response(result, headers=headers, dumps=_dumps)
        except BinanceError as exc:
            log.debug("%s %s -> %s %s", request.method, request.path, exc.status, exc.code)
            return web.json_response(exc.body(), status=exc.status, headers={**headers, **exc.headers}, dumps=_dumps)

    return handle


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _params(raw_query: str, raw_body: str) -> dict[str, str]:
    """Query and form body parameters; on a duplicate name the query string wins."""
    params = dict(parse_qsl(raw_body, keep_blank_values=True)) if raw_body else {}
    params.update(parse_qsl(raw_query, keep_blank_values=True))
    return params


def flag(params: dict[str, str], name: str, default: bool = False) -> bool:
    """A BOOLEAN parameter ("true"/"false", any case)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is 'true, false'.")
    return raw.lower() == "true"


def int_param(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.") from None
