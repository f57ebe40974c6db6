"""The emulator's Binance websockets: market streams (diff chaining U/u and futures pu, payload shapes,
control messages, the incoming rate limit, futures routing), the WS API (session.logon with Ed25519,
user data subscriptions, signed requests) and the futures listenKey user data stream."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET, register_ed25519_key
from connectors.emulator.exchange import Exchange
from connectors.emulator.server import EmulatorServer


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=5, history_minutes=30)) as server:
        yield server


async def frames(ws: Any, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(ws.recv(), timeout)) for _ in range(n)]


async def test_diff_depth_chains_and_payload_shapes(emu) -> None:  # type: ignore[no-untyped-def]
    spot = emu.endpoints["binance_ws"]
    async with websockets.connect(f"{spot}/ws/btcusdt@depth@100ms") as ws:
        diffs = await frames(ws, 6)
    assert all(d["e"] == "depthUpdate" and d["s"] == "BTCUSDT" for d in diffs)
    assert all(b["U"] == a["u"] + 1 for a, b in zip(diffs, diffs[1:]))  # raw stream, spot: U = previous u + 1
    assert all(Decimal(p) > 0 for d in diffs for p, _ in d["b"] + d["a"])
    streams = "btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@kline_1m"
    async with websockets.connect(f"{spot}/stream?streams={streams}") as ws:
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(400):
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.setdefault(msg["stream"].split("@", 1)[1], msg["data"])
            if len(seen) == 4:
                break
    assert set(seen["trade"]) == {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
    assert set(seen["aggTrade"]) == {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"}
    assert set(seen["bookTicker"]) == {"u", "s", "b", "B", "a", "A"}
    assert seen["kline_1m"]["k"]["i"] == "1m" and seen["kline_1m"]["k"]["x"] in (True, False)
    fut = emu.endpoints["binance_fstream"]
    async with websockets.connect(f"{fut}/public/stream?streams=btcusdt@depth@100ms") as ws:
        diffs = [m["data"] for m in await frames(ws, 6)]
    assert all(b["pu"] == a["u"] for a, b in zip(diffs, diffs[1:]))  # futures: pu = previous u
    assert all({"T", "pu"} <= set(d) for d in diffs)


async def test_control_messages_and_their_errors(emu) -> None:  # type: ignore[no-untyped-def]
    async with websockets.connect(f"{emu.endpoints['binance_ws']}/ws") as ws:
        await asyncio.wait_for(await ws.ping(b"hello"), 2)  # a ping is answered with its payload

        async def ask(msg: Any) -> dict[str, Any]:
            await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
            while True:
                answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if "result" in answer or "code" in answer:
                    return answer
        assert await ask({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "ethusdt@bookTicker"], "id": 1}) == {"result": None, "id": 1}
        await asyncio.sleep(0.3)
        assert await ask({"method": "LIST_SUBSCRIPTIONS", "id": "two"}) == {"result": ["btcusdt@aggTrade", "ethusdt@bookTicker"], "id": "two"}
        await asyncio.sleep(0.3)
        assert await ask({"method": "UNSUBSCRIBE", "params": ["ethusdt@bookTicker"], "id": 3}) == {"result": None, "id": 3}
        await asyncio.sleep(0.3)
        assert (await ask({"method": "GET_PROPERTY", "params": ["combined"], "id": 4}))["result"] is False
        await asyncio.sleep(0.3)
        assert (await ask("{nope"))["code"] == 3
        await asyncio.sleep(0.3)
        assert (await ask({"method": "FLY", "id": 6}))["code"] == 2
        await asyncio.sleep(0.3)
        assert (await ask({"method": "SUBSCRIBE", "params": ["btcusdt@nonsense"], "id": 7}))["code"] == 2
    async with websockets.connect(f"{emu.endpoints['binance_fstream']}/public/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["code"] == 2 and "/public" in answer["msg"]  # trades live on /market


async def test_more_than_five_messages_a_second_disconnects(emu) -> None:  # type: ignore[no-untyped-def]
    async with websockets.connect(f"{emu.endpoints['binance_ws']}/ws") as ws:
        for i in range(7):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(20):
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def _closed_within(ws: Any, timeout: float) -> bool:
    """True if the server closes the socket within timeout seconds (frames meanwhile are read and dropped)."""
    async def drain() -> None:
        async for _ in ws:
            pass
    try:
        await asyncio.wait_for(drain(), timeout)
    except asyncio.TimeoutError:
        return False
    return True


async def test_drop_ws_closes_the_spot_and_the_futures_sockets_alike(emu) -> None:  # type: ignore[no-untyped-def]
    """One arming reaches both hubs: neither may consume it for the other (the race CI once lost)."""
    spot_url = f"{emu.endpoints['binance_ws']}/ws/btcusdt@depth@100ms"
    fut_url = f"{emu.endpoints['binance_fstream']}/public/ws/btcusdt@depth@100ms"
    async with websockets.connect(spot_url) as spot, websockets.connect(fut_url) as fut:
        await frames(spot, 1)
        await frames(fut, 1)
        emu.faults.arm("drop_ws", stream="binance")
        closed = await asyncio.gather(_closed_within(spot, 5), _closed_within(fut, 5))
    assert closed == [True, True]
    assert emu.faults.fired["drop_ws"] == 2
    async with websockets.connect(spot_url) as again:  # a new socket under the same arming is left alone
        assert len(await frames(again, 3)) == 3


def _ws_signed(params: dict[str, Any], sign: Any) -> dict[str, Any]:
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": sign(payload)}


async def _request(ws: Any, method: str, params: dict[str, Any] | None = None, req_id: str = "r",
                   events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Send a WS API request and return its answer; user events arriving meanwhile go to `events`."""
    await ws.send(json.dumps({"id": req_id, "method": method, **({"params": params} if params is not None else {})}))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg.get("id") == req_id:
            return msg
        if "event" in msg and events is not None:
            assert msg["subscriptionId"] == 0
            events.append(msg["event"])


async def test_ws_api_logon_subscribe_and_user_events(emu) -> None:  # type: ignore[no-untyped-def]
    key = Ed25519PrivateKey.generate()
    register_ed25519_key("ws-ed-key", key.public_key())
    ed = lambda payload: base64.b64encode(key.sign(payload.encode())).decode()  # noqa: E731
    mac = lambda payload: hmac.new(DEMO_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()  # noqa: E731
    await emu.exchange.stop()
    async with websockets.connect(f"{emu.endpoints['binance_ws']}/ws-api/v3") as ws:
        assert (await _request(ws, "userDataStream.subscribe"))["error"]["code"] == -2015  # not logged on
        bad = await _request(ws, "session.logon", {"apiKey": "ws-ed-key", "timestamp": int(time.time() * 1000), "signature": "AAAA"})
        assert bad["status"] == 400 and bad["error"]["code"] == -1022
        hmac_logon = await _request(ws, "session.logon", _ws_signed({"apiKey": DEMO_API_KEY, "timestamp": int(time.time() * 1000)}, mac))
        assert hmac_logon["status"] != 200  # session.logon takes Ed25519 keys only
        logon = await _request(ws, "session.logon", _ws_signed({"apiKey": "ws-ed-key", "timestamp": int(time.time() * 1000)}, ed))
        assert logon["status"] == 200 and logon["result"]["apiKey"] == "ws-ed-key" and logon["rateLimits"]
        sub = await _request(ws, "userDataStream.subscribe")
        assert sub["result"] == {"subscriptionId": 0}
        assert (await _request(ws, "userDataStream.subscribe"))["error"]["code"] == -2035
        price = (emu.exchange.summary("spot", "BTCUSDT").last_price * Decimal("0.9")).quantize(Decimal("0.01"))
        events: list[dict[str, Any]] = []
        placed = await _request(ws, "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                                    "quantity": "0.001", "price": str(price), "newClientOrderId": "ws-1",
                                                    "timestamp": int(time.time() * 1000)}, events=events)
        assert placed["status"] == 200 and placed["result"]["clientOrderId"] == "ws-1"
        while len(events) < 2:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if "event" in msg:
                assert msg["subscriptionId"] == 0
                events.append(msg["event"])
        report, position = events
        assert (report["e"], report["x"], report["X"], report["c"]) == ("executionReport", "NEW", "NEW", "ws-1")
        assert position["e"] == "outboundAccountPosition" and {b["a"] for b in position["B"]} == {"BTC", "USDT"}
    async with websockets.connect(f"{emu.endpoints['binance_ws']}/ws-api/v3") as ws:
        params = _ws_signed({"apiKey": DEMO_API_KEY, "timestamp": int(time.time() * 1000)}, mac)
        assert (await _request(ws, "userDataStream.subscribe.signature", params))["result"] == {"subscriptionId": 0}
        assert (await _request(ws, "session.subscriptions"))["result"] == [{"subscriptionId": 0}]
        assert (await _request(ws, "userDataStream.unsubscribe"))["result"] == {}


async def test_futures_listen_key_stream(emu) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_fapi"]
    await emu.exchange.stop()
    async with httpx.AsyncClient() as http:
        key = (await http.post(f"{base}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": DEMO_API_KEY})).json()["listenKey"]
        async with websockets.connect(f"{emu.endpoints['binance_fstream']}/private/ws?listenKey={key}") as ws:
            query = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.002",
                               "newClientOrderId": "f-ws-1", "timestamp": int(time.time() * 1000)})
            sig = hmac.new(DEMO_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
            r = await http.post(f"{base}/fapi/v1/order?{query}&signature={sig}", headers={"X-MBX-APIKEY": DEMO_API_KEY})
            assert r.status_code == 200, r.text
            events = []
            while not any(e["e"] == "ACCOUNT_UPDATE" and e["a"]["P"] for e in events):
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    updates = [e["o"] for e in events if e["e"] == "ORDER_TRADE_UPDATE"]
    assert [u["x"] for u in updates][:1] == ["NEW"] and updates[-1]["X"] == "FILLED" and "TRADE" in [u["x"] for u in updates]
    assert all(u["c"] == "f-ws-1" for u in updates)
    position = next(e for e in events if e["e"] == "ACCOUNT_UPDATE" and e["a"]["P"])["a"]["P"][0]
    assert position["s"] == "BTCUSDT" and Decimal(position["pa"]) == Decimal("0.002")
