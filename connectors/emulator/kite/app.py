"""The Kite Connect v3 servers of the emulator as aiohttp applications (one port each, see server.py).

    build_login_app(exchange, faults)   GET /connect/login -> 302 to the redirect URL with a request_token
    build_rest_app(exchange, faults)    the REST API at its real paths, {status, data} envelope
    build_ticker_app(exchange, faults)  the binary Kite Ticker websocket with order postbacks

REST pipeline per request: the http_429 fault (params.path limits it to paths starting so);
"Authorization: token api_key:access_token" (403 TokenException; the expire_token fault ends every
session first); the endpoint class's rate limit (429); the handler; for placements the
http_5xx_after_order fault (the order is placed, the answer is an error: 503 by default, 400 "timed
out" with params.status 400). Errors use Kite's envelope and the HTTP status of their type; unknown paths and methods too.
POST /_emulator/faults {"name", "count", "params"} arms a fault (DELETE clears, GET lists).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..contract import ExchangeApi
from ..faults import Faults
from . import login, margins, market, portfolio
from .errors import KiteError, json_response, ok
from .limits import HISTORICAL, ORDERS, OTHER, QUOTE
from .state import KiteState, Session, kite_state
from .ticker import TickerHub
from .views import IST, order_json

log = logging.getLogger(__name__)
STATE_KEY: web.AppKey[KiteState] = web.AppKey("kite_state", KiteState)
AMO_TASK: web.AppKey["asyncio.Task[None]"] = web.AppKey("kite_amo_task")
Handler = Callable[[KiteState, "Call"], Any]
FAULT_ERRORS = {400: ("InputException", "Order request timed out. Check the order book before placing it again."),
                500: ("GeneralException", "Something went wrong while placing the order."),
                502: ("DataException", "Couldn't parse the OMS response."),
                503: ("NetworkException", "Couldn't reach the OMS. Please try again."),
                504: ("NetworkException", "Gateway timed out.")}


class Call:
    """A request as handlers see it: parameters (query, then form), the session, the path values."""

    def __init__(self, request: web.Request, params: dict[str, str], session: Session | None, body: str) -> None:
        self.request, self.params, self._session, self.body = request, params, session, body

    @property
    def session(self) -> Session:
        assert self._session is not None
        return self._session

    def path(self, name: str) -> str:
        return self.request.match_info[name]


def build_login_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    """The login page: redirects at once with a request token for the demo user."""
    return login.build(kite_state(exchange, faults))


def build_ticker_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    """The Kite Ticker websocket at "/" (?api_key=..&access_token=..)."""
    state = kite_state(exchange, faults)
    hub = TickerHub(state)
    app = web.Application()
    app.router.add_get("/", hub.handle)
    app.on_startup.append(hub.start)
    app.on_cleanup.append(hub.stop)
    return app


def build_rest_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    """The REST API of Kite Connect v3 over the exchange's NSE and NFO markets."""
    state = kite_state(exchange, faults)
    app = web.Application(middlewares=[_kite_errors], handler_args={"max_line_size": 65536})  # 1000 quote keys fit
    app[STATE_KEY] = state

    def add(method: str, path: str, fn: Handler, kind: str = OTHER, auth: bool = True, places: bool = False) -> None:
        app.router.add_route(method, path, _endpoint(fn, kind, auth, places))

    add("POST", "/session/token", _create_session, auth=False)
    add("DELETE", "/session/token", _delete_session, auth=False)
    add("GET", "/user/profile", lambda s, c: portfolio.profile(c.session, market.kite_exchanges(s.exchange)))
    add("GET", "/user/margins", lambda s, c: portfolio.margins(s.exchange, c.session, None))
    add("GET", "/user/margins/{segment}", lambda s, c: portfolio.margins(s.exchange, c.session, c.path("segment")))
    add("POST", "/orders/{variety}", _place, ORDERS, places=True)
    add("PUT", "/orders/{variety}/{order_id}",
        lambda s, c: {"order_id": s.orders.modify(c.session, c.path("variety"), c.path("order_id"), c.params).order_id})
    add("DELETE", "/orders/{variety}/{order_id}",
        lambda s, c: {"order_id": s.orders.cancel(c.session, c.path("variety"), c.path("order_id")).order_id})
    add("GET", "/orders", lambda s, c: [order_json(o) for o in s.orders.of(c.session)])
    add("GET", "/orders/{order_id}", lambda s, c: list(s.orders.get(c.session, c.path("order_id")).history))
    add("GET", "/orders/{order_id}/trades", lambda s, c: list(s.orders.get(c.session, c.path("order_id")).trades))
    add("GET", "/trades", lambda s, c: [t for o in s.orders.of(c.session) for t in o.trades])
    add("GET", "/portfolio/positions", lambda s, c: portfolio.positions(s.exchange, c.session))
    add("GET", "/portfolio/holdings", lambda s, c: portfolio.holdings(s.exchange))
    add("POST", "/margins/orders", lambda s, c: margins.order_margins(s.exchange, _orders_body(c)))
    add("POST", "/margins/basket", lambda s, c: margins.basket_margins(s.exchange, _orders_body(c)))
    add("GET", "/instruments", lambda s, c: _csv(market.instruments_csv(s.exchange)), auth=False)
    add("GET", "/instruments/{exchange}", lambda s, c: _csv(market.instruments_csv(s.exchange, c.path("exchange"))), auth=False)
    for kind in ("quote", "ohlc", "ltp"):
        path = "/quote" if kind == "quote" else f"/quote/{kind}"
        add("GET", path, _quotes(kind), QUOTE)
    add("GET", "/instruments/historical/{token}/{interval}",
        lambda s, c: market.historical(s.exchange, c.path("token"), c.path("interval"), c.params), HISTORICAL)
    app.router.add_route("*", "/_emulator/faults", _faults_control)
    app.on_startup.append(_start_orders)
    app.on_cleanup.append(_stop_orders)
    return app


def _endpoint(fn: Handler, kind: str, auth: bool, places: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        fault = state.faults.active("http_429")
        if fault is not None and request.path.startswith(str(fault.get("path", ""))) and state.faults.take("http_429") is not None:
            raise KiteError("NetworkException", "Too many requests", 429)
        body = await request.text() if request.can_read_body else ""
        params = dict(parse_qsl(body, keep_blank_values=True)) if body and "json" not in (request.content_type or "") else {}
        params.update(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
        session = state.authenticate(request.headers.get("Authorization", "")) if auth else None
        key = session.app.api_key if session is not None else params.get("api_key", request.remote or "")
        if not state.limits.admit(key, kind):
            raise KiteError("NetworkException", "Too many requests", 429)
        call = Call(request, params, session, body)
        result = fn(state, call)
        if places:
            fault = state.faults.take("http_5xx_after_order")
            if fault is not None:
                status = int(fault.get("status", 503))
                error_type, message = FAULT_ERRORS.get(status, FAULT_ERRORS[503])
                raise KiteError(error_type, message, status)
        return result if isinstance(result, web.StreamResponse) else ok(result)

    return handle


@web.middleware
async def _kite_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        return await handler(request)
    except KiteError as exc:
        log.debug("%s %s -> %s %s", request.method, request.path, exc.status, exc.error_type)
        return exc.response()
    except web.HTTPNotFound:
        return KiteError("GeneralException", "Route not found", 404).response()
    except web.HTTPMethodNotAllowed:
        return KiteError("GeneralException", "Method not allowed", 405).response()


def _create_session(state: KiteState, call: Call) -> dict[str, Any]:
    p = call.params
    session = state.create_session(p.get("api_key", ""), p.get("request_token", ""), p.get("checksum", ""),
                                   state.exchange.now_ns())
    profile = portfolio.profile(session, market.kite_exchanges(state.exchange))
    return {**profile, "api_key": session.app.api_key, "access_token": session.access_token,
            "public_token": session.public_token, "enctoken": session.public_token, "refresh_token": "", "silo": "",
            "login_time": datetime.fromtimestamp(session.login_ns / 1e9, IST).strftime("%Y-%m-%d %H:%M:%S")}


def _delete_session(state: KiteState, call: Call) -> bool:
    token = call.params.get("access_token", "")
    session = state.sessions.get(token)
    if session is None or session.app.api_key != call.params.get("api_key"):
        raise KiteError("TokenException", "Invalid `api_key` or `access_token`.")
    return state.invalidate(token)


def _place(state: KiteState, call: Call) -> dict[str, str]:
    return {"order_id": state.orders.place(call.session, call.path("variety"), call.params).order_id}


def _orders_body(call: Call) -> list[dict[str, Any]]:
    """The margin calculators' JSON array of orders."""
    try:
        orders = json.loads(call.body)
    except ValueError:
        orders = None
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise KiteError("InputException", "Invalid JSON body: send an array of orders.")
    return orders


def _quotes(kind: str) -> Handler:
    def handle(state: KiteState, call: Call) -> dict[str, Any]:
        keys = [v for k, v in parse_qsl(call.request.rel_url.raw_query_string, keep_blank_values=True) if k == "i"]
        return market.quotes(state.exchange, keys, kind)
    return handle


def _csv(text: str) -> web.Response:
    response = web.Response(text=text, content_type="text/csv")
    response.enable_compression()
    return response


async def _start_orders(app: web.Application) -> None:
    state = app[STATE_KEY]
    state.orders.start()

    async def release() -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                state.orders.release_amos()
            except Exception:
                log.exception("releasing after-market orders failed")

    app[AMO_TASK] = asyncio.get_running_loop().create_task(release())


async def _stop_orders(app: web.Application) -> None:
    app[STATE_KEY].orders.stop()
    task = app.get(AMO_TASK)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _faults_control(request: web.Request) -> web.Response:
    """Arm (POST), clear (DELETE) or list (GET) faults for out-of-process tests."""
    faults = request.app[STATE_KEY].faults
    if request.method == "POST":
        try:
            body = json.loads(await request.text())
            name = str(body["name"])
        except (ValueError, KeyError, TypeError):
            return json_response({"error": 'expected {"name": ..., "count": ..., "params": {...}}'}, status=400)
        count = body.get("count", 1)
        faults.arm(name, count if count is None else int(count), **(body.get("params") or {}))
    elif request.method == "DELETE":
        faults.clear(request.query.get("name"))
    elif request.method != "GET":
        return json_response({"error": "use GET, POST or DELETE"}, status=405)
    return json_response(faults.snapshot())
