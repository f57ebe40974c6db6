"""The emulator's `<symbol>@miniTicker` stream: Binance's field names and number strings, the same 24 h
figures as GET ticker/24hr, one push per second per subscribed symbol, and USD-M routing on /market."""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from connectors.emulator.exchange import Exchange
from connectors.emulator.server import EmulatorServer

FIELDS = {"e", "E", "s", "c", "o", "h", "l", "v", "q"}
SPOT_NUMBER = re.compile(r"^\d+\.\d{8}$")  # spot: fixed 8 places, "0.00100000"
FUTURES_NUMBER = re.compile(r"^\d+(\.\d+)?$")  # USD-M: plain decimal strings


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=3, history_minutes=30)) as server:
        yield server


async def _collect(url: str, count: int) -> list[dict[str, Any]]:
    async with websockets.connect(url) as ws:
        return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count)]


async def _ticker_24hr(base: str, path: str, symbol: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.get(path, params={"symbol": symbol})
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("ws_key", "rest_key", "path", "prefix", "number", "symbols"), [
    ("binance_ws", "binance_rest", "/api/v3/ticker/24hr", "", SPOT_NUMBER, ("BTCUSDT", "ETHUSDT")),
    ("binance_fstream", "binance_fapi", "/fapi/v1/ticker/24hr", "/market", FUTURES_NUMBER, ("BTCUSDT",)),
])
async def test_mini_ticker_carries_the_24h_figures(emu, ws_key: str, rest_key: str, path: str, prefix: str,  # type: ignore[no-untyped-def]
                                                   number: re.Pattern[str], symbols: tuple[str, ...]) -> None:
    await emu.exchange.stop()  # a frozen market: the stream and REST must then agree to the digit
    names = [f"{s.lower()}@miniTicker" for s in symbols]
    frames = await _collect(f"{emu.endpoints[ws_key]}{prefix}/stream?streams={'/'.join(names)}", 2 * len(symbols))
    assert {f["stream"] for f in frames} == set(names)
    for frame in frames:
        data = frame["data"]
        assert set(data) == FIELDS and data["e"] == "24hrMiniTicker"
        assert data["s"] == frame["stream"].split("@")[0].upper() and isinstance(data["E"], int)
        assert all(number.match(data[k]) for k in "cohlvq"), data
    per_symbol = {s: [f["data"] for f in frames if f["data"]["s"] == s] for s in symbols}
    assert all(len(rows) == 2 and rows[0]["E"] < rows[1]["E"] for rows in per_symbol.values())  # one push per tick of the clock
    btc = per_symbol["BTCUSDT"][-1]
    rest = await _ticker_24hr(emu.endpoints[rest_key], path, "BTCUSDT")
    assert (btc["c"], btc["o"], btc["h"], btc["l"], btc["v"], btc["q"]) == (
        rest["lastPrice"], rest["openPrice"], rest["highPrice"], rest["lowPrice"], rest["volume"], rest["quoteVolume"])


async def test_raw_stream_and_live_subscribe() -> None:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=4, history_minutes=5)) as emu:
        raw = await _collect(f"{emu.endpoints['binance_ws']}/ws/solusdt@miniTicker", 1)
        assert raw[0]["e"] == "24hrMiniTicker" and raw[0]["s"] == "SOLUSDT"
        async with websockets.connect(f"{emu.endpoints['binance_fstream']}/market/ws") as ws:
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@miniTicker"], "id": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"result": None, "id": 1}
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert pushed["e"] == "24hrMiniTicker" and pushed["s"] == "BTCUSDT"


async def test_futures_mini_ticker_lives_on_market_not_public(emu) -> None:  # type: ignore[no-untyped-def]
    async with websockets.connect(f"{emu.endpoints['binance_fstream']}/public/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@miniTicker"], "id": 1}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert answer["code"] == 2 and "/public" in answer["msg"]
    async with websockets.connect(f"{emu.endpoints['binance_ws']}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@miniticker", "nosuch@miniTicker"], "id": 2}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert answer["code"] == 2  # names are case-sensitive and the symbol must exist
