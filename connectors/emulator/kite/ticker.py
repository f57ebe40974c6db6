"""The Kite Ticker websocket (kite.md C15): binary market data, heartbeats and order postbacks.

Connect with ?api_key=..&access_token=.. (403 without a live session; 429 past 3 connections per key).
Text messages {"a": "subscribe"|"unsubscribe"|"mode", "v": ...} change what a connection gets; a new
subscription is in quote mode; at most 3000 instruments per connection (the rest are refused with an
error message). Every tick_interval_s each connection gets one binary message with the packets of its
instruments whose market data changed (a packet whose only news would be its exchange_timestamp is not
sent: that field is the time of the instrument's last change), or a 1-byte heartbeat after heartbeat_s
of silence. Order updates of the user arrive as {"type": "order", "data": {...}} text messages.

Faults: drop_ws (stream "kite"/"all") closes every connection; delay_ws holds each outgoing message
for params.seconds; malformed_ws sends one message with a packet of a wrong length (or, with
params.kind == "truncated", a message shorter than its packet claims); expire_token ends the sessions
(their connections are closed and refused until a new login).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from core.domain import InstrumentKind

from ..contract import Market
from .errors import dumps, json_response
from .market import kite_markets, orders_at
from .packets import HEARTBEAT, RawTick, encode_frame, encode_packet, scale
from .state import KiteState, Session
from .views import KiteOrder, postback_json

log = logging.getLogger(__name__)
MODES = ("ltp", "quote", "full")


@dataclass(eq=False)
class Connection:
    """One ticker client: its session, its {token: mode} and what it was last sent."""

    ws: web.WebSocketResponse
    session: Session
    modes: dict[int, str] = field(default_factory=dict)  # token -> mode
    sent: dict[int, bytes] = field(default_factory=dict)  # token -> market data of the last packet sent (_market_data)
    outbox: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    last_send: float = 0.0


class TickerHub:
    """Every ticker connection of one exchange, and the loop that feeds them."""

    def __init__(self, state: KiteState) -> None:
        self.state = state
        self.connections: set[Connection] = set()
        self._markets: dict[int, Market] = {}
        # (token, mode) -> (the book's exchange.changes when built, packet, its market data): a push rebuilds only the
        # packets of books that changed since (at --flow-rate 14, rebuilding all 259 on every push took 30 ms of each)
        self._built: dict[tuple[int, str], tuple[int, bytes, bytes]] = {}
        self._task: asyncio.Task[None] | None = None
        self._unhooks: list[Any] = []
        self._closing: set[asyncio.Task[bool]] = set()

    async def start(self, app: web.Application) -> None:
        """Index the instruments, start the feed loop, hook order updates and session ends."""
        self._markets = {int(m.instrument.venue_token): m for m in kite_markets(self.state.exchange)}
        self.state.on_sessions_ended.append(self._sessions_ended)
        self._unhooks.append(self.state.orders.add_update_listener(self._order_update))
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self, app: web.Application) -> None:
        """Stop the feed loop and close every connection."""
        if self._sessions_ended in self.state.on_sessions_ended:
            self.state.on_sessions_ended.remove(self._sessions_ended)
        for unhook in self._unhooks:
            unhook()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for conn in list(self.connections):
            await conn.ws.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One ticker connection: check the session, then read commands until it closes."""
        api_key, access_token = request.query.get("api_key", ""), request.query.get("access_token", "")
        session = self.state.ticker_session(api_key, access_token)
        if session is None:
            return json_response({"status": "error", "message": "Invalid `api_key` or `access_token`.", "data": None,
                                  "error_type": "TokenException"}, status=403)
        if sum(c.session.app.api_key == api_key for c in self.connections) >= self.state.max_connections_per_key:
            return json_response({"status": "error", "message": "Maximum allowed connections exceeded.", "data": None,
                                  "error_type": "NetworkException"}, status=429)
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, session)
        self.connections.add(conn)
        writer = asyncio.get_running_loop().create_task(self._write(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._command(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.discard(conn)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        return ws

    # client messages ------------------------------------------------------------------------------------
    def _command(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
            action, value = message["a"], message["v"]
            if action == "mode":
                mode, tokens = value[0], [int(t) for t in value[1]]
                if mode not in MODES:
                    raise ValueError(f"unknown mode {mode!r}")
            else:
                tokens, mode = [int(t) for t in value], "quote"
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            self._text(conn, {"type": "error", "data": f"Invalid message: {exc}"})
            return
        known = [t for t in tokens if t in self._markets]
        if action == "subscribe":
            room = self.state.max_tokens_per_connection - len(conn.modes)
            fresh = [t for t in known if t not in conn.modes]
            if len(fresh) > room:
                self._text(conn, {"type": "error", "data": f"Subscription limit of {self.state.max_tokens_per_connection} "
                                                           f"instruments exceeded; {len(fresh) - max(room, 0)} ignored"})
            for token in fresh[:max(room, 0)]:
                conn.modes[token] = mode
        elif action == "unsubscribe":
            for token in known:
                conn.modes.pop(token, None)
                conn.sent.pop(token, None)
        elif action == "mode":
            for token in known:
                if token in conn.modes:
                    conn.modes[token] = mode
                    conn.sent.pop(token, None)
        else:
            self._text(conn, {"type": "error", "data": f"Unknown action {action!r}"})

    # server messages ------------------------------------------------------------------------------------
    async def _pump(self) -> None:
        """Push every tick_interval_s on a fixed schedule (the work of a push no longer stretches the period; a pump that
        fell behind starts afresh rather than bursting to catch up)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + self.state.tick_interval_s, loop.time())
            await asyncio.sleep(due - loop.time())
            try:
                if self._fault_for_kite("drop_ws"):
                    for conn in list(self.connections):
                        await conn.ws.close(code=1011, message=b"connection dropped")
                    continue
                malformed = self._fault_for_kite("malformed_ws", take=True)
                now = loop.time()
                for conn in list(self.connections):
                    if malformed is not None:
                        conn.outbox.put_nowait(("bytes", _malformed(malformed.get("kind", "length"))))
                    frame = self._frame(conn)
                    if frame is not None:
                        conn.outbox.put_nowait(("bytes", frame))
                    elif now - conn.last_send >= self.state.heartbeat_s:
                        conn.outbox.put_nowait(("bytes", HEARTBEAT))
                    else:
                        continue
                    conn.last_send = now
            except Exception:
                log.exception("kite ticker pump failed; continuing")

    def _frame(self, conn: Connection) -> bytes | None:
        packets = []
        for token, mode in conn.modes.items():
            _, packet, data = self._packet(token, mode)
            if conn.sent.get(token) != data:
                conn.sent[token] = data
                packets.append(packet)
        return encode_frame(packets) if packets else None

    def _packet(self, token: int, mode: str) -> tuple[int, bytes, bytes]:
        """(changes, packet, market data) of a token in a mode, rebuilt only when its book changed."""
        market = self._markets[token]
        changes = self.state.exchange.changes(market.market, market.symbol)
        built = self._built.get((token, mode))
        if built is None or built[0] != changes:
            packet = encode_packet(self._raw(token, mode), mode)
            built = self._built[(token, mode)] = (changes, packet, _market_data(packet))
        return built

    def _raw(self, token: int, mode: str) -> RawTick:
        market = self._markets[token]
        exchange = self.state.exchange
        s, depth = exchange.summary_with_depth(market.market, market.symbol, 5)
        now_s = exchange.now_ns() // 1_000_000_000

        def px(value: Decimal) -> int:
            return scale(value, token)

        if market.instrument.kind is InstrumentKind.INDEX:
            return RawTick(token, px(s.last_price), open=px(s.open), high=px(s.high), low=px(s.low), close=px(s.prev_close),
                           change=px(s.last_price - s.prev_close), exchange_timestamp=now_s)
        bids: tuple[tuple[int, int, int], ...] = ()
        asks: tuple[tuple[int, int, int], ...] = ()
        if mode == "full":
            lot = market.instrument.lot_size
            bids = tuple((int(q), px(p), orders_at(q, lot)) for p, q in depth.bids[:5])
            asks = tuple((int(q), px(p), orders_at(q, lot)) for p, q in depth.asks[:5])
        return RawTick(token, px(s.last_price), int(s.last_quantity), px(s.average_price), int(s.volume),
                       int(s.total_buy_quantity), int(s.total_sell_quantity), px(s.open), px(s.high), px(s.low),
                       px(s.prev_close), s.last_trade_ns // 1_000_000_000, int(s.open_interest), int(s.oi_day_high),
                       int(s.oi_day_low), now_s, bids=bids, asks=asks)

    async def _write(self, conn: Connection) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                kind, data = await conn.outbox.get()
                delay = self._fault_for_kite("delay_ws", take=True)
                if delay is not None:
                    await asyncio.sleep(float(delay.get("seconds", 1.0)))
                if conn.ws.closed:
                    return
                if kind == "bytes":
                    await conn.ws.send_bytes(data)
                else:
                    await conn.ws.send_str(data)

    def _text(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.outbox.put_nowait(("str", dumps(message)))

    def _order_update(self, order: KiteOrder, status: str) -> None:
        for conn in list(self.connections):
            if conn.session.account == order.account:
                app = conn.session.app
                self._text(conn, {"type": "order", "data": postback_json(order, status, app.api_secret, app.app_id)})

    def _sessions_ended(self, tokens: set[str]) -> None:
        for conn in list(self.connections):
            if conn.session.access_token in tokens:
                self._text(conn, {"type": "error", "data": "Session expired. Please log in again."})
                task = asyncio.get_running_loop().create_task(conn.ws.close(code=1000, message=b"session expired"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    def _fault_for_kite(self, name: str, take: bool = False) -> dict[str, Any] | None:
        params = self.state.faults.active(name)
        if params is None or params.get("stream", "kite") not in ("kite", "all"):
            return None
        if name == "drop_ws":
            return self.state.faults.take_once(name, "kite")
        return self.state.faults.take(name) if take else params


def _market_data(packet: bytes) -> bytes:
    """A packet without its exchange_timestamp (full tradable: bytes 60-63; full index: 28-31), for the change test."""
    if len(packet) == 184:
        return packet[:60] + packet[64:]
    return packet[:28] if len(packet) == 32 else packet


def _malformed(kind: str) -> bytes:
    """A message that breaks the framing: a 50-byte packet (no such layout), or a truncated full packet."""
    if kind == "truncated":
        return struct.pack(">HH", 1, 184) + b"\x00" * 60
    return struct.pack(">HH", 1, 50) + struct.pack(">Ii", 408065, 157315) + b"\x00" * 42
