"""The Binance protocol servers as aiohttp applications: spot and USD-M futures, one port each.

Spot: REST /api/v3, market streams /ws/<stream> and /stream?streams=..., the WS API /ws-api/v3.
USD-M: REST /fapi/v1 (+ /fapi/v2 balance, account, positionRisk), market streams (also routed under
/public and /market), user data at /ws/<listenKey> and /private/ws?listenKey=...
Both: POST /_emulator/faults {"name", "count", "params"} arms a fault (DELETE clears, GET lists).
"""
from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from ..contract import ExchangeApi
from ..faults import Faults
from . import market_api, spot_api, usdm_api, wsapi
from .listen_keys import ListenKeys
from .rest_common import KEY, SIGNED, STATE_KEY, endpoint
from .state import SPOT, USDM, ServerState
from .streams import StreamHub
from .userdata import UserHub

_public: list[tuple[str, str, Callable, object]] = [
    ("GET", "ping", lambda s, r: {}, 1),
    ("GET", "time", lambda s, r: {"serverTime": s.server_ms()}, 1),
    ("GET", "exchangeInfo", lambda s, r: market_api.exchange_info(s, r.params), 20),
    ("GET", "trades", lambda s, r: market_api.trades(s, r.params), 25),
    ("GET", "aggTrades", lambda s, r: market_api.agg_trades(s, r.params), 4),
    ("GET", "klines", lambda s, r: market_api.klines(s, r.params), 2),
    ("GET", "ticker/24hr", lambda s, r: market_api.ticker_24hr(s, r.params), lambda p: 2 if p.get("symbol") else 80),
    ("GET", "ticker/price", lambda s, r: market_api.ticker_price(s, r.params), lambda p: 2 if p.get("symbol") else 4),
    ("GET", "ticker/bookTicker", lambda s, r: market_api.book_ticker(s, r.params), lambda p: 2 if p.get("symbol") else 4),
]


def build_spot_app(exchange: ExchangeApi, faults: Faults, *, ban_s: float = 120.0) -> web.Application:
    """REST /api/v3, market streams and the WS API of Binance Spot, for the exchange's "spot" markets."""
    state = ServerState(exchange, faults, SPOT, ban_s)
    app = _base_app(state)
    add = _adder(app, "/api/v3/")
    for method, path, fn, weight in _public:
        add(method, path, fn, weight)
    add("GET", "uiKlines", lambda s, r: market_api.klines(s, r.params), 2)
    add("GET", "depth", lambda s, r: market_api.depth(s, r.params), market_api.depth_weight)
    add("POST", "order", spot_api.new_order, 1, SIGNED, places_orders=True)
    add("POST", "order/test", spot_api.test_order, 1, SIGNED)
    add("GET", "order", spot_api.get_order, 4, SIGNED)
    add("DELETE", "order", spot_api.cancel_order, 1, SIGNED)
    add("POST", "order/cancelReplace", spot_api.cancel_replace, 1, SIGNED, places_orders=True)
    add("GET", "openOrders", spot_api.open_orders, lambda p: 6 if p.get("symbol") else 80, SIGNED)
    add("DELETE", "openOrders", spot_api.cancel_all, 1, SIGNED)
    add("GET", "allOrders", spot_api.all_orders, 20, SIGNED)
    add("GET", "account", spot_api.account, 20, SIGNED)
    add("GET", "myTrades", spot_api.my_trades, lambda p: 5 if p.get("orderId") else 20, SIGNED)
    hub, users = StreamHub(state), UserHub(state)
    app[wsapi.USER_HUB_KEY] = users
    app.router.add_get("/ws-api/v3", wsapi.handle)
    for prefix in ("", "/public", "/market"):
        app.router.add_get(prefix + "/ws/{stream}", hub.handle)
        app.router.add_get(prefix + "/ws", hub.handle)
        app.router.add_get(prefix + "/stream", hub.handle)
    _lifecycle(app, hub, users)
    return app


def build_usdm_app(exchange: ExchangeApi, faults: Faults, *, ban_s: float = 120.0,
                   listen_key_validity_s: float = 3600.0) -> web.Application:
    """REST /fapi, market streams and listenKey user data of Binance USD-M, for the "usdm" markets."""
    state = ServerState(exchange, faults, USDM, ban_s)
    app = _base_app(state)
    add = _adder(app, "/fapi/v1/")
    for method, path, fn, weight in _public:
        add(method, path, fn, weight)
    add("GET", "depth", lambda s, r: market_api.depth(s, r.params), lambda p: market_api.depth_weight(p, futures=True))
    add("POST", "order", usdm_api.new_order, 1, SIGNED, places_orders=True)
    add("GET", "order", usdm_api.get_order, 1, SIGNED)
    add("DELETE", "order", usdm_api.cancel_order, 1, SIGNED)
    add("PUT", "order", usdm_api.modify_order, 1, SIGNED)
    add("DELETE", "allOpenOrders", usdm_api.cancel_all, 1, SIGNED)
    add("GET", "openOrders", usdm_api.open_orders, lambda p: 1 if p.get("symbol") else 40, SIGNED)
    add("GET", "userTrades", usdm_api.user_trades, 5, SIGNED)
    add("POST", "leverage", usdm_api.leverage, 1, SIGNED)
    add("POST", "marginType", usdm_api.margin_type, 1, SIGNED)
    add("POST", "positionSide/dual", usdm_api.position_mode, 1, SIGNED)
    add("GET", "positionSide/dual", usdm_api.get_position_mode, 30, SIGNED)
    for version in ("/fapi/v2/", "/fapi/v3/"):
        add2 = _adder(app, version)
        add2("GET", "positionRisk", usdm_api.position_risk, 5, SIGNED)
        add2("GET", "balance", usdm_api.balance, 5, SIGNED)
    users = UserHub(state)
    keys = ListenKeys(state, users, listen_key_validity_s)
    add("POST", "listenKey", keys.create, 1, KEY)
    add("PUT", "listenKey", keys.keepalive, 1, KEY)
    add("DELETE", "listenKey", keys.delete, 1, KEY)
    hub = StreamHub(state)

    async def ws_path(request: web.Request) -> web.StreamResponse:
        name = request.match_info["stream"]
        return await (keys.handle(request, name) if keys.is_key(name) else hub.handle(request))

    async def private(request: web.Request) -> web.StreamResponse:
        return await keys.handle(request, request.query.get("listenKey", ""))

    for prefix in ("", "/public", "/market", "/private"):
        app.router.add_get(prefix + "/ws/{stream}", ws_path)
    for prefix in ("", "/public", "/market"):
        app.router.add_get(prefix + "/ws", hub.handle)
        app.router.add_get(prefix + "/stream", hub.handle)
    app.router.add_get("/private/ws", private)
    app.on_startup.append(keys.start)
    app.on_cleanup.append(keys.stop)
    _lifecycle(app, hub, users)
    return app


def _base_app(state: ServerState) -> web.Application:
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_route("*", "/_emulator/faults", _faults_control)
    return app


def _adder(app: web.Application, prefix: str) -> Callable[..., None]:
    def add(method: str, path: str, fn: Callable, weight: object, security: str = "NONE", places_orders: bool = False) -> None:
        app.router.add_route(method, prefix + path, endpoint(fn, weight, security, places_orders))  # type: ignore[arg-type]
    return add


def _lifecycle(app: web.Application, hub: StreamHub, users: UserHub) -> None:
    async def start(app: web.Application) -> None:
        users.start()
        await hub.start(app)

    async def stop(app: web.Application) -> None:
        users.stop()
        await hub.stop(app)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


async def _faults_control(request: web.Request) -> web.Response:
    """Arm (POST), clear (DELETE) or list (GET) faults for out-of-process tests."""
    faults = request.app[STATE_KEY].faults
    if request.method == "POST":
        try:
            body = json.loads(await request.text())
            name = str(body["name"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'expected {"name": ..., "count": ..., "params": {...}}'}, status=400)
        count = body.get("count", 1)
        faults.arm(name, count if count is None else int(count), **(body.get("params") or {}))
    elif request.method == "DELETE":
        faults.clear(request.query.get("name"))
    elif request.method != "GET":
        return web.json_response({"error": "use GET, POST or DELETE"}, status=405)
    return web.json_response(faults.snapshot())
