"""Market streams: raw /ws/<stream>, combined /stream?streams=a/b, live SUBSCRIBE/UNSUBSCRIBE.

The hub listens to the exchange. Trades go out at once (trade, aggTrade); book changes are merged per
symbol and push interval and sent as depthUpdate diffs whose U/u (and futures pu) chain exactly;
bookTicker goes out whenever the top of the book changes; klines, partial depth and miniTicker (the
rolling 24 h figures, once a second) are pushed by the clock. Faults: depth_gap drops one merged diff (the next one no longer chains), drop_ws closes every
market socket; the per-frame faults live in WsConnection.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..contract import DepthUpdate, OrderState, PublicTrade
from . import mini_ticker, stream_names
from .filters import fmt
from .formats import ms
from .market_api import INTERVALS, kline_origin_ns
from .state import ServerState
from .stream_names import StreamName
from .wsconn import WsConnection, read_loop

log = logging.getLogger(__name__)

TICK_S = 0.05
KLINE_PUSH_S = 1.0
MAX_STREAMS = 1024
_ID_OK = (int, str, type(None))


@dataclass
class _Pending:
    """Depth changes merged for one (symbol, push interval) since the last push."""

    first: int = 0
    last: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    sent_last: int = 0  # u of the last diff sent (futures pu)
    due: float = 0.0


@dataclass(eq=False)
class _Client:
    conn: WsConnection
    combined: bool
    route: str | None
    streams: set[str] = field(default_factory=set)


class StreamHub:
    """Fans exchange events out to market-stream clients of one product (spot or USD-M)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._clients: set[_Client] = set()
        self._subs: dict[str, set[_Client]] = {}
        self._parsed: dict[str, StreamName] = {}
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._tops: dict[str, tuple[Any, ...]] = {}
        self._kline_bucket: dict[str, int] = {}
        self._next_kline = 0.0
        self._next_mini_ticker = 0.0
        self._task: asyncio.Task[None] | None = None
        self._remove_listener: Any = None

    # life cycle

    async def start(self, app: web.Application) -> None:
        self._remove_listener = self.state.exchange.add_listener(self)
        self._task = asyncio.get_running_loop().create_task(self._clock())

    async def stop(self, app: web.Application) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for client in list(self._clients):
            await client.conn.close()

    # websocket endpoints

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve /ws[/<stream>] and /stream?streams=... (optionally under /public or /market)."""
        path = request.path
        route = stream_names.PUBLIC if path.startswith("/public/") else stream_names.MARKET if path.startswith("/market/") else None
        combined = "/stream" in path
        names = request.query.get("streams", "").split("/") if combined else [request.match_info.get("stream", "")]
        ws = web.WebSocketResponse(heartbeat=20.0, autoping=False)
        await ws.prepare(request)
        conn = WsConnection(ws, self.state.faults, 10 if self.state.futures else 5)
        client = _Client(conn, combined, route)
        conn.start()
        self._clients.add(client)
        try:
            error = self._subscribe(client, [n for n in names if n])
            if error:
                await ws.close(code=1008, message=error.encode()[:120])
                return ws
            await read_loop(conn, lambda text: self._control(client, text))
        finally:
            self._drop(client)
            await conn.close()
        return ws

    async def _control(self, client: _Client, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError as exc:
            client.conn.send(json.dumps({"code": 3, "msg": f"Invalid JSON: {exc}"}))
            return
        if not isinstance(msg, dict):
            client.conn.send(json.dumps({"code": 2, "msg": "Invalid request: expected an object"}))
            return
        req_id = msg.get("id")
        if not isinstance(req_id, _ID_OK) or isinstance(req_id, bool) or (isinstance(req_id, str) and len(req_id) > 36):
            client.conn.send(json.dumps({"code": 2, "msg": "Invalid request: invalid value for 'id'", "id": None}))
            return
        method, params = msg.get("method"), msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                answer: dict[str, Any] = {"code": 2, "msg": "Invalid request: 'params' must be a list of stream names", "id": req_id}
            else:
                error = self._subscribe(client, params) if method == "SUBSCRIBE" else self._unsubscribe(client, params)
                answer = {"code": 2, "msg": f"Invalid request: {error}", "id": req_id} if error else {"result": None, "id": req_id}
        elif method == "LIST_SUBSCRIPTIONS":
            answer = {"result": sorted(client.streams), "id": req_id}
        elif method == "SET_PROPERTY":
            if params[:1] != ["combined"] or len(params) != 2:
                answer = {"code": 0, "msg": "Unknown property", "id": req_id}
            elif not isinstance(params[1], bool):
                answer = {"code": 1, "msg": "Invalid value type: expected Boolean", "id": req_id}
            else:
                client.combined = params[1]
                answer = {"result": None, "id": req_id}
        elif method == "GET_PROPERTY":
            answer = {"result": client.combined, "id": req_id} if params == ["combined"] else \
                {"code": 0, "msg": "Unknown property", "id": req_id}
        else:
            answer = {"code": 2, "msg": "Invalid request: unknown method", "id": req_id}
        client.conn.send(json.dumps(answer))

    def _subscribe(self, client: _Client, names: list[str]) -> str:
        parsed = []
        for name in names:
            stream = stream_names.parse(name, self.state.futures) or mini_ticker.parse_name(name)
            if stream is None:
                return f"unknown stream '{name}'"
            if client.route is not None and stream.route != client.route:
                return f"stream '{name}' is not served on /{client.route}"
            try:
                self.state.symbol(stream.symbol)
            except Exception:
                return f"unknown symbol in '{name}'"
            parsed.append(stream)
        if len(client.streams | {s.name for s in parsed}) > MAX_STREAMS:
            return f"more than {MAX_STREAMS} streams"
        for stream in parsed:
            client.streams.add(stream.name)
            self._subs.setdefault(stream.name, set()).add(client)
            self._parsed[stream.name] = stream
            if stream.kind in ("depth", "partial"):
                self._pending.setdefault((stream.symbol, stream.speed_ms), _Pending(sent_last=self._book_id(stream.symbol)))
        return ""

    def _unsubscribe(self, client: _Client, names: list[str]) -> str:
        for name in names:
            client.streams.discard(name)
            subs = self._subs.get(name)
            if subs is not None:
                subs.discard(client)
                if not subs:
                    del self._subs[name]
        return ""

    def _drop(self, client: _Client) -> None:
        self._unsubscribe(client, list(client.streams))
        self._clients.discard(client)

    def _book_id(self, symbol: str) -> int:
        return self.state.exchange.depth(self.state.market, symbol, 1).last_update_id

    # exchange listener

    def on_depth(self, update: DepthUpdate) -> None:
        if update.market != self.state.market:
            return
        for (symbol, _), pending in self._pending.items():
            if symbol != update.symbol:
                continue
            if not pending.first:
                pending.first = update.first_update_id
            pending.last = update.last_update_id
            pending.bids.update(update.bids)
            pending.asks.update(update.asks)
        name = f"{update.symbol.lower()}@bookTicker"
        if name in self._subs:
            self._book_ticker(update.symbol, name, update.last_update_id)

    def on_trade(self, trade: PublicTrade) -> None:
        if trade.market != self.state.market:
            return
        lower = trade.symbol.lower()
        now = self.state.server_ms()
        if f"{lower}@trade" in self._subs:
            self._publish(f"{lower}@trade", {"e": "trade", "E": now, "s": trade.symbol, "t": trade.trade_id,
                                             "p": self._num(trade.price), "q": self._num(trade.quantity),
                                             "T": ms(trade.ts_ns), "m": trade.buyer_is_maker, "M": True})
        if f"{lower}@aggTrade" in self._subs:
            self._publish(f"{lower}@aggTrade", {"e": "aggTrade", "E": now, "s": trade.symbol, "a": trade.trade_id,
                                                "p": self._num(trade.price), "q": self._num(trade.quantity),
                                                "f": trade.trade_id, "l": trade.trade_id, "T": ms(trade.ts_ns),
                                                "m": trade.buyer_is_maker, "M": True})

    def on_order(self, state: OrderState) -> None:
        """Orders are the user-data servers' business."""

    # output

    def _num(self, value: Decimal | None) -> str:
        if value is None:
            return "0" if self.state.futures else fmt(None)
        return format(value, "f") if self.state.futures else fmt(value)

    def _publish(self, name: str, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, separators=(",", ":"))
        wrapped = None
        for client in tuple(self._subs.get(name, ())):
            if client.combined:
                if wrapped is None:
                    wrapped = f'{{"stream":"{name}","data":{raw}}}'
                client.conn.send(wrapped)
            else:
                client.conn.send(raw)

    def _book_ticker(self, symbol: str, name: str, update_id: int) -> None:
        snap = self.state.exchange.depth(self.state.market, symbol, 1)
        top = (snap.bids[:1], snap.asks[:1])
        if self._tops.get(name) == top:
            return
        self._tops[name] = top
        bid, bid_qty = snap.bids[0] if snap.bids else (None, None)
        ask, ask_qty = snap.asks[0] if snap.asks else (None, None)
        payload: dict[str, Any] = {"u": update_id, "s": symbol, "b": self._num(bid), "B": self._num(bid_qty),
                                   "a": self._num(ask), "A": self._num(ask_qty)}
        if self.state.futures:
            now = self.state.server_ms()
            payload = {"e": "bookTicker", "u": update_id, "E": now, "T": now, **{k: payload[k] for k in "sbBaA"}}
        self._publish(name, payload)

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            try:
                now = loop.time()
                self._drop_faults()
                self._push_depth(now)
                if now >= self._next_kline:
                    self._next_kline = now + KLINE_PUSH_S
                    self._push_klines()
                if now >= self._next_mini_ticker:
                    self._next_mini_ticker = now + mini_ticker.PUSH_S
                    self._push_mini_tickers()
            except Exception:
                log.exception("market stream clock failed")

    def _drop_faults(self) -> None:
        fault = self.state.faults.active("drop_ws")
        if fault is None or fault.get("stream", "all") not in ("binance", "all"):
            return
        consumer = "binance-usdm" if self.state.futures else "binance-spot"
        if self.state.faults.take_once("drop_ws", consumer) is not None:
            log.info("fault drop_ws: closing %d %s market sockets", len(self._clients), consumer)
            for client in list(self._clients):
                client.conn.close_soon()

    def _push_depth(self, now: float) -> None:
        for (symbol, speed_ms), pending in self._pending.items():
            if now < pending.due:
                continue
            pending.due = now + speed_ms / 1000
            lower = symbol.lower()
            suffix = "" if speed_ms == (250 if self.state.futures else 1000) else f"@{speed_ms}ms"
            name = f"{lower}@depth{suffix}"
            if pending.first:
                self._send_diff(symbol, name, pending)
            for levels in (5, 10, 20):
                partial = f"{lower}@depth{levels}{suffix}"
                if partial in self._subs:
                    self._send_partial(symbol, partial, levels)

    def _send_diff(self, symbol: str, name: str, pending: _Pending) -> None:
        first, last, bids, asks, prev = pending.first, pending.last, pending.bids, pending.asks, pending.sent_last
        pending.first, pending.bids, pending.asks, pending.sent_last = 0, {}, {}, last
        if name not in self._subs:
            return
        if self.state.faults.take("depth_gap") is not None:
            log.info("fault depth_gap: dropping %s diff %d..%d", name, first, last)
            return
        now = self.state.server_ms()
        payload: dict[str, Any] = {"e": "depthUpdate", "E": now, "s": symbol, "U": first, "u": last,
                                   "b": [[self._num(p), self._num(q)] for p, q in sorted(bids.items(), reverse=True)],
                                   "a": [[self._num(p), self._num(q)] for p, q in sorted(asks.items())]}
        if self.state.futures:
            payload = {"e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": first, "u": last, "pu": prev,
                       "b": payload["b"], "a": payload["a"]}
        self._publish(name, payload)

    def _send_partial(self, symbol: str, name: str, levels: int) -> None:
        snap = self.state.exchange.depth(self.state.market, symbol, levels)
        bids = [[self._num(p), self._num(q)] for p, q in snap.bids]
        asks = [[self._num(p), self._num(q)] for p, q in snap.asks]
        if self.state.futures:
            now = self.state.server_ms()
            self._publish(name, {"e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": snap.last_update_id,
                                 "u": snap.last_update_id, "pu": snap.last_update_id, "b": bids, "a": asks})
        else:
            self._publish(name, {"lastUpdateId": snap.last_update_id, "bids": bids, "asks": asks})

    def _push_mini_tickers(self) -> None:
        for name in [n for n in self._subs if self._parsed[n].kind == mini_ticker.KIND]:
            self._publish(name, mini_ticker.payload(self.state, self._parsed[name].symbol, self._num))

    def _push_klines(self) -> None:
        now_ns = self.state.exchange.now_ns()
        for name in [n for n in self._subs if "@kline_" in n]:
            stream = self._parsed[name]
            step_ns = INTERVALS[stream.interval] * 1_000_000_000
            origin = kline_origin_ns(stream.interval)
            bucket = (now_ns - origin) // step_ns * step_ns + origin
            previous = self._kline_bucket.get(name)
            if previous is not None and previous < bucket:
                self._send_kline(stream, previous, step_ns, closed=True)
            self._kline_bucket[name] = bucket
            self._send_kline(stream, bucket, step_ns, closed=False)

    def _send_kline(self, stream: StreamName, start_ns: int, step_ns: int, closed: bool) -> None:
        candles = [c for c in self.state.exchange.candles(self.state.market, stream.symbol, step_ns // 1_000_000_000,
                                                          start_ns, start_ns + step_ns - 1, kline_origin_ns(stream.interval))
                   if c.start_ns == start_ns]
        if not candles:
            return
        c = candles[-1]
        self._publish(stream.name, {"e": "kline", "E": self.state.server_ms(), "s": stream.symbol, "k": {
            "t": ms(start_ns), "T": ms(start_ns + step_ns) - 1, "s": stream.symbol, "i": stream.interval, "f": 0,
            "L": 0, "o": self._num(c.open), "c": self._num(c.close), "h": self._num(c.high), "l": self._num(c.low),
            "v": self._num(c.volume), "n": c.trades, "x": closed, "q": self._num(c.volume * c.close),
            "V": self._num(Decimal(0)), "Q": self._num(Decimal(0)), "B": "0"}})
