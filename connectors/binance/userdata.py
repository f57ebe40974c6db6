"""User data streams: order updates, fills and balances, pushed by Binance (binance.md A12, B2).

Spot: the WS API. An Ed25519 key logs the session on (session.logon) and subscribes
(userDataStream.subscribe); any other key uses userDataStream.subscribe.signature. Events arrive as
{"subscriptionId", "event"}. USD-M: a listenKey from POST /fapi/v1/listenKey, kept alive with PUT
every keepalive_s, and a websocket on /private/ws?listenKey=... (or /ws/<key> unrouted).
Both reconnect with backoff and publish ConnectionChanged on the "user" channel. The listenKey is a
credential of sorts: it is never logged.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus, Venue
from core.errors import AuthError, ShrivenQuantError

from .config import BinanceCredentials
from .rest import BinanceRest
from .signing import ws_api_payload
from .streams import backoff_delay

log = logging.getLogger(__name__)
# websockets logs handshakes and frames at DEBUG: the listenKey sits in the URL and the WS API frames
# carry the API key and signatures, so its logger here never goes below INFO.
WIRE_LOG = logging.getLogger("connectors.binance.wire")
WIRE_LOG.setLevel(logging.INFO)

EventHandler = Callable[[dict[str, Any]], None]


class UserStream:
    """The reconnect loop and status reporting both user streams share."""

    def __init__(self, venue: Venue, bus: EventBus, on_event: EventHandler, backoff_s: float = 0.25,
                 backoff_max_s: float = 30.0) -> None:
        self.venue = venue
        self._bus = bus
        self._on_event = on_event
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.status = ConnectionStatus.DISCONNECTED
        self.connects = 0
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._ws: ClientConnection | None = None
        self.ready = asyncio.Event()  # set while subscribed
        self.settled = asyncio.Event()  # set once the first attempt has succeeded or been refused
        self.refusal: AuthError | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self._set_status(ConnectionStatus.DISCONNECTED)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            self._set_status(ConnectionStatus.CONNECTING if self.connects == 0 else ConnectionStatus.RECONNECTING)
            try:
                await self._session()
                attempt = 0
            except AuthError as exc:
                log.error("Binance user stream refused: %s", exc)
                self.refusal = exc
                self.settled.set()
                self._set_status(ConnectionStatus.FAILED, str(exc))
                attempt = max(attempt, 6)
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError, ShrivenQuantError) as exc:
                log.info("Binance user stream: %s: %s", type(exc).__name__, exc)
            finally:
                self._ws = None
                self.ready.clear()
            if self._closing:
                break
            if self.status is not ConnectionStatus.FAILED:
                self._set_status(ConnectionStatus.RECONNECTING)
            await asyncio.sleep(backoff_delay(attempt, self.backoff_s, self.backoff_max_s))
            attempt += 1

    async def _session(self) -> None:
        raise NotImplementedError

    def _connected(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.connects += 1
        self.refusal = None
        self._set_status(ConnectionStatus.CONNECTED)
        self.ready.set()
        self.settled.set()

    def _dispatch(self, event: Any) -> None:
        if not isinstance(event, dict):
            log.warning("Binance user stream: malformed event skipped")
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("Binance user event handler failed on %s", event.get("e"))

    def _set_status(self, status: ConnectionStatus, detail: str = "") -> None:
        if status is not self.status:
            self.status = status
            self._bus.publish(ConnectionChanged(self.venue, "user", status, detail))


class SpotUserStream(UserStream):
    """Spot user data over the WS API."""

    def __init__(self, ws_api_url: str, credentials: BinanceCredentials, rest: BinanceRest, bus: EventBus,
                 on_event: EventHandler, **kwargs: Any) -> None:
        super().__init__(Venue.BINANCE, bus, on_event, **kwargs)
        self.url = ws_api_url
        self._credentials = credentials
        self._rest = rest
        self._next_id = 0

    def _signed(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"apiKey": self._credentials.api_key, "timestamp": self._rest.server_ms(), **(extra or {})}
        params["signature"] = self._credentials.signer.sign(ws_api_payload(params))
        return params

    async def _call(self, ws: ClientConnection, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request and wait for its answer, passing events that arrive meanwhile on."""
        self._next_id += 1
        req_id = f"sq{self._next_id}"
        await ws.send(json.dumps({"id": req_id, "method": method, **({"params": params} if params else {})}))
        async with asyncio.timeout(10):
            while True:
                msg = json.loads(await ws.recv())
                if isinstance(msg, dict) and msg.get("id") == req_id:
                    break
                if isinstance(msg, dict) and "event" in msg:
                    self._dispatch(msg["event"])
        if msg.get("status") != 200:
            error = msg.get("error") or {}
            text = f"Binance {error.get('code')}: {error.get('msg')} ({method})"
            if error.get("code") in (-1022, -2014, -2015, -4000) or msg.get("status") == 401:
                raise AuthError(text, code=error.get("code"), http_status=msg.get("status"))
            raise ShrivenQuantError(text)
        return msg.get("result")

    async def _session(self) -> None:
        async with websockets.connect(self.url, ping_interval=20, ping_timeout=60, open_timeout=10, close_timeout=2,
                                      logger=WIRE_LOG) as ws:
            if self._credentials.signer.key_type == "ED25519":
                await self._call(ws, "session.logon", self._signed())
                await self._call(ws, "userDataStream.subscribe")
            else:
                await self._call(ws, "userDataStream.subscribe.signature", self._signed())
            self._connected(ws)
            async for frame in ws:
                try:
                    msg = json.loads(frame)
                except ValueError:
                    log.warning("Binance user stream: malformed frame skipped (%d bytes)", len(frame))
                    continue
                if isinstance(msg, dict) and "event" in msg:
                    event = msg["event"]
                    if isinstance(event, dict) and event.get("e") == "eventStreamTerminated":
                        log.info("Binance user stream terminated by the server; resubscribing")
                        return
                    self._dispatch(event)


class UsdmUserStream(UserStream):
    """USD-M user data over a listenKey websocket."""

    def __init__(self, streams_url: str, rest: BinanceRest, bus: EventBus, on_event: EventHandler, *, routed: bool = True,
                 keepalive_s: float = 30 * 60, **kwargs: Any) -> None:
        super().__init__(Venue.BINANCE_USDM, bus, on_event, **kwargs)
        self.streams_url = streams_url.rstrip("/")
        self.routed = routed
        self.keepalive_s = keepalive_s
        self._rest = rest

    async def _session(self) -> None:
        answer = await self._rest.request("POST", "/fapi/v1/listenKey", key_only=True)
        key = str(answer["listenKey"])
        url = f"{self.streams_url}/private/ws?listenKey={key}" if self.routed else f"{self.streams_url}/ws/{key}"
        async with websockets.connect(url, ping_interval=20, ping_timeout=600, open_timeout=10, close_timeout=2,
                                      logger=WIRE_LOG) as ws:
            self._connected(ws)
            keepalive = asyncio.get_running_loop().create_task(self._keepalive(ws))
            try:
                async for frame in ws:
                    try:
                        event = json.loads(frame)
                    except ValueError:
                        log.warning("Binance user stream: malformed frame skipped (%d bytes)", len(frame))
                        continue
                    if isinstance(event, dict) and event.get("e") == "listenKeyExpired":
                        log.info("Binance listenKey expired; getting a new one")
                        return
                    self._dispatch(event)
            finally:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await keepalive

    async def _keepalive(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                await self._rest.request("PUT", "/fapi/v1/listenKey", key_only=True)
            except ShrivenQuantError as exc:
                log.warning("listenKey keepalive failed (%s); reconnecting", exc)
                await ws.close()
                return
