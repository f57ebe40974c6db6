"""The engine channel: how the console kernel and the strategy host (child processes) reach the engine.

A websocket server on 127.0.0.1 with a random per-run token. A client's first message must be
{"op": "hello", "token": ..., "role": "console" | "strategy-host"}; anything else closes the socket.
Requests are {"id": n, "op": name, "args": {...}} and get {"id": n, "ok": true, "result": ...} or
{"id": n, "ok": false, "error": "..."}; pushed events are {"event": kind, "data": ...}. Domain objects
travel through core.domain.wire (exact decimals).

Orders from the channel go through the same OrderEntry as a click (so risk checks and rate limits
apply); their source is "console" or "strategy:<id>". A strategy host must heartbeat at least every
`heartbeat_timeout` seconds: one missed heartbeat revokes its right to send orders for the rest of its
session (cancels still pass), and the terminal is told so it can kill and restart the host.
Nothing secret is reachable through this channel: there is no operation that returns credentials.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve

from core.bus import EventBus
from core.domain import BarEvent, FillEvent, InstrumentId, OrderRequest, OrderUpdated, Tick
from core.domain.wire import decode, encode
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from widgets.order_entry import OrderEntry

log = logging.getLogger(__name__)
ROLES = ("console", "strategy-host")


@dataclass(eq=False)
class Session:
    connection: ServerConnection
    role: str
    name: str
    last_heartbeat: float = field(default_factory=time.monotonic)
    revoked: str = ""
    subscriptions: set[InstrumentId] = field(default_factory=set)
    all_orders: bool = True


class ChannelError(Exception):
    """A request the channel refuses (bad op, bad arguments, revoked)."""


class EngineChannel:
    def __init__(self, bus: EventBus, market: MarketState, catalog: InstrumentCatalog, entry: OrderEntry,
                 positions: Callable[[], list[Any]] = list, heartbeat_timeout: float = 3.0) -> None:
        self.bus = bus
        self.market = market
        self.catalog = catalog
        self.entry = entry
        self.positions = positions
        self.heartbeat_timeout = heartbeat_timeout
        self.token = secrets.token_urlsafe(32)
        self.sessions: list[Session] = []
        self.on_revoked: Callable[[Session], None] | None = None
        self.on_host_message: Callable[[Session, dict[str, Any]], None] | None = None
        self._server: Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.url = ""
        self._subs = [bus.subscribe(Tick, self._push_market), bus.subscribe(BarEvent, self._push_market),
                      bus.subscribe(OrderUpdated, self._push_order), bus.subscribe(FillEvent, self._push_fill)]

    async def start(self, host: str = "127.0.0.1") -> str:
        """Start serving on an ephemeral loopback port; return the ws:// URL."""
        self._server = await serve(self._handle, host, 0, max_size=2**22)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://{host}:{port}"
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        return self.url

    async def stop(self) -> None:
        for sub in self._subs:
            sub.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def host_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.role == "strategy-host"]

    async def send_to_hosts(self, message: dict[str, Any]) -> int:
        """Send a command to every connected strategy host; return how many got it."""
        sent = 0
        for session in self.host_sessions():
            try:
                await session.connection.send(json.dumps(message))
                sent += 1
            except websockets.ConnectionClosed:
                pass
        return sent

    # connection ------------------------------------------------------------------------------------
    async def _handle(self, connection: ServerConnection) -> None:
        try:
            hello = json.loads(await asyncio.wait_for(connection.recv(), 5.0))
        except (asyncio.TimeoutError, ValueError, websockets.ConnectionClosed):
            await connection.close(4001, "hello expected")
            return
        token = str(hello.get("token", "")) if isinstance(hello, dict) else ""
        role = hello.get("role") if isinstance(hello, dict) else None
        if hello.get("op") != "hello" or role not in ROLES or not hmac.compare_digest(token, self.token):
            log.warning("engine channel: refused a connection (bad hello)")
            await connection.close(4003, "forbidden")
            return
        session = Session(connection, role, str(hello.get("name", role))[:40])
        self.sessions.append(session)
        log.info("engine channel: %s %r connected", role, session.name)
        await connection.send(json.dumps({"id": hello.get("id", 0), "ok": True, "result": {"role": role}}))
        try:
            async for raw in connection:
                await self._on_message(session, raw)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.sessions.remove(session)
            log.info("engine channel: %s %r disconnected", role, session.name)

    async def _on_message(self, session: Session, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            if not isinstance(message, dict):
                raise ValueError("not an object")
        except ValueError:
            await session.connection.send(json.dumps({"id": None, "ok": False, "error": "malformed message"}))
            return
        if "op" not in message:  # a strategy host's report (state, metrics, log lines)
            if self.on_host_message is not None and session.role == "strategy-host":
                self.on_host_message(session, message)
            return
        reply: dict[str, Any] = {"id": message.get("id")}
        try:
            result = await self._dispatch(session, str(message["op"]), message.get("args") or {})
            reply.update(ok=True, result=encode(result))
        except Exception as exc:  # every failure goes back to the caller as text; the engine keeps running
            reply.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        await session.connection.send(json.dumps(reply))

    # operations --------------------------------------------------------------------------------------
    async def _dispatch(self, session: Session, op: str, args: dict[str, Any]) -> Any:
        handler: Callable[[Session, dict[str, Any]], Awaitable[Any]] | None = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise ChannelError(f"unknown operation {op!r}")
        return await handler(session, args)

    async def _op_heartbeat(self, session: Session, args: dict[str, Any]) -> Any:
        session.last_heartbeat = time.monotonic()
        return {"revoked": session.revoked}

    async def _op_search(self, session: Session, args: dict[str, Any]) -> Any:
        return self.catalog.search(str(args.get("query", "")), int(args.get("limit", 20)))

    async def _op_instrument(self, session: Session, args: dict[str, Any]) -> Any:
        return self.catalog.get(InstrumentId.parse(args["instrument_id"]))

    async def _op_derivatives(self, session: Session, args: dict[str, Any]) -> Any:
        name = str(args["underlying"])
        return [i for i in self.catalog if i.underlying == name and i.kind.value in ("future", "option")]

    async def _op_quote(self, session: Session, args: dict[str, Any]) -> Any:
        iid = InstrumentId.parse(args["instrument_id"])
        return {"tick": self.market.ticks.get(iid), "last_price": self.market.last_price(iid), "stale": self.market.is_stale(iid)}

    async def _op_book(self, session: Session, args: dict[str, Any]) -> Any:
        view = self.market.book(InstrumentId.parse(args["instrument_id"])).view(int(args.get("depth", 10)))
        return {"bids": view.bids, "asks": view.asks, "update_id": view.update_id}

    async def _op_orders(self, session: Session, args: dict[str, Any]) -> Any:
        iid = InstrumentId.parse(args["instrument_id"]) if args.get("instrument_id") else None
        return self.entry.working_orders(iid)

    async def _op_positions(self, session: Session, args: dict[str, Any]) -> Any:
        return self.positions()

    async def _op_subscribe(self, session: Session, args: dict[str, Any]) -> Any:
        session.subscriptions |= {InstrumentId.parse(s) for s in args.get("instruments", [])}
        return sorted(str(i) for i in session.subscriptions)

    async def _op_place(self, session: Session, args: dict[str, Any]) -> Any:
        self._check_allowed(session)
        request = decode(args["request"])
        if not isinstance(request, OrderRequest):
            raise ChannelError("place needs an OrderRequest")
        source = "console" if session.role == "console" else f"strategy:{str(args.get('strategy_id', 'unknown'))[:24]}"
        request = OrderRequest(**{**{f: getattr(request, f) for f in request.__dataclass_fields__}, "source": source})
        return await self.entry.place(request)

    async def _op_modify(self, session: Session, args: dict[str, Any]) -> Any:
        self._check_allowed(session)
        return await self.entry.modify(str(args["client_order_id"]), price=_dec(args.get("price")),
                                       quantity=_dec(args.get("quantity")), trigger_price=_dec(args.get("trigger_price")))

    async def _op_cancel(self, session: Session, args: dict[str, Any]) -> Any:
        return await self.entry.cancel(str(args["client_order_id"]))

    async def _op_cancel_all(self, session: Session, args: dict[str, Any]) -> Any:
        iid = InstrumentId.parse(args["instrument_id"]) if args.get("instrument_id") else None
        # a console cancels anything; a strategy host only strategy orders (one strategy's if it names it)
        prefix = "" if session.role == "console" else f"strategy:{args['strategy_id']}" if args.get("strategy_id") else "strategy:"
        cancelled = 0
        for order in self.entry.working_orders(iid):
            if order.request.source.startswith(prefix) and (not args.get("strategy_id") or order.request.source == prefix):
                await self.entry.cancel(order.client_order_id)
                cancelled += 1
        return cancelled

    def _check_allowed(self, session: Session) -> None:
        if session.revoked:
            raise ChannelError(f"trading revoked: {session.revoked}")

    # watchdog and pushes -------------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(0.5, self.heartbeat_timeout / 3))
            now = time.monotonic()
            for session in self.host_sessions():
                silent = now - session.last_heartbeat
                if not session.revoked and silent > self.heartbeat_timeout:
                    session.revoked = f"strategy host missed its heartbeat ({silent:.1f} s silent)"
                    log.error("engine channel: %s; its orders are blocked", session.revoked)
                    if self.on_revoked is not None:
                        self.on_revoked(session)

    def _push_market(self, event: Tick | BarEvent) -> None:
        for session in self.sessions:
            if event.instrument_id in session.subscriptions:
                self._send_nowait(session, "tick" if isinstance(event, Tick) else "bar", event)

    def _push_order(self, event: OrderUpdated) -> None:
        for session in self.sessions:
            self._send_nowait(session, "order", event.order)

    def _push_fill(self, event: FillEvent) -> None:
        for session in self.sessions:
            self._send_nowait(session, "fill", event.fill)

    def _send_nowait(self, session: Session, kind: str, data: Any) -> None:
        """Push an event from a task that also encodes it: the bus handler (on an order's path) stays cheap."""
        async def push() -> None:
            await session.connection.send(json.dumps({"event": kind, "data": encode(data)}))

        task = asyncio.get_running_loop().create_task(push())
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
