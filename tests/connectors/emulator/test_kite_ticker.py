"""The emulator's Kite Ticker: the official KiteTicker (Twisted, so in a child process) receives full-mode
ticks and an order update; raw websocket checks of modes, packet sizes, heartbeats, limits and postbacks."""
from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from connectors.emulator.exchange import Exchange
from connectors.emulator.kite.state import KiteState, kite_state
from connectors.emulator.server import EmulatorServer
from core.domain import Venue

KEY, SECRET = "demo-kite-key", "demo-kite-secret"
INFY, NIFTY = 408065, 256265

CHILD = r"""
import json, sys, threading
from kiteconnect import KiteConnect, KiteTicker
from twisted.internet import reactor

ws_url, rest_url, api_key, token = sys.argv[1:5]
ticks, orders = [], []
ticker = KiteTicker(api_key, token, root=ws_url, reconnect=False)

def place():
    kite = KiteConnect(api_key, access_token=token, root=rest_url)
    kite.place_order("regular", "NSE", "INFY", "BUY", 1, "CNC", "MARKET", market_protection=-1, tag="SQCHILD")

def finish():
    full = next((t for t in ticks if t["instrument_token"] == 408065 and t["mode"] == "full"), None)
    if full:
        full = {k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in full.items()}
    print(json.dumps({"ticks": len(ticks), "tokens": sorted({t["instrument_token"] for t in ticks}), "full": full,
                      "index": next((t["mode"] for t in ticks if t["instrument_token"] == 256265), None),
                      "orders": [(o["tag"], o["status"]) for o in orders]}))
    reactor.stop()

def on_ticks(ws, batch):
    ticks.extend(batch)
    if len(ticks) >= 6 and not getattr(on_ticks, "placed", False):
        on_ticks.placed = True
        threading.Thread(target=place, daemon=True).start()

def on_order_update(ws, data):
    orders.append(data)
    if data["status"] == "COMPLETE":
        reactor.callLater(0.1, finish)

def on_connect(ws, response):
    ws.subscribe([408065, 256265])
    ws.set_mode(ws.MODE_FULL, [408065, 256265])

ticker.on_ticks, ticker.on_connect, ticker.on_order_update = on_ticks, on_connect, on_order_update
reactor.callLater(15, finish)
ticker.connect()
"""


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=5, history_minutes=60)) as server:
        state = kite_state(server.exchange)
        state.tick_interval_s, state.heartbeat_s = 0.05, 0.2
        yield server


async def access_token(emu: EmulatorServer) -> str:
    async with httpx.AsyncClient() as http:
        login = await http.get(emu.endpoints["kite_login"] + "/connect/login", params={"api_key": KEY, "v": "3"})
        token = parse_qs(urlsplit(login.headers["location"]).query)["request_token"][0]
        answer = await http.post(emu.endpoints["kite_rest"] + "/session/token", data={
            "api_key": KEY, "request_token": token, "checksum": hashlib.sha256((KEY + token + SECRET).encode()).hexdigest()})
    return str(answer.json()["data"]["access_token"])


def ticker_url(emu: EmulatorServer, token: str) -> str:
    return f"{emu.endpoints['kite_ws']}?api_key={KEY}&access_token={token}"


async def next_packets(ws: ClientConnection, want: int = 1) -> list[tuple[int, int]]:
    """(token, packet length) of the next binary message with at least `want` packets (heartbeats skipped)."""
    while True:
        message = await asyncio.wait_for(ws.recv(), 5)
        if isinstance(message, bytes) and len(message) > 1:
            (count,) = struct.unpack_from(">H", message)
            out, pos = [], 2
            for _ in range(count):
                (length,) = struct.unpack_from(">H", message, pos)
                out.append((struct.unpack_from(">I", message, pos + 2)[0], length))
                pos += 2 + length
            if len(out) >= want:
                return out


async def test_official_kiteticker_receives_full_ticks_and_order_updates(emu: EmulatorServer) -> None:
    token = await access_token(emu)
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, emu.endpoints["kite_ws"], emu.endpoints["kite_rest"],
                                                 KEY, token, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(child.communicate(), 30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == 0, err.decode()[-2000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["tokens"] == sorted([INFY, NIFTY]) and result["index"] == "full"
    full = result["full"]
    assert full["tradable"] is True and len(full["depth"]["buy"]) == 5 and full["depth"]["buy"][0]["price"] > 1000
    assert full["ohlc"]["low"] <= full["last_price"] <= full["ohlc"]["high"] and full["exchange_timestamp"] > 1.7e9
    assert ["SQCHILD", "COMPLETE"] in result["orders"]


async def test_modes_sizes_and_heartbeats(emu: EmulatorServer) -> None:
    token = await access_token(emu)
    async with connect(ticker_url(emu, token)) as ws:
        first = await asyncio.wait_for(ws.recv(), 5)
        assert first == b"\x00"  # nothing subscribed: heartbeats only
        await ws.send(json.dumps({"a": "subscribe", "v": [INFY, NIFTY, 12345]}))  # unknown tokens are ignored
        assert sorted(await next_packets(ws, 2)) == [(NIFTY, 28), (INFY, 44)]  # quote mode by default
        await ws.send(json.dumps({"a": "mode", "v": ["full", [INFY, NIFTY]]}))
        assert sorted(await next_packets(ws, 2)) == [(NIFTY, 32), (INFY, 184)]
        await ws.send(json.dumps({"a": "mode", "v": ["ltp", [INFY]]}))
        await ws.send(json.dumps({"a": "unsubscribe", "v": [NIFTY]}))
        packets = await next_packets(ws)
        while NIFTY in {t for t, _ in packets}:
            packets = await next_packets(ws)
        assert packets == [(INFY, 8)]
        await ws.send("not json")
        while True:
            message = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(message, str):
                assert json.loads(message)["type"] == "error"
                break


async def test_refusals_and_limits(emu: EmulatorServer) -> None:
    state: KiteState = kite_state(emu.exchange)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(ticker_url(emu, "bogus")):
            pass
    assert refused.value.response.status_code == 403
    token = await access_token(emu)
    state.max_tokens_per_connection = 2
    async with connect(ticker_url(emu, token)) as a, connect(ticker_url(emu, token)), connect(ticker_url(emu, token)):
        with pytest.raises(websockets.InvalidStatus) as fourth:
            async with connect(ticker_url(emu, token)):
                pass
        assert fourth.value.response.status_code == 429
        await a.send(json.dumps({"a": "subscribe", "v": [INFY, NIFTY, 738561]}))
        while True:
            message = await asyncio.wait_for(a.recv(), 5)
            if isinstance(message, str):
                assert json.loads(message) == {"type": "error", "data": "Subscription limit of 2 instruments exceeded; 1 ignored"}
                break
        assert {t for t, _ in await next_packets(a, 2)} == {INFY, NIFTY}


async def test_order_postbacks_carry_kites_checksum(emu: EmulatorServer) -> None:
    token = await access_token(emu)
    async with connect(ticker_url(emu, token)) as ws:
        async with httpx.AsyncClient() as http:
            await http.post(emu.endpoints["kite_rest"] + "/orders/regular", headers={"Authorization": f"token {KEY}:{token}"},
                            data={"exchange": "NSE", "tradingsymbol": "INFY", "transaction_type": "BUY", "order_type": "MARKET",
                                  "quantity": 2, "product": "CNC", "market_protection": "-1", "tag": "SQPB1"})
        updates: list[dict[str, Any]] = []
        while not updates or updates[-1]["status"] != "COMPLETE":
            message = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(message, str):
                envelope = json.loads(message)
                assert envelope["type"] == "order"
                updates.append(envelope["data"])
    assert [u["status"] for u in updates] == ["OPEN", "COMPLETE"]
    done = updates[-1]
    assert done["checksum"] == hashlib.sha256((done["order_id"] + done["order_timestamp"] + SECRET).encode()).hexdigest()
    assert (done["user_id"], done["tag"], done["filled_quantity"], done["unfilled_quantity"]) == ("DEMO01", "SQPB1", 2, 0)


async def test_a_packet_is_sent_only_when_the_market_data_changed(emu: EmulatorServer) -> None:
    """Every packet after the first of an instrument differs from its previous one beyond exchange_timestamp
    (a new second alone used to resend every instrument: 165 of 428 packets a second at the default flow)."""
    token = await access_token(emu)
    tokens = [int(m.instrument.venue_token) for m in emu.exchange.markets() if m.instrument.venue is Venue.ZERODHA]
    async with connect(ticker_url(emu, token)) as ws:
        await ws.send(json.dumps({"a": "subscribe", "v": tokens}))
        await ws.send(json.dumps({"a": "mode", "v": ["full", tokens]}))
        last: dict[int, bytes] = {}
        sent = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + 2.5
        while loop.time() < end:
            message = await asyncio.wait_for(ws.recv(), 5)
            if not isinstance(message, bytes) or len(message) < 2:
                continue
            (count,) = struct.unpack_from(">H", message)
            pos = 2
            for _ in range(count):
                (length,) = struct.unpack_from(">H", message, pos)
                packet = message[pos + 2:pos + 2 + length]
                pos += 2 + length
                if length not in (184, 32):  # the quote-mode packets sent before the mode change
                    continue
                data = packet[:60] + packet[64:] if length == 184 else packet[:28]
                instrument = struct.unpack_from(">I", packet)[0]
                assert last.get(instrument) != data, instrument
                last[instrument] = data
                sent += 1
        assert set(last) == set(tokens) and sent > len(tokens)  # still a live feed
