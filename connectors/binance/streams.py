"""One combined-stream websocket to Binance, kept alive (binance.md A10, B1).

- Streams are added and removed at run time with SUBSCRIBE/UNSUBSCRIBE, several names per message,
  paced under the incoming-message limit (5/s spot, 10/s futures) with one message a second left for
  pings and pongs, which count too.
- A dropped connection is reopened with exponential backoff and jitter, with every stream wanted;
  the connection is also renewed before Binance's 24-hour cut.
- A feed silent for stale_after_s (while streams are subscribed) is published as STALE, and as
  CONNECTED again when data flows.
Frames go to on_frame(text) as they arrive; control answers are consumed here.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable

import websockets
from websockets.asyncio.client import ClientConnection

from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus, Venue
from core.order_priority import ORDER_PRIORITY, OrderPriority

log = logging.getLogger(__name__)

MAX_PARAMS_PER_MESSAGE = 100
MAX_URL_STREAMS = 50


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with jitter: half the capped delay fixed, half random."""
    delay = min(cap_s, base_s * 2 ** attempt)
    return delay / 2 + random.uniform(0, delay / 2)


class MarketStream:
    """A self-healing combined stream connection. start() once; close() at the end."""

    def __init__(self, base_url: str, venue: Venue, bus: EventBus, on_frame: Callable[[str], None], *,
                 channel: str = "market", max_messages_per_s: int = 5, stale_after_s: float = 1.5,
                 max_age_s: float = 23.5 * 3600, backoff_s: float = 0.25, backoff_max_s: float = 30.0,
                 on_connect: Callable[[], Awaitable[None]] | None = None,
                 on_disconnect: Callable[[], None] | None = None, priority: OrderPriority = ORDER_PRIORITY) -> None:
        self.base_url = base_url.rstrip("/")
        self._priority = priority
        self.venue = venue
        self.channel = channel
        self._bus = bus
        self._on_frame = on_frame
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self.send_interval_s = 1.0 / max(1, max_messages_per_s - 1)
        self.stale_after_s = stale_after_s
        self.max_age_s = max_age_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.wanted: set[str] = set()
        self.status = ConnectionStatus.DISCONNECTED
        self.connects = 0
        self._live: set[str] = set()
        self._ws: ClientConnection | None = None
        self._last_rx = 0.0
        self._last_tx = 0.0
        self._send_lock = asyncio.Lock()
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._connected_at = 0.0
        self.up = asyncio.Event()  # set while connected

    # life cycle

    def start(self) -> None:
        """Start connecting (in the background) and watching for silence."""
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._run()), loop.create_task(self._watch())]

    async def close(self) -> None:
        """Close the connection and stop reconnecting. Never raises."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._set_status(ConnectionStatus.DISCONNECTED)

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # subscriptions

    async def subscribe(self, names: list[str]) -> None:
        """Add streams (idempotent); sent now if connected, else on connect."""
        new = [n for n in names if n not in self.wanted]
        self.wanted.update(new)
        await self._control("SUBSCRIBE", [n for n in new if n not in self._live])

    async def unsubscribe(self, names: list[str]) -> None:
        """Remove streams (idempotent)."""
        gone = [n for n in names if n in self.wanted]
        self.wanted.difference_update(gone)
        await self._control("UNSUBSCRIBE", [n for n in gone if n in self._live])

    async def _control(self, method: str, names: list[str]) -> None:
        ws = self._ws
        if ws is None or not names:
            return
        for i in range(0, len(names), MAX_PARAMS_PER_MESSAGE):
            chunk = names[i:i + MAX_PARAMS_PER_MESSAGE]
            try:
                await self._request(ws, method, chunk)
            except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError) as exc:
                log.info("%s %s: %s; it is applied on reconnect", method, ",".join(chunk[:3]), type(exc).__name__)
                return
            except RuntimeError as exc:
                log.warning("%s refused: %s", method, exc)
                continue
            if method == "SUBSCRIBE":
                self._live.update(chunk)
            else:
                self._live.difference_update(chunk)

    async def _request(self, ws: ClientConnection, method: str, params: list[str], timeout: float = 5.0) -> object:
        async with self._send_lock:
            wait = self._last_tx + self.send_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            req_id = self._next_id
            self._next_id += 1
            future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            self._pending[req_id] = future
            self._last_tx = time.monotonic()
            await ws.send(json.dumps({"method": method, "params": params, "id": req_id}))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(req_id, None)

    # the connection

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            self._set_status(ConnectionStatus.CONNECTING if self.connects == 0 else ConnectionStatus.RECONNECTING)
            initial = sorted(self.wanted)[:MAX_URL_STREAMS]
            url = f"{self.base_url}/stream" + (f"?streams={'/'.join(initial)}" if initial else "")
            try:
                async with websockets.connect(url, ping_interval=20, ping_timeout=60, open_timeout=10,
                                              close_timeout=2, max_size=2**24, max_queue=4096) as ws:
                    attempt = 0
                    self.connects += 1
                    self._ws, self._live = ws, set(initial)
                    self._connected_at = self._last_rx = time.monotonic()
                    self._set_status(ConnectionStatus.CONNECTED)
                    self.up.set()
                    reader = asyncio.get_running_loop().create_task(self._read(ws))
                    try:
                        await self._control("SUBSCRIBE", sorted(self.wanted - self._live))
                        if self._on_connect is not None:
                            await self._on_connect()
                        await reader
                    finally:
                        reader.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await reader
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as exc:
                log.info("Binance %s stream: %s", self.channel, exc.__class__.__name__)
            finally:
                self._ws = None
                self.up.clear()
                self._live = set()
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(websockets.ConnectionClosed(None, None))
                if self._on_disconnect is not None:
                    self._on_disconnect()
            if self._closing:
                break
            self._set_status(ConnectionStatus.RECONNECTING)
            await asyncio.sleep(backoff_delay(attempt, self.backoff_s, self.backoff_max_s))
            attempt += 1

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                if self._priority.active():
                    await self._priority.wait()  # an order on its way to the wire goes first
                self._last_rx = time.monotonic()
                if self.status is ConnectionStatus.STALE:
                    self._set_status(ConnectionStatus.CONNECTED, "data flowing again")
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                if text.startswith('{"stream"'):
                    self._deliver(text)
                else:
                    self._answer(text)
                # Yield after each frame: frames already buffered are otherwise all handled in one loop step,
                # and an order sent from a handler (its task) waited behind up to 9 of them (0.5 ms).
                await asyncio.sleep(0)

    def _deliver(self, text: str) -> None:
        try:
            self._on_frame(text)
        except Exception:
            log.exception("Binance %s frame handler failed; frame skipped", self.channel)

    def _answer(self, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            log.warning("Binance %s stream: malformed frame skipped (%d bytes)", self.channel, len(text))
            return
        if not isinstance(msg, dict) or not ("result" in msg or "code" in msg):
            self._deliver(text)  # a raw (unwrapped) payload
            return
        future = self._pending.get(msg.get("id")) if isinstance(msg.get("id"), int) else None
        if future is None or future.done():
            if "code" in msg:
                log.warning("Binance %s stream error: %s", self.channel, msg.get("msg"))
            return
        if "code" in msg:
            future.set_exception(RuntimeError(f"code {msg.get('code')}: {msg.get('msg')}"))
        else:
            future.set_result(msg.get("result"))

    async def _watch(self) -> None:
        """Flag silence as STALE, and renew the connection before the 24-hour cut."""
        while not self._closing:
            await asyncio.sleep(0.25)
            ws = self._ws
            if ws is None:
                continue
            now = time.monotonic()
            if now - self._connected_at > self.max_age_s:
                log.info("Binance %s stream: renewing the connection before the 24 h limit", self.channel)
                with contextlib.suppress(Exception):
                    await ws.close()
                continue
            silent = now - self._last_rx
            if self._live and silent > self.stale_after_s and self.status is ConnectionStatus.CONNECTED:
                self._set_status(ConnectionStatus.STALE, f"no data for {silent:.1f} s")

    def _set_status(self, status: ConnectionStatus, detail: str = "") -> None:
        if status is self.status:
            return
        self.status = status
        self._bus.publish(ConnectionChanged(self.venue, self.channel, status, detail))
