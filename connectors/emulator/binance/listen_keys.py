"""USD-M user data: listenKeys (POST/PUT/DELETE /fapi/v1/listenKey) and their websockets at
/ws/<listenKey> and /private/ws?listenKey=<key> (binance.md B2).

POST returns the account's active key (creating one) and extends it to 60 minutes; PUT extends it
(-1125 if it is gone); DELETE closes it. A key not kept alive expires: its sockets get
listenKeyExpired and are closed.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import BinanceError
from .rest_common import Req
from .state import ServerState
from .userdata import UserHub
from .wsconn import WsConnection, read_loop

VALIDITY_S = 3600.0


@dataclass
class _Key:
    account: str
    expires: float
    sockets: set[WsConnection] = field(default_factory=set)


class ListenKeys:
    """The listenKeys of one futures server and their sockets."""

    def __init__(self, state: ServerState, hub: UserHub, validity_s: float = VALIDITY_S) -> None:
        self.state = state
        self.hub = hub
        self.validity_s = validity_s
        self._keys: dict[str, _Key] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self, app: web.Application) -> None:
        self._task = asyncio.get_running_loop().create_task(self._expire_loop())

    async def stop(self, app: web.Application) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for key in self._keys.values():
            for conn in list(key.sockets):
                await conn.close()

    def is_key(self, text: str) -> bool:
        return text in self._keys

    # REST

    def create(self, state: ServerState, req: Req) -> dict[str, Any]:
        """POST /fapi/v1/listenKey."""
        for name, key in self._keys.items():
            if key.account == req.account:
                key.expires = time.monotonic() + self.validity_s
                return {"listenKey": name}
        name = secrets.token_urlsafe(48).replace("-", "a").replace("_", "b")[:64]
        self._keys[name] = _Key(req.account, time.monotonic() + self.validity_s)
        return {"listenKey": name}

    def keepalive(self, state: ServerState, req: Req) -> dict[str, Any]:
        """PUT /fapi/v1/listenKey."""
        key = self._own(req)
        key.expires = time.monotonic() + self.validity_s
        return {}

    def delete(self, state: ServerState, req: Req) -> dict[str, Any]:
        """DELETE /fapi/v1/listenKey."""
        key = self._own(req)
        name = next(n for n, k in self._keys.items() if k is key)
        self._close(name, expired=False)
        return {}

    def _own(self, req: Req) -> _Key:
        name = req.params.get("listenKey")
        key = self._keys.get(name) if name else next((k for k in self._keys.values() if k.account == req.account), None)
        if key is None or key.account != req.account:
            raise BinanceError(-1125, "This listenKey does not exist.")
        return key

    # websocket

    async def handle(self, request: web.Request, name: str) -> web.WebSocketResponse:
        """Serve the user data stream of one listenKey."""
        ws = web.WebSocketResponse(heartbeat=180.0, autoping=False)
        await ws.prepare(request)
        key = self._keys.get(name)
        if key is None:
            await ws.close(code=1008, message=b"Invalid listenKey")
            return ws
        conn = WsConnection(ws, self.state.faults, 10, market_faults=False)
        conn.start()
        key.sockets.add(conn)
        remove = self.hub.add_sink(key.account, lambda event: conn.send(json.dumps(event, separators=(",", ":"))))
        try:
            await read_loop(conn, _ignore)
        finally:
            remove()
            key.sockets.discard(conn)
            await conn.close()
        return ws

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for name in [n for n, k in self._keys.items() if k.expires < now]:
                self._close(name, expired=True)

    def _close(self, name: str, expired: bool) -> None:
        key = self._keys.pop(name)
        for conn in list(key.sockets):
            if expired:
                conn.send(json.dumps({"e": "listenKeyExpired", "E": self.state.server_ms(), "listenKey": name}))
            conn.close_soon()


async def _ignore(text: str) -> None:
    """Clients have nothing to say on a user data stream."""
