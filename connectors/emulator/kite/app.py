"""The Kite Connect v3 protocol over the exchange: login redirect, REST (envelope, error types, rate
limits) and the binary Kite Ticker with order postbacks. Built per exchange by build_*_app()."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import WSMsgType, web

from core.domain import InstrumentKind, OrderType, Side, TimeInForce

from ..contract import ExchangeApi, Market, NewOrder, OrderState
from ..faults import Faults
from . import codec
from .formats import CORE_ORDER_TYPE, IST, instruments_csv, order_json, quote_json, trade_json
from .state import KiteState, state_for

log = logging.getLogger(__name__)
KITE_MARKETS = ("NSE", "NFO")
INTERVALS = {"minute": 60, "3minute": 180, "5minute": 300, "10minute": 600, "15minute": 900, "30minute": 1800, "60minute": 3600,
             "day": 86400}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCOUNT = web.RequestKey("account", str)
API_KEY = web.RequestKey("api_key", str)


class KiteError(Exception):
    def __init__(self, error_type: str, message: str, status: int) -> None:
        super().__init__(message)
        self.error_type, self.message, self.status = error_type, message, status


def ok(data: Any) -> web.Response:
    return web.json_response({"status": "success", "data": data})


def _err(e: KiteError) -> web.Response:
    return web.json_response({"status": "error", "message": e.message, "data": None, "error_type": e.error_type}, status=e.status)


# login --------------------------------------------------------------------------------------------------
def build_login_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    """GET /connect/login?api_key=..&v=3 redirects to the app's redirect URL with a request_token."""
    state = state_for(exchange, faults)

    async def login(request: web.Request) -> web.StreamResponse:
        api_key = request.query.get("api_key", "")
        if api_key not in state.keys:
            return web.Response(status=400, text="Invalid api_key")
        redirect = request.query.get("redirect_url") or state.redirect_urls.get(api_key, "http://127.0.0.1:5010/callback")
        token = state.new_request_token(api_key)
        raise web.HTTPFound(f"{redirect}?request_token={token}&action=login&type=login&status=success")

    app = web.Application()
    app.router.add_get("/connect/login", login)
    return app


# REST ---------------------------------------------------------------------------------------------------
def build_rest_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    state = state_for(exchange, faults)
    meta = state.meta
    app = web.Application(middlewares=[_middleware(state)])

    def account(request: web.Request) -> str:
        return request[ACCOUNT]

    def user_id(request: web.Request) -> str:
        return state.keys[request[API_KEY]][1]

    def market_of(exchange_name: str, symbol: str) -> Market:
        try:
            return state.exchange.market(exchange_name, symbol)
        except KeyError:
            raise KiteError("InputException", f"Invalid `tradingsymbol` {exchange_name}:{symbol}", 400) from None

    async def session_token(request: web.Request) -> web.Response:
        form = await request.post()
        api_key, rt, checksum = str(form.get("api_key", "")), str(form.get("request_token", "")), str(form.get("checksum", ""))
        access = state.exchange_token(api_key, rt, checksum)
        if access is None:
            raise KiteError("TokenException", "Token is invalid or has expired.", 403)
        _, uid, _ = state.keys[api_key]
        return ok({"user_type": "individual", "email": "demo@shrivenquant.local", "user_name": "Demo Trader", "user_shortname": "Demo",
                   "broker": "ZERODHA", "exchanges": list(KITE_MARKETS), "products": ["CNC", "NRML", "MIS"],
                   "order_types": ["MARKET", "LIMIT", "SL", "SL-M"], "avatar_url": None, "user_id": uid, "api_key": api_key,
                   "access_token": access, "public_token": access[:16], "refresh_token": "", "enctoken": "",
                   "login_time": datetime.now(IST).strftime("%Y-%m-%d %H:%M:%S"), "meta": {"demat_consent": "consent"}})

    async def profile(request: web.Request) -> web.Response:
        return ok({"user_id": user_id(request), "user_type": "individual", "email": "demo@shrivenquant.local", "user_name": "Demo Trader",
                   "user_shortname": "Demo", "broker": "ZERODHA", "exchanges": list(KITE_MARKETS), "products": ["CNC", "NRML", "MIS"],
                   "order_types": ["MARKET", "LIMIT", "SL", "SL-M"], "avatar_url": None, "meta": {"demat_consent": "consent"}})

    async def margins(request: web.Request) -> web.Response:
        cash = next((b for b in state.exchange.balances(account(request)) if b.asset == "INR"), None)
        free, locked = (cash.free, cash.locked) if cash else (Decimal(0), Decimal(0))
        segment = {"enabled": True, "net": float(free), "available": {"adhoc_margin": 0, "cash": float(free + locked), "opening_balance": float(free + locked),
                   "live_balance": float(free), "collateral": 0, "intraday_payin": 0},
                   "utilised": {"debits": float(locked), "exposure": 0, "m2m_realised": 0, "m2m_unrealised": 0, "option_premium": 0,
                                "payout": 0, "span": float(locked), "holding_sales": 0, "turnover": 0, "liquid_collateral": 0,
                                "stock_collateral": 0, "delivery": 0}}
        data = {"equity": segment, "commodity": {**segment, "net": 0.0}}
        segment_name = request.match_info.get("segment")
        return ok(data[segment_name] if segment_name in data else data)

    async def place(request: web.Request) -> web.Response:
        variety = request.match_info["variety"]
        form = await request.post()
        try:
            new, extra = _new_order(form, account(request))
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise KiteError("InputException", str(exc) or "invalid order parameters", 400) from None
        market_of(new.market, new.symbol)
        placed = state.exchange.place(new)
        meta[placed.order_id] = {"variety": variety, **extra}
        if state.faults.take("http_5xx_after_order") is not None:
            raise KiteError("NetworkException", "Couldn't connect to the OMS. Please retry.", 503)
        if placed.status.value == "REJECTED" and placed.reject_reason.startswith("insufficient"):
            raise KiteError("MarginException", f"Insufficient funds. {placed.reject_reason}", 400)
        return ok({"order_id": str(placed.order_id)})

    def find(request: web.Request) -> tuple[OrderState, Market]:
        try:
            order_id = int(request.match_info["order_id"])
            for m in KITE_MARKETS:
                for s in state.exchange.orders(account(request), m):
                    if s.order_id == order_id:
                        return s, state.exchange.market(s.market, s.symbol)
        except ValueError:
            pass
        raise KiteError("OrderException", "Couldn't find that `order_id`.", 400)

    async def modify(request: web.Request) -> web.Response:
        current, _ = find(request)
        form = await request.post()
        try:
            price = Decimal(str(form["price"])) if form.get("price") else None
            qty = Decimal(str(form["quantity"])) if form.get("quantity") else None
            trigger = Decimal(str(form["trigger_price"])) if form.get("trigger_price") else None
        except InvalidOperation:
            raise KiteError("InputException", "Invalid price or quantity.", 400) from None
        if current.status.is_terminal:
            raise KiteError("OrderException", f"Order cannot be modified as it is being processed ({current.status.value}).", 400)
        amended = state.exchange.amend(account(request), current.market, current.symbol, current.order_id, price, qty, trigger)
        meta.setdefault(current.order_id, {})["modified"] = True
        if amended.status.value == "REJECTED":
            raise KiteError("OrderException", amended.reject_reason, 400)
        return ok({"order_id": str(current.order_id)})

    async def cancel(request: web.Request) -> web.Response:
        current, _ = find(request)
        if current.status.is_terminal:
            raise KiteError("OrderException", f"Order cannot be cancelled as it is {current.status.value.lower()}.", 400)
        state.exchange.cancel(account(request), current.market, current.symbol, current.order_id)
        return ok({"order_id": str(current.order_id)})

    def render(s: OrderState) -> dict[str, Any]:
        m = state.exchange.market(s.market, s.symbol)
        return order_json(s, m, meta.get(s.order_id, {}), state.keys[_api_key_of(state, s.account)][1])

    async def orders(request: web.Request) -> web.Response:
        return ok([render(s) for m in KITE_MARKETS for s in state.exchange.orders(account(request), m)])

    async def order_history(request: web.Request) -> web.Response:
        current, _ = find(request)
        return ok([render(s) for s in state.exchange.order_history(account(request), current.order_id)])

    async def trades(request: web.Request) -> web.Response:
        fills = [f for m in KITE_MARKETS for f in state.exchange.fills(account(request), m)]
        if "order_id" in request.match_info:
            current, _ = find(request)
            fills = [f for f in fills if f.order_id == current.order_id]
        return ok([trade_json(f, state.exchange.market(f.market, f.symbol), meta.get(f.order_id, {}).get("product", "MIS")) for f in fills])

    async def positions(request: web.Request) -> web.Response:
        rows = []
        for p in state.exchange.positions(account(request)):
            if p.market not in KITE_MARKETS:
                continue
            m = state.exchange.market(p.market, p.symbol)
            last = state.exchange.summary(p.market, p.symbol).last_price
            value = p.sell_value - p.buy_value
            pnl = value + p.quantity * last
            rows.append({"tradingsymbol": p.symbol, "exchange": p.market, "instrument_token": int(m.instrument.venue_token), "product": p.product,
                         "quantity": int(p.quantity), "overnight_quantity": 0, "multiplier": 1, "average_price": float(p.average_price),
                         "close_price": 0, "last_price": float(last), "value": float(value), "pnl": float(pnl), "m2m": float(pnl),
                         "unrealised": float(pnl - p.realised_pnl), "realised": float(p.realised_pnl), "buy_quantity": int(p.buy_quantity),
                         "buy_price": float(p.buy_value / p.buy_quantity) if p.buy_quantity else 0, "buy_value": float(p.buy_value),
                         "buy_m2m": float(p.buy_value), "sell_quantity": int(p.sell_quantity),
                         "sell_price": float(p.sell_value / p.sell_quantity) if p.sell_quantity else 0, "sell_value": float(p.sell_value),
                         "sell_m2m": float(p.sell_value), "day_buy_quantity": int(p.buy_quantity), "day_buy_price": 0,
                         "day_buy_value": float(p.buy_value), "day_sell_quantity": int(p.sell_quantity), "day_sell_price": 0,
                         "day_sell_value": float(p.sell_value)})
        return ok({"net": rows, "day": rows})

    async def holdings(request: web.Request) -> web.Response:
        return ok([])  # the emulator settles nothing overnight: CNC buys stay day positions

    async def instruments(request: web.Request) -> web.Response:
        name = request.match_info.get("exchange")
        markets = [m for m in state.exchange.markets() if m.market in KITE_MARKETS]
        last = {m.symbol: state.exchange.summary(m.market, m.symbol).last_price for m in markets}
        return web.Response(text=instruments_csv(markets, last, name), content_type="text/csv")

    async def quote(request: web.Request) -> web.Response:
        mode = request.match_info.get("mode", "quote")
        data = {}
        for key in request.query.getall("i", []):
            exch, _, symbol = key.partition(":")
            try:
                m = state.exchange.market(exch, symbol)
            except KeyError:
                continue  # missing instruments are simply absent (kite.md C10)
            depth = state.exchange.depth(exch, symbol, 5)
            data[key] = quote_json(m, state.exchange.summary(exch, symbol), (depth.bids, depth.asks), mode)
        return ok(data)

    async def historical(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        interval = INTERVALS.get(request.match_info["interval"])
        if interval is None:
            raise KiteError("InputException", "invalid interval", 400)
        market = next((m for m in state.exchange.markets() if m.instrument.venue_token == token), None)
        if market is None:
            raise KiteError("InputException", "invalid token", 400)
        try:
            start = datetime.fromisoformat(request.query["from"]).replace(tzinfo=IST)
            end = datetime.fromisoformat(request.query["to"]).replace(tzinfo=IST)
        except (KeyError, ValueError):
            raise KiteError("InputException", "from and to must be yyyy-mm-dd hh:mm:ss", 400) from None
        with_oi = request.query.get("oi") in ("1", "true")
        rows = []
        for c in state.exchange.candles(market.market, market.symbol, interval, int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)):
            when = datetime.fromtimestamp(c.start_ns / 1e9, IST).strftime("%Y-%m-%dT%H:%M:%S+0530")
            row: list[Any] = [when, float(c.open), float(c.high), float(c.low), float(c.close), int(c.volume)]
            if with_oi:
                row.append(int(c.open_interest or 0))
            rows.append(row)
        return ok({"candles": rows})

    async def faults_control(request: web.Request) -> web.Response:
        body = await request.json()
        state.faults.arm(body["name"], body.get("count", 1), **(body.get("params") or {}))
        return ok(state.faults.snapshot())

    r = app.router
    r.add_post("/session/token", session_token)
    r.add_get("/user/profile", profile)
    r.add_get("/user/margins", margins)
    r.add_get("/user/margins/{segment}", margins)
    r.add_post("/orders/{variety}", place)
    r.add_put("/orders/{variety}/{order_id}", modify)
    r.add_delete("/orders/{variety}/{order_id}", cancel)
    r.add_get("/orders", orders)
    r.add_get("/orders/{order_id}", order_history)
    r.add_get("/orders/{order_id}/trades", trades)
    r.add_get("/trades", trades)
    r.add_get("/portfolio/positions", positions)
    r.add_get("/portfolio/holdings", holdings)
    r.add_get("/instruments", instruments)
    r.add_get("/instruments/{exchange}", instruments)
    r.add_get("/quote", quote)
    r.add_get("/quote/{mode}", quote)
    r.add_get("/instruments/historical/{token}/{interval}", historical)
    r.add_post("/_emulator/faults", faults_control)
    return app


def _api_key_of(state: KiteState, account: str) -> str:
    return next(k for k, (_, _, acct) in state.keys.items() if acct == account)


def _new_order(form: Any, account: str) -> tuple[NewOrder, dict[str, Any]]:
    otype = CORE_ORDER_TYPE.get(str(form["order_type"]))
    if otype is None:
        raise ValueError(f"Invalid `order_type` {form['order_type']}")
    qty = Decimal(str(form["quantity"]))
    protection = int(str(form.get("market_protection") or 0))
    if otype in (OrderType.MARKET, OrderType.STOP_MARKET) and protection == 0:
        raise ValueError("Market orders without market protection are not allowed. Please set market_protection (or -1 for automatic).")
    validity = str(form.get("validity", "DAY"))
    if validity not in ("DAY", "IOC", "TTL"):
        raise ValueError(f"Invalid `validity` {validity}")
    product = str(form.get("product", "MIS"))
    if product not in ("CNC", "MIS", "NRML", "MTF"):
        raise ValueError(f"Invalid `product` {product}")
    tag = str(form.get("tag", ""))
    if len(tag) > 20 or (tag and not tag.replace("_", "").isalnum()):
        raise ValueError("`tag` must be alphanumeric, at most 20 characters")
    side = Side(str(form["transaction_type"]))
    new = NewOrder(account, str(form["exchange"]), str(form["tradingsymbol"]), side, otype, qty, tag,
                   price=Decimal(str(form["price"])) if form.get("price") and otype in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                   trigger_price=Decimal(str(form["trigger_price"])) if form.get("trigger_price") else None,
                   time_in_force=TimeInForce.IOC if validity == "IOC" else TimeInForce.DAY, tag=tag, extra={"product": product})
    return new, {"product": product, "validity": validity, "market_protection": protection,
                 "disclosed_quantity": int(str(form.get("disclosed_quantity") or 0))}


def _middleware(state: KiteState) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        try:
            if path not in ("/session/token", "/_emulator/faults"):
                auth = request.headers.get("Authorization", "")
                scheme, _, creds = auth.partition(" ")
                api_key, _, access = creds.partition(":")
                acct = state.account_for(api_key, access) if scheme == "token" else None
                if acct is None:
                    raise KiteError("TokenException", "Incorrect `api_key` or `access_token`.", 403)
                request[ACCOUNT], request[API_KEY] = acct, api_key
                kind = "quote" if path.startswith("/quote") else "historical" if "historical" in path else \
                    "orders" if path.startswith("/orders") and request.method != "GET" else "other"
                if state.faults.take("http_429") is not None or not state.allow(kind):
                    raise KiteError("NetworkException", "Too many requests", 429)
            return await handler(request)
        except KiteError as exc:
            return _err(exc)
    return middleware


# ticker -------------------------------------------------------------------------------------------------
def build_ticker_app(exchange: ExchangeApi, faults: Faults) -> web.Application:
    state = state_for(exchange, faults)
    by_token = {m.instrument.venue_token: m for m in exchange.markets() if m.market in KITE_MARKETS}

    async def ticker(request: web.Request) -> web.StreamResponse:
        acct = state.account_for(request.query.get("api_key", ""), request.query.get("access_token", ""))
        if acct is None:
            raise web.HTTPForbidden(text="invalid api_key or access_token")
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        modes: dict[str, str] = {}
        queue: asyncio.Queue[str] = asyncio.Queue()

        class Postbacks:
            def on_depth(self, update: Any) -> None: ...
            def on_trade(self, trade: Any) -> None: ...
            def on_order(self, s: OrderState) -> None:
                if s.account == acct and s.market in KITE_MARKETS:
                    m = exchange.market(s.market, s.symbol)
                    meta = state.meta
                    queue.put_nowait(json.dumps({"type": "order", "data": order_json(s, m, meta.get(s.order_id, {}), state.keys[_api_key_of(state, acct)][1])}))

        remove = exchange.add_listener(Postbacks())
        pump = asyncio.get_running_loop().create_task(_pump(request, ws, exchange, state, by_token, modes, queue))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    cmd = json.loads(msg.data)
                    action, value = cmd["a"], cmd["v"]
                    if action == "subscribe":
                        for t in value[:3000]:
                            modes.setdefault(str(t), "quote")
                    elif action == "unsubscribe":
                        for t in value:
                            modes.pop(str(t), None)
                    elif action == "mode":
                        mode, tokens = value
                        for t in tokens:
                            if str(t) in modes and mode in ("ltp", "quote", "full"):
                                modes[str(t)] = mode
                except (ValueError, KeyError, TypeError):
                    await ws.send_str(json.dumps({"type": "error", "data": "invalid message"}))
        finally:
            pump.cancel()
            for result in await asyncio.gather(pump, return_exceptions=True):
                if isinstance(result, Exception):
                    log.error("Kite ticker pump failed: %r", result)
            remove()
        return ws

    app = web.Application()
    app.router.add_get("/", ticker)
    return app


async def _pump(request: web.Request, ws: web.WebSocketResponse, exchange: ExchangeApi, state: KiteState, by_token: dict[str, Market], modes: dict[str, str],
                queue: asyncio.Queue[str]) -> None:
    """Send order postbacks as they happen, market packets about once a second (as Kite does), heartbeats when idle."""
    idle = 0
    while not ws.closed:
        while not queue.empty():
            await ws.send_str(queue.get_nowait())
        drop = state.faults.active("drop_ws")
        if drop is not None and drop.get("stream", "all") in ("kite", "all") and state.faults.take("drop_ws") is not None:
            if request.transport is not None:  # drop the TCP connection, as a network failure would
                request.transport.abort()
            return
        delay = state.faults.active("delay_ws")
        for _ in range(4):  # postbacks go out within 0.25 s; market packets once a second
            await asyncio.sleep(0.25)
            while not queue.empty():
                await ws.send_str(queue.get_nowait())
        await asyncio.sleep(float((delay or {}).get("seconds", 0)))
        packets = []
        now_s = exchange.now_ns() // 10**9
        for token, mode in list(modes.items()):
            m = by_token.get(token)
            if m is None:
                continue
            s = exchange.summary(m.market, m.symbol)
            if m.instrument.kind is InstrumentKind.INDEX:
                packets.append(codec.index_packet(int(token), s, mode, now_s))
            else:
                depth = exchange.depth(m.market, m.symbol, 5)
                packets.append(codec.tradable_packet(int(token), s, mode, (depth.bids, depth.asks), now_s))
        if state.faults.take("malformed_ws") is not None:
            packets.append(b"\x00\x00\x01\x01" + b"\x00" * 9)  # a 13-byte packet: no such mode
        if packets:
            await ws.send_bytes(codec.message(packets))
            idle = 0
        else:
            idle += 1
            if idle % 2 == 0:
                await ws.send_bytes(b"\x00")  # heartbeat every 2 s when idle
