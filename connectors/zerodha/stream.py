"""The Kite Ticker connection (kite.md C15), kept alive.

- Subscriptions are remembered as {token: mode} and sent as subscribe then mode messages in batches
  of batch_size tokens; at most max_tokens per connection (ValidationError beyond).
- A connection silent for dead_after_s (not even a heartbeat: a half-open socket) is aborted; no
  market data for stale_after_s while subscribed publishes STALE, and CONNECTED again when data flows.
- A lost connection is reopened with capped exponential backoff and jitter; every token is subscribed
  again in its mode and on_connected runs (the client re-fetches the order book). After max_retries
  failures in a row it gives up: FAILED is published and it waits for resume().
- A 403 at the handshake means the session is gone: FAILED "login required", on_auth_failed, and it
  waits for resume() (after a new login) instead of hammering the server. A connection counts as
  a success (the failure count starts again) once a message has arrived on it.
Binary messages go to on_ticks(records, received_ns); a malformed one is logged and dropped whole.
Text messages: "order" to on_order(data); "error" and "message" are logged.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.asyncio.client import ClientConnection, connect

from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus, Venue
from core.errors import ValidationError
from core.order_priority import ORDER_PRIORITY, OrderPriority

from .ticker import KiteTick, MalformedFrame, parse_frame

log = logging.getLogger(__name__)
CHANNEL = "ticker"
MODES = ("ltp", "quote", "full")
TICK_SLICE = 32  # packets handed on per event-loop step (about 2 ms of work)


class KiteTickerStream:
    """One self-healing ticker connection. start() once, close() at the end."""

    def __init__(self, url: str, api_key: str, bus: EventBus, *, access_token: Callable[[], str | None],
                 on_ticks: Callable[[list[KiteTick], int], None], on_order: Callable[[dict[str, Any]], None],
                 on_connected: Callable[[], Awaitable[None]] | None = None, on_auth_failed: Callable[[], None] | None = None,
                 stale_after_s: float = 2.0, dead_after_s: float = 5.0, backoff_s: float = 1.0, backoff_max_s: float = 60.0,
                 max_retries: int = 50, batch_size: int = 500, max_tokens: int = 3000, open_timeout_s: float = 7.0,
                 priority: OrderPriority = ORDER_PRIORITY) -> None:
        self.url = url.rstrip("/")
        self._priority = priority
        self.api_key = api_key
        self._bus = bus
        self._access_token = access_token
        self._on_ticks = on_ticks
        self._on_order = on_order
        self._on_connected = on_connected
        self._on_auth_failed = on_auth_failed
        self.stale_after_s, self.dead_after_s = stale_after_s, dead_after_s
        self.backoff_s, self.backoff_max_s, self.max_retries = backoff_s, backoff_max_s, max_retries
        self.batch_size, self.max_tokens, self.open_timeout_s = batch_size, max_tokens, open_timeout_s
        self.modes: dict[int, str] = {}
        self.status = ConnectionStatus.DISCONNECTED
        self.connects = 0
        self.malformed_frames = 0
        self._ws: ClientConnection | None = None
        self._last_rx = 0.0
        self._last_data = 0.0
        self._heard = False  # the current connection has received something
        self._resume = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._closing = False
        self._send_lock = asyncio.Lock()

    # life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start connecting (in the background) and watching for silence."""
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._run()), loop.create_task(self._watch())]

    def resume(self) -> None:
        """Try again after giving up or after a login (a new access token)."""
        self._resume.set()

    async def close(self) -> None:
        """Close the connection and stop reconnecting."""
        self._closing = True
        self._resume.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 1.0)
        for task in (*self._tasks, *self._background):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        self._tasks = []
        self._set(ConnectionStatus.DISCONNECTED, "closed")

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # subscriptions --------------------------------------------------------------------------------------
    async def subscribe(self, tokens: Iterable[int], mode: str = "quote") -> None:
        """Stream tokens in a mode (ltp, quote, full); already subscribed tokens change mode."""
        if mode not in MODES:
            raise ValidationError(f"Kite ticker mode {mode!r} is not one of {', '.join(MODES)}")
        wanted = [t for t in dict.fromkeys(tokens)]
        fresh = [t for t in wanted if t not in self.modes]
        if len(self.modes) + len(fresh) > self.max_tokens:
            raise ValidationError(f"a Kite ticker connection carries at most {self.max_tokens} instruments "
                                  f"({len(self.modes)} subscribed, {len(fresh)} more asked)")
        for token in wanted:
            self.modes[token] = mode
        await self._send_subscriptions(fresh, {mode: wanted})

    async def unsubscribe(self, tokens: Iterable[int]) -> None:
        """Stop streaming tokens."""
        gone = [t for t in tokens if self.modes.pop(t, None) is not None]
        ws = self._ws
        if ws is not None and gone:
            await self._send_batches(ws, "unsubscribe", gone)

    async def _send_subscriptions(self, fresh: list[int], by_mode: dict[str, list[int]]) -> None:
        ws = self._ws
        if ws is None:
            return  # sent on (re)connect
        if fresh:
            await self._send_batches(ws, "subscribe", fresh)
        for mode, tokens in by_mode.items():
            if tokens:
                await self._send_batches(ws, "mode", tokens, mode)

    async def _send_batches(self, ws: ClientConnection, action: str, tokens: list[int], mode: str | None = None) -> None:
        async with self._send_lock:
            for i in range(0, len(tokens), self.batch_size):
                batch = tokens[i:i + self.batch_size]
                value: Any = [mode, batch] if mode is not None else batch
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(json.dumps({"a": action, "v": value}))

    async def _resubscribe(self, ws: ClientConnection) -> None:
        tokens = list(self.modes)
        if not tokens:
            return
        await self._send_batches(ws, "subscribe", tokens)
        by_mode: dict[str, list[int]] = {}
        for token, mode in self.modes.items():
            by_mode.setdefault(mode, []).append(token)
        for mode, group in by_mode.items():
            await self._send_batches(ws, "mode", group, mode)

    # connection -----------------------------------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        while not self._closing:
            token = self._access_token()
            if not token:
                await self._wait_for_resume(ConnectionStatus.FAILED, "login required")
                continue
            self._set(ConnectionStatus.CONNECTING if self.connects == 0 else ConnectionStatus.RECONNECTING,
                      f"attempt {failures + 1}" if failures else "")
            self._heard = False
            try:
                async with connect(f"{self.url}?{urlencode({'api_key': self.api_key, 'access_token': token})}",
                                   additional_headers={"X-Kite-Version": "3"}, open_timeout=self.open_timeout_s,
                                   ping_interval=None, max_size=None, compression=None) as ws:
                    await self._serve(ws)
            except websockets.InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    log.warning("Kite ticker refused the session (HTTP %s): login required", exc.response.status_code)
                    if self._on_auth_failed is not None:
                        self._on_auth_failed()
                    await self._wait_for_resume(ConnectionStatus.FAILED, "login required")
                    continue
                log.warning("Kite ticker handshake refused: HTTP %s", exc.response.status_code)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                log.info("Kite ticker connection lost: %s", type(exc).__name__)
            finally:
                self._ws = None
            if self._closing:
                return
            if self._heard:
                failures = 0  # that connection worked: start the count again
            failures += 1
            if failures > self.max_retries:
                log.error("Kite ticker: giving up after %d reconnection attempts", self.max_retries)
                await self._wait_for_resume(ConnectionStatus.FAILED, f"gave up after {self.max_retries} reconnection attempts")
                failures = 0
                continue
            self._set(ConnectionStatus.RECONNECTING, f"retry {failures} of {self.max_retries}")
            await asyncio.sleep(self._backoff(failures))

    async def _serve(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.connects += 1
        self._last_rx = self._last_data = time.monotonic()
        self._set(ConnectionStatus.CONNECTED, "")
        await self._resubscribe(ws)
        if self._on_connected is not None:
            task = asyncio.get_running_loop().create_task(self._after_connect())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        async for message in ws:
            if self._priority.active():
                await self._priority.wait()  # an order on its way to the wire goes first
            now = time.monotonic()
            self._last_rx = now
            self._heard = True
            if isinstance(message, bytes):
                await self._binary(message, now)
            else:
                self._text(message)

    async def _after_connect(self) -> None:
        assert self._on_connected is not None
        try:
            await self._on_connected()
        except Exception:
            log.exception("Kite ticker: the on-connect refresh failed")

    async def _binary(self, payload: bytes, now: float) -> None:
        """Hand a frame's ticks on in slices of TICK_SLICE: a whole option chain in one frame (hundreds of
        packets) would otherwise hold the event loop for tens of milliseconds, and the UI with it."""
        try:
            records = parse_frame(payload)
        except MalformedFrame as exc:
            self.malformed_frames += 1
            log.warning("Kite ticker: dropped a malformed binary message of %d bytes (%s)", len(payload), exc)
            return
        if not records:
            return
        self._last_data = now
        if self.status is ConnectionStatus.STALE:
            self._set(ConnectionStatus.CONNECTED, "data flowing again")
        received_ns = time.time_ns()
        for start in range(0, len(records), TICK_SLICE):
            if start:
                await asyncio.sleep(0)
            self._on_ticks(records[start:start + TICK_SLICE], received_ns)

    def _text(self, message: str) -> None:
        try:
            data = json.loads(message)
            kind = data.get("type")
        except (ValueError, AttributeError):
            log.warning("Kite ticker: unreadable text message (%d chars)", len(message))
            return
        if kind == "order" and isinstance(data.get("data"), dict):
            self._on_order(data["data"])
        elif kind == "error":
            log.warning("Kite ticker error: %s", data.get("data"))
        elif kind == "message":
            log.info("Kite ticker message: %s", data.get("data"))

    async def _watch(self) -> None:
        """Abort a connection silent past dead_after_s; flag STALE after stale_after_s without data."""
        interval = max(0.05, min(self.stale_after_s, self.dead_after_s) / 4)
        while True:
            await asyncio.sleep(interval)
            ws = self._ws
            if ws is None:
                continue
            now = time.monotonic()
            if now - self._last_rx > self.dead_after_s:
                log.warning("Kite ticker silent for %.1f s: treating the connection as dead", now - self._last_rx)
                ws.transport.abort()
                continue
            if self.modes and self.status is ConnectionStatus.CONNECTED and now - self._last_data > self.stale_after_s:
                self._set(ConnectionStatus.STALE, f"no market data for {now - self._last_data:.1f} s")

    async def _wait_for_resume(self, status: ConnectionStatus, detail: str) -> None:
        self._set(status, detail)
        self._resume.clear()
        await self._resume.wait()

    def _backoff(self, failures: int) -> float:
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1))
        return delay * random.uniform(0.8, 1.0)

    def _set(self, status: ConnectionStatus, detail: str) -> None:
        if status is self.status and status is not ConnectionStatus.RECONNECTING:
            return
        self.status = status
        self._bus.publish(ConnectionChanged(Venue.ZERODHA, CHANNEL, status, detail))
