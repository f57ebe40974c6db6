"""The emulator's Binance REST servers speak the protocol as the reference says: signatures over the raw
percent-encoded payload (HMAC and Ed25519), the timestamp window, filters and parameter checks with the
real codes and messages, weight and order-count headers, 429 then the 418 ban, cancel-replace failure
shapes, futures-specific rules and listenKeys, and the fault control endpoint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET, register_ed25519_key
from connectors.emulator.exchange import Exchange
from connectors.emulator.server import EmulatorServer


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=3, history_minutes=30)) as server:
        await server.exchange.stop()  # a still market: these tests are about the protocol
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def signed(params: dict[str, Any], secret: str = DEMO_SECRET, ts_offset_ms: int = 0) -> str:
    query = urlencode({**params, "timestamp": int(time.time() * 1000) + ts_offset_ms})
    return f"{query}&signature={hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()}"


async def call(http: httpx.AsyncClient, base: str, method: str, path: str, params: dict[str, Any] | None = None,
               key: str | None = DEMO_API_KEY, sign: bool = True, ts_offset_ms: int = 0) -> httpx.Response:
    query = signed(params or {}, ts_offset_ms=ts_offset_ms) if sign else urlencode(params or {})
    headers = {"X-MBX-APIKEY": key} if key else {}
    return await http.request(method, f"{base}{path}?{query}", headers=headers)


def error(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["msg"]


def last(emu: EmulatorServer, market: str = "spot") -> Decimal:
    return emu.exchange.summary(market, "BTCUSDT").last_price


async def test_hmac_and_ed25519_signatures(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    assert (await call(http, base, "GET", "/api/v3/account")).status_code == 200
    tampered = signed({"omitZeroBalances": "true"}).replace("omitZeroBalances=true", "omitZeroBalances=false")
    r = await http.get(f"{base}/api/v3/account?{tampered}", headers={"X-MBX-APIKEY": DEMO_API_KEY})
    assert error(r) == (400, -1022, "Signature for this request is not valid.")
    # the payload is percent-encoded before signing: a non-ASCII symbol passes the signature and fails as a symbol
    r = await call(http, base, "GET", "/api/v3/openOrders", {"symbol": "１２３４５６"})
    assert error(r) == (400, -1121, "Invalid symbol.")
    key = Ed25519PrivateKey.generate()
    register_ed25519_key("emu-ed-key", key.public_key())
    query = urlencode({"timestamp": int(time.time() * 1000)})
    sig = quote(base64.b64encode(key.sign(query.encode())).decode(), safe="")
    r = await http.get(f"{base}/api/v3/account?{query}&signature={sig}", headers={"X-MBX-APIKEY": "emu-ed-key"})
    assert r.status_code == 200 and r.json()["accountType"] == "SPOT"
    assert error(await call(http, base, "GET", "/api/v3/account", key=None))[1] == -2014
    assert error(await call(http, base, "GET", "/api/v3/account", key="nobody")) == (
        401, -2015, "Invalid API-key, IP, or permissions for action.")


async def test_signature_over_query_plus_body(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    query = "symbol=BTCUSDT"
    body = urlencode({"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
                      "price": str((last(emu) * Decimal("0.9")).quantize(Decimal("0.01"))), "timestamp": int(time.time() * 1000)})
    sig = hmac.new(DEMO_SECRET.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    r = await http.post(f"{base}/api/v3/order?{query}", content=f"{body}&signature={sig}",
                        headers={"X-MBX-APIKEY": DEMO_API_KEY, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and r.json()["status"] == "NEW"


async def test_timestamp_window(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    assert error(await call(http, base, "GET", "/api/v3/account", ts_offset_ms=1500)) == (
        400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    assert error(await call(http, base, "GET", "/api/v3/account", ts_offset_ms=-6000)) == (
        400, -1021, "Timestamp for this request is outside of the recvWindow.")
    assert (await call(http, base, "GET", "/api/v3/account", {"recvWindow": 10000}, ts_offset_ms=-6000)).status_code == 200
    assert error(await call(http, base, "GET", "/api/v3/account", {"recvWindow": 70000}))[1] == -1131
    emu.faults.arm("clock_skew", count=None, ms=-8000)  # the server's clock is now 8 s behind ours
    assert error(await call(http, base, "GET", "/api/v3/account"))[1] == -1021
    server_time = (await http.get(f"{base}/api/v3/time")).json()["serverTime"]
    assert abs(server_time - (time.time() * 1000 - 8000)) < 1000


async def test_filters_and_parameter_errors(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    price = (last(emu) * Decimal("0.9")).quantize(Decimal("0.01"))
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": str(price)}
    cases: list[tuple[dict[str, Any], tuple[int, int, str]]] = [
        ({"price": f"{price}5"}, (400, -1013, "Filter failure: PRICE_FILTER")),
        ({"quantity": "0.000015"}, (400, -1013, "Filter failure: LOT_SIZE")),
        ({"quantity": "0.00002"}, (400, -1013, "Filter failure: NOTIONAL")),
        ({"price": str((last(emu) * 6).quantize(Decimal("0.01")))}, (400, -1013, "Filter failure: PERCENT_PRICE")),
        ({"type": "MARKET", "timeInForce": "", "price": "", "quantity": "9500"}, (400, -1013, "Filter failure: LOT_SIZE")),
        ({"side": "HOLD"}, (400, -1117, "Invalid side.")),
        ({"type": "ICEBERG"}, (400, -1116, "Invalid orderType.")),
        ({"timeInForce": ""}, (400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")),
        ({"type": "MARKET", "price": ""}, (400, -1106, "Parameter 'timeInForce' sent when not required.")),
        ({"quantity": "0.0a1"}, (400, -1100, "Illegal characters found in parameter 'quantity'; legal range is "
                                             "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")),
        ({"symbol": "NOPEUSDT"}, (400, -1121, "Invalid symbol.")),
        ({"quantity": "1", "price": str(price)}, (400, -2010, "Account has insufficient balance for requested action.")),
        ({"type": "LIMIT_MAKER", "timeInForce": "", "price": str(emu.exchange.depth("spot", "BTCUSDT", 1).asks[0][0])},
         (400, -2010, "Order would immediately match and take.")),
    ]
    for change, expected in cases:
        params = {k: v for k, v in {**order, **change}.items() if v != ""}
        assert error(await call(http, base, "POST", "/api/v3/order", params)) == expected, change
    r = await call(http, base, "POST", "/api/v3/order", {**order, "newClientOrderId": "dup-1"})
    assert r.status_code == 200 and r.headers["X-MBX-ORDER-COUNT-10S"] and r.headers["X-MBX-ORDER-COUNT-1D"]
    assert error(await call(http, base, "POST", "/api/v3/order", {**order, "newClientOrderId": "dup-1"})) == (
        400, -2010, "Duplicate order sent.")
    assert error(await call(http, base, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1})) == (
        400, -2011, "Unknown order sent.")
    assert error(await call(http, base, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "zzz"})) == (
        400, -2013, "Order does not exist.")
    assert error(await call(http, base, "GET", "/api/v3/order", {"symbol": "BTCUSDT"}))[1] == -1102
    assert error(await http.get(f"{base}/api/v3/klines?symbol=BTCUSDT&interval=7m")) == (400, -1120, "Invalid interval.")


async def test_cancel_replace_answers(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    price = (last(emu) * Decimal("0.9")).quantize(Decimal("0.01"))
    new = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    placed = (await call(http, base, "POST", "/api/v3/order", {**new, "price": str(price), "newClientOrderId": "cr-1"})).json()
    ok = await call(http, base, "POST", "/api/v3/order/cancelReplace", {
        **new, "price": str(price - 1), "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": placed["orderId"],
        "newClientOrderId": "cr-1"})
    body = ok.json()
    assert ok.status_code == 200 and (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert body["cancelResponse"]["origClientOrderId"] == "cr-1" and body["newOrderResponse"]["clientOrderId"] == "cr-1"
    failed = await call(http, base, "POST", "/api/v3/order/cancelReplace", {
        **new, "price": str(price), "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": placed["orderId"]})
    assert error(failed) == (400, -2022, "Order cancel-replace failed.")
    assert failed.json()["data"] == {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                                     "cancelResponse": {"code": -2011, "msg": "Unknown order sent."}, "newOrderResponse": None}
    half = await call(http, base, "POST", "/api/v3/order/cancelReplace", {
        **new, "price": f"{price}5", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": body["newOrderResponse"]["orderId"]})
    assert error(half) == (409, -2021, "Order cancel-replace partially failed.")
    assert half.json()["data"]["newOrderResponse"] == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}


async def test_weight_headers_429_then_the_418_ban(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    weights = [int((await http.get(f"{base}/api/v3/depth?symbol=BTCUSDT&limit=500")).headers["X-MBX-USED-WEIGHT-1M"])
               for _ in range(3)]
    assert weights[1] - weights[0] == 25 and weights[2] - weights[1] == 25
    emu.faults.arm("http_429", retry_after=30)
    first = await http.get(f"{base}/api/v3/time")
    assert first.status_code == 429 and first.headers["Retry-After"] == "30" and first.json()["code"] == -1003
    statuses = [(await http.get(f"{base}/api/v3/time")).status_code for _ in range(4)]  # hammering during Retry-After
    assert statuses[:2] == [429, 429] and statuses[-1] == 418
    banned = await http.get(f"{base}/api/v3/ping")
    assert banned.status_code == 418 and int(banned.headers["Retry-After"]) > 60
    assert "IP banned until" in banned.json()["msg"]


async def test_futures_rules_and_listen_keys(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_fapi"]
    info = (await http.get(f"{base}/fapi/v1/exchangeInfo")).json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert {f["filterType"] for f in btc["filters"]} >= {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL", "PERCENT_PRICE"}
    assert next(f for f in btc["filters"] if f["filterType"] == "MIN_NOTIONAL")["notional"] == "100"
    price = (last(emu, "usdm") * Decimal("0.97")).quantize(Decimal("0.1"))
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTX", "quantity": "0.001", "price": str(price)}
    assert error(await call(http, base, "POST", "/fapi/v1/order", order))[1] == -4164
    assert error(await call(http, base, "POST", "/fapi/v1/order", {**order, "quantity": "0.002", "positionSide": "LONG"}))[1] == -4061
    depth = (await http.get(f"{base}/fapi/v1/depth?symbol=BTCUSDT&limit=5")).json()
    assert {"lastUpdateId", "E", "T", "bids", "asks"} <= set(depth)
    key = (await call(http, base, "POST", "/fapi/v1/listenKey", sign=False)).json()["listenKey"]
    assert (await call(http, base, "POST", "/fapi/v1/listenKey", sign=False)).json()["listenKey"] == key  # the active one
    assert (await call(http, base, "PUT", "/fapi/v1/listenKey", sign=False)).json() == {}
    assert (await call(http, base, "DELETE", "/fapi/v1/listenKey", sign=False)).json() == {}
    assert error(await call(http, base, "PUT", "/fapi/v1/listenKey", sign=False)) == (400, -1125, "This listenKey does not exist.")
    risk = (await call(http, base, "GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"})).json()
    assert risk[0]["positionAmt"] == "0" and risk[0]["marginType"] == "cross"


async def test_fault_control_endpoint(emu, http) -> None:  # type: ignore[no-untyped-def]
    base = emu.endpoints["binance_rest"]
    r = await http.post(f"{base}/_emulator/faults", json={"name": "http_5xx_after_order", "count": 2, "params": {"status": 502}})
    assert r.json() == {"http_5xx_after_order": {"remaining": 2, "status": 502}}
    assert emu.faults.active("http_5xx_after_order") == {"status": 502}
    assert (await http.delete(f"{base}/_emulator/faults?name=http_5xx_after_order")).json() == {}
    assert (await http.post(f"{base}/_emulator/faults", content=b"nope")).status_code == 400
