"""One server-side websocket with Binance's behaviour: a bounded send queue drained by a writer task
that applies the websocket faults, incoming-message rate limiting (pings and pongs count), and the
24-hour connection lifetime.

Faults applied on the way out: delay_ws (each frame waits params["seconds"] while armed),
duplicate_ws (the frame is sent twice), reorder_ws (the frame is held and sent after the next one, or
after HOLD_S if none follows),
malformed_ws (a broken frame goes out first; the real frame follows).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from ..faults import Faults

log = logging.getLogger(__name__)

MAX_QUEUE = 20_000
LIFETIME_S = 24 * 3600.0
HOLD_S = 0.3


class WsConnection:
    """A websocket plus its writer task. Call start(), then feed send(); close() ends both."""

    def __init__(self, ws: web.WebSocketResponse, faults: Faults, max_incoming_per_s: int, market_faults: bool = True) -> None:
        self.ws = ws
        self._faults = faults
        self._market_faults = market_faults
        self.max_incoming_per_s = max_incoming_per_s
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._incoming: deque[float] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._held: str | None = None
        self.opened = time.monotonic()
        self.closed = False

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, frame: str) -> None:
        """Queue a text frame; a client too slow to keep up is disconnected."""
        if self.closed:
            return
        if self._queue.qsize() >= MAX_QUEUE:
            log.warning("websocket client too slow (%d frames queued); disconnecting", self._queue.qsize())
            self.close_soon()
            return
        self._queue.put_nowait(frame)

    def count_incoming(self) -> bool:
        """Count one incoming message; False when the per-second limit is exceeded (the caller disconnects)."""
        now = time.monotonic()
        self._incoming.append(now)
        while self._incoming and now - self._incoming[0] > 1.0:
            self._incoming.popleft()
        return len(self._incoming) <= self.max_incoming_per_s

    def expired(self) -> bool:
        return time.monotonic() - self.opened > LIFETIME_S

    def close_soon(self) -> None:
        """Stop sending and close the socket from the writer task."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def close(self) -> None:
        self.close_soon()
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), 1.0)
            self._writer.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _write(self) -> None:
        try:
            while True:
                if self._held is None:
                    frame = await self._queue.get()
                else:  # a held (reordered) frame goes out after the next one, or alone if none comes soon
                    try:
                        frame = await asyncio.wait_for(self._queue.get(), HOLD_S)
                    except asyncio.TimeoutError:
                        held, self._held = self._held, None
                        await self.ws.send_str(held)
                        continue
                if frame is None:
                    break
                await self._emit(frame)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _emit(self, frame: str) -> None:
        faults = self._faults
        if self._market_faults:
            delay = faults.active("delay_ws")
            if delay:
                await asyncio.sleep(float(delay.get("seconds", 0.5)))
            if faults.take("malformed_ws") is not None:
                await self.ws.send_str(frame[: max(1, len(frame) // 2)])
            if self._held is None and faults.take("reorder_ws") is not None:
                self._held = frame
                return
        await self.ws.send_str(frame)
        if self._market_faults and faults.take("duplicate_ws") is not None:
            await self.ws.send_str(frame)
        if self._held is not None:
            held, self._held = self._held, None
            await self.ws.send_str(held)


async def read_loop(conn: WsConnection, on_text: Callable[[str], Awaitable[None]]) -> None:
    """Read client frames until the socket closes; enforce the incoming rate and answer pings."""
    ws = conn.ws
    async for msg in ws:
        if not conn.count_incoming():
            log.info("websocket client sent more than %d messages/s; disconnecting", conn.max_incoming_per_s)
            await ws.close(code=1008, message=b"Too many requests")
            break
        if msg.type == WSMsgType.TEXT:
            await on_text(msg.data)
        elif msg.type == WSMsgType.PING:
            await ws.pong(msg.data)
        elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break
        if conn.expired():
            await ws.close(code=1000, message=b"24h lifetime")
            break
