"""sent(): both REST transports call it once an order's request is written to a real loopback socket, before
the answer; never when nothing could be written; and a failing callback does not fail the request."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from connectors.binance.config import BinanceCredentials
from connectors.binance.rest import BinanceRest
from connectors.zerodha.ratelimit import ORDERS
from connectors.zerodha.rest import KiteRest
from core.errors import TransportError
from core.venue import RequestSent

ANSWER = json.dumps({"status": "success", "data": {"order_id": "1"}}).encode()  # also valid JSON for Binance


@dataclass
class HeldServer:
    """An HTTP server on 127.0.0.1 that answers a request only once `release` is set."""

    url: str
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[bytes] = field(default_factory=list)  # the request heads read so far


@pytest.fixture
async def held() -> AsyncIterator[HeldServer]:
    server_box: list[HeldServer] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                server_box[0].received.append(head)
                await server_box[0].release.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    server_box.append(HeldServer(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"))
    try:
        yield server_box[0]
    finally:
        server.close()
        await server.wait_closed()


Send = Callable[[str, RequestSent], Awaitable[object]]


async def binance_order(url: str, sent: RequestSent) -> object:
    rest = BinanceRest(url, BinanceCredentials.hmac("key-0123456789", "secret-0123456789"))
    try:
        return await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True, orders=1,
                                  is_order=True, sent=sent)
    finally:
        await rest.close()


async def kite_order(url: str, sent: RequestSent) -> object:
    rest = KiteRest(url, "api-key")
    rest.access_token = "token"
    try:
        return await rest.request("POST", "/orders/regular", form={"tradingsymbol": "INFY"}, kind=ORDERS, is_order=True,
                                  sent=sent)
    finally:
        await rest.close()


TRANSPORTS = pytest.mark.parametrize("send", [binance_order, kite_order], ids=["binance", "kite"])


@TRANSPORTS
async def test_sent_is_called_once_the_request_is_written_and_before_the_answer(held: HeldServer, send: Send) -> None:
    calls: list[bool] = []  # whether the answer had been released when sent() ran

    def sent() -> None:
        calls.append(held.release.is_set())
        held.release.set()  # the server answers only now: a sent() that waited for the answer would hang

    answer = await asyncio.wait_for(send(held.url, sent), 5)
    assert calls == [False]
    assert answer is not None and len(held.received) == 1 and held.received[0].startswith(b"POST ")


@TRANSPORTS
async def test_sent_is_not_called_when_nothing_could_be_written(send: Send) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    calls: list[int] = []
    with pytest.raises(TransportError):
        await send(f"http://127.0.0.1:{port}", lambda: calls.append(1))
    assert calls == []


@TRANSPORTS
async def test_a_failing_sent_callback_is_logged_and_the_answer_still_read(held: HeldServer, send: Send,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    held.release.set()

    def sent() -> None:
        raise RuntimeError("journal trouble")

    with caplog.at_level(logging.ERROR, logger="connectors.request_sent"):
        answer = await asyncio.wait_for(send(held.url, sent), 5)
    assert answer is not None
    assert "request-sent callback failed" in caplog.text
