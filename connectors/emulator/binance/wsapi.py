"""The spot WebSocket API at /ws-api/v3 (binance.md A12, A13).

Requests {"id", "method", "params"} get {"id", "status", "result"|"error", "rateLimits"}. Signed
methods carry apiKey, timestamp and signature in params (signature over the sorted params, not
percent-encoded) unless the session has logged on with an Ed25519 key. User data arrives as
{"subscriptionId", "event"} after userDataStream.subscribe (logged-on session) or
userDataStream.subscribe.signature (any key type).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import market_api, spot_api
from .auth import ApiKey, check_signature, check_timestamp, lookup, ws_payload
from .errors import BinanceError
from .rest_common import STATE_KEY, Req
from .state import ServerState
from .userdata import UserHub
from .wsconn import WsConnection, read_loop

log = logging.getLogger(__name__)

USER_HUB_KEY: web.AppKey[UserHub] = web.AppKey("binance_user_hub", UserHub)

Method = Callable[[ServerState, Req], Any]
_PUBLIC: dict[str, tuple[Method, int]] = {
    "ping": (lambda s, r: {}, 1),
    "time": (lambda s, r: {"serverTime": s.server_ms()}, 1),
    "exchangeInfo": (lambda s, r: market_api.exchange_info(s, r.params), 20),
    "depth": (lambda s, r: market_api.depth(s, r.params), 5),
    "klines": (lambda s, r: market_api.klines(s, r.params), 2),
    "trades.recent": (lambda s, r: market_api.trades(s, r.params), 25),
    "ticker.book": (lambda s, r: market_api.book_ticker(s, r.params), 2),
    "ticker.price": (lambda s, r: market_api.ticker_price(s, r.params), 2),
}
_SIGNED: dict[str, tuple[Method, int]] = {
    "order.place": (spot_api.new_order, 1),
    "order.test": (spot_api.test_order, 1),
    "order.status": (spot_api.get_order, 4),
    "order.cancel": (spot_api.cancel_order, 1),
    "order.cancelReplace": (spot_api.cancel_replace, 1),
    "openOrders.status": (spot_api.open_orders, 6),
    "openOrders.cancelAll": (spot_api.cancel_all, 1),
    "account.status": (spot_api.account, 20),
    "myTrades": (spot_api.my_trades, 20),
    "allOrders": (spot_api.all_orders, 20),
}


class _Session:
    def __init__(self, conn: WsConnection) -> None:
        self.conn = conn
        self.key: ApiKey | None = None  # after session.logon
        self.subscriptions: dict[int, tuple[str, Callable[[], None], bool]] = {}  # id -> (account, remover, via logon)
        self.next_subscription = 0
        self.connected_ms = 0
        self.logon_ms = 0


async def handle(request: web.Request) -> web.WebSocketResponse:
    """Serve one WS API connection."""
    state = request.app[STATE_KEY]
    hub = request.app[USER_HUB_KEY]
    ws = web.WebSocketResponse(heartbeat=20.0, autoping=False)
    await ws.prepare(request)
    conn = WsConnection(ws, state.faults, 50, market_faults=False)
    conn.start()
    session = _Session(conn)
    session.connected_ms = state.server_ms()
    return_limits = request.query.get("returnRateLimits", "true") != "false"

    async def on_text(text: str) -> None:
        conn.send(json.dumps(_answer(state, hub, session, text, return_limits), separators=(",", ":")))

    try:
        state.limits.admit(2)
        await read_loop(conn, on_text)
    except BinanceError:
        pass
    finally:
        for _, remove, _ in session.subscriptions.values():
            remove()
        await conn.close()
    return ws


def _answer(state: ServerState, hub: UserHub, session: _Session, text: str, return_limits: bool) -> dict[str, Any]:
    try:
        msg = json.loads(text)
    except ValueError:
        return {"id": None, "status": 400, "error": {"code": -1000, "msg": "Malformed request: invalid JSON."}}
    req_id = msg.get("id") if isinstance(msg, dict) else None
    try:
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            raise BinanceError(-1000, "Malformed request: 'method' is missing.")
        raw_params = msg.get("params", {})
        if not isinstance(raw_params, dict):
            raise BinanceError(-1000, "Malformed request: 'params' must be an object.")
        method = msg["method"].removeprefix("v3/")
        result = _dispatch(state, hub, session, method, raw_params)
        answer: dict[str, Any] = {"id": req_id, "status": 200, "result": result}
    except BinanceError as exc:
        status = exc.status
        error: dict[str, Any] = {"code": exc.code, "msg": exc.msg}
        if exc.data is not None:
            error["data"] = exc.data
        answer = {"id": req_id, "status": status, "error": error}
    if return_limits:
        used = state.limits.weight.counts.get("ip", (0, 0))[1]
        answer["rateLimits"] = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                 "limit": state.limits.weight.limit, "count": used}]
    return answer


def _text_params(raw: dict[str, Any]) -> dict[str, str]:
    return {k: ("true" if v is True else "false" if v is False else v if isinstance(v, str) else json.dumps(v)
                if isinstance(v, (list, dict)) else str(v)) for k, v in raw.items()}


def _signed_key(state: ServerState, session: _Session, raw: dict[str, Any], params: dict[str, str]) -> ApiKey:
    """The key a signed request acts for: the logged-on key, else apiKey + signature in params."""
    if session.key is not None and "signature" not in raw:
        if params.get("apiKey") not in (None, session.key.api_key):
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        check_timestamp(params, state.server_ms())
        return session.key
    key = lookup(params.get("apiKey"))
    check_signature(key, ws_payload(raw), params.get("signature", ""))
    check_timestamp(params, state.server_ms())
    return key


def _dispatch(state: ServerState, hub: UserHub, session: _Session, method: str, raw: dict[str, Any]) -> Any:
    params = _text_params(raw)
    if method in _PUBLIC:
        fn, weight = _PUBLIC[method]
        state.limits.admit(weight)
        return fn(state, Req(params, None))
    if method in _SIGNED:
        fn, weight = _SIGNED[method]
        state.limits.admit(weight)
        key = _signed_key(state, session, raw, params)
        business = {k: v for k, v in params.items() if k not in ("apiKey", "signature")}
        return fn(state, Req(business, key))
    state.limits.admit(2)
    if method == "session.logon":
        key = lookup(params.get("apiKey"))
        if not key.is_ed25519:
            raise BinanceError(-4000, "Only Ed25519 API keys are supported for session.logon.")
        check_signature(key, ws_payload(raw), params.get("signature", ""))
        check_timestamp(params, state.server_ms())
        session.key, session.logon_ms = key, state.server_ms()
        return _status(state, session)
    if method == "session.status":
        return _status(state, session)
    if method == "session.logout":
        for sub_id in [i for i, (_, _, via_logon) in session.subscriptions.items() if via_logon]:
            _unsubscribe(session, sub_id)
        session.key = None
        return _status(state, session)
    if method == "session.subscriptions":
        return [{"subscriptionId": i} for i in sorted(session.subscriptions)]
    if method == "userDataStream.subscribe":
        if session.key is None:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        return {"subscriptionId": _subscribe(hub, session, session.key.account, via_logon=True)}
    if method == "userDataStream.subscribe.signature":
        key = lookup(params.get("apiKey"))
        check_signature(key, ws_payload(raw), params.get("signature", ""))
        check_timestamp(params, state.server_ms())
        return {"subscriptionId": _subscribe(hub, session, key.account, via_logon=False)}
    if method == "userDataStream.unsubscribe":
        if "subscriptionId" in params:
            sub_id = int(params["subscriptionId"])
            if sub_id not in session.subscriptions:
                raise BinanceError(-2036, "User Data Stream subscription not active.")
            _unsubscribe(session, sub_id)
        else:
            for sub_id in list(session.subscriptions):
                _unsubscribe(session, sub_id)
        return {}
    raise BinanceError(-1000, f"Unknown method '{method}'.")


def _status(state: ServerState, session: _Session) -> dict[str, Any]:
    key = session.key
    return {"apiKey": key.api_key if key else None, "authorizedSince": session.logon_ms if key else None,
            "connectedSince": session.connected_ms, "returnRateLimits": True, "serverTime": state.server_ms(),
            "userDataStream": bool(session.subscriptions)}


def _subscribe(hub: UserHub, session: _Session, account: str, via_logon: bool) -> int:
    if any(acc == account for acc, _, _ in session.subscriptions.values()):
        raise BinanceError(-2035, "User Data Stream subscription already active.")
    sub_id = session.next_subscription
    session.next_subscription += 1
    conn = session.conn

    def sink(event: dict[str, Any]) -> None:
        conn.send(json.dumps({"subscriptionId": sub_id, "event": event}, separators=(",", ":")))

    session.subscriptions[sub_id] = (account, hub.add_sink(account, sink), via_logon)
    return sub_id


def _unsubscribe(session: _Session, sub_id: int) -> None:
    account, remove, _ = session.subscriptions.pop(sub_id)
    remove()
    session.conn.send(json.dumps({"subscriptionId": sub_id, "event": {"e": "eventStreamTerminated", "E": 0}}))
