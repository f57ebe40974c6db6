"""The REST transport against scripted answers (httpx.MockTransport): clock offset, -1021, 429/418,
unknown outcomes, error translation, and logs that never show a signature or a key."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from connectors.binance.config import BinanceCredentials
from connectors.binance.errors import BinanceApiError
from connectors.binance.rest import BinanceRest, OutcomeUnknown
from core.errors import AuthError, OrderOutcomeUnknown, OrderRejected, RateLimited, TransportError, VenueUnavailable

KEY, SECRET = "test-key-0123456789", "test-secret-abcdefgh"
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> tuple[BinanceRest, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    rest = BinanceRest("http://127.0.0.1:9", BinanceCredentials.hmac(KEY, SECRET), transport=httpx.MockTransport(record))
    return rest, seen


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers or {})


def _time(offset_ms: int) -> httpx.Response:
    return _json(200, {"serverTime": int(time.time() * 1000) + offset_ms})


async def test_clock_offset_is_measured_and_applied_to_timestamps() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _time(5_000) if request.url.path.endswith("/time") else _json(200, {"ok": True})

    rest, seen = _client(handler)
    await rest.sync_time()
    assert 4_900 < rest.offset_ms < 5_100
    await rest.request("GET", "/api/v3/account", signed=True)
    stamp = int(dict(seen[-1].url.params)["timestamp"])
    assert abs(stamp - (time.time() * 1000 + 5_000)) < 200
    assert seen[-1].headers["X-MBX-APIKEY"] == KEY
    await rest.close()


async def test_minus_1021_resyncs_once_and_retries_a_read() -> None:
    answers = iter([_json(400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}),
                    _time(-3_000), _json(200, {"balances": []})])
    rest, seen = _client(lambda r: next(answers))
    assert await rest.request("GET", "/api/v3/account", signed=True) == {"balances": []}
    assert [r.url.path for r in seen] == ["/api/v3/account", "/api/v3/time", "/api/v3/account"]
    assert rest.offset_ms < -2_000
    await rest.close()


async def test_minus_1021_on_an_order_resyncs_but_is_not_resent() -> None:
    answers = iter([_json(400, {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}),
                    _time(0)])
    rest, seen = _client(lambda r: next(answers))
    with pytest.raises(OrderRejected, match="-1021"):
        await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True, is_order=True)
    assert [r.url.path for r in seen] == ["/api/v3/order", "/api/v3/time"]
    await rest.close()


@pytest.mark.parametrize("status", [429, 418])
async def test_429_and_418_block_every_request_until_retry_after(status: int) -> None:
    rest, seen = _client(lambda r: _json(status, {"code": -1003, "msg": "Too many requests"}, {"Retry-After": "30"}))
    with pytest.raises(RateLimited) as first:
        await rest.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT"})
    assert first.value.retry_after == 30
    for _ in range(5):
        with pytest.raises(RateLimited):
            await rest.request("GET", "/api/v3/ticker/price")
    assert len(seen) == 1  # nothing more went out
    assert 29 < rest.limiter.blocked_for <= 30
    await rest.close()


async def test_order_5xx_and_timeouts_are_unknown_outcomes_reads_are_not() -> None:
    rest, _ = _client(lambda r: _json(503, {"code": -1001, "msg": "Internal error"}))
    with pytest.raises(OutcomeUnknown):
        await rest.request("POST", "/api/v3/order", signed=True, is_order=True)
    with pytest.raises(VenueUnavailable):
        await rest.request("GET", "/api/v3/order", signed=True)
    await rest.close()

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    rest, _ = _client(timeout)
    with pytest.raises(OrderOutcomeUnknown):
        await rest.request("DELETE", "/api/v3/order", signed=True, is_order=True)
    with pytest.raises(TransportError):
        await rest.request("GET", "/api/v3/time")
    await rest.close()

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rest, _ = _client(refused)
    with pytest.raises(TransportError):  # never left: safe to call not placed
        await rest.request("POST", "/api/v3/order", signed=True, is_order=True)
    await rest.close()


@pytest.mark.parametrize(("status", "code", "is_order", "error"), [
    (401, -2015, False, AuthError), (400, -2014, False, AuthError), (400, -1022, True, AuthError),
    (400, -1013, True, OrderRejected), (400, -2010, True, OrderRejected), (400, -2013, False, BinanceApiError),
    (429, -1015, True, RateLimited), (400, -1121, False, BinanceApiError), (500, -1001, False, VenueUnavailable),
])
async def test_errors_are_translated_at_the_boundary(status: int, code: int, is_order: bool, error: type) -> None:
    rest, _ = _client(lambda r: _json(status, {"code": code, "msg": "Filter failure: LOT_SIZE"}))
    with pytest.raises(error) as raised:
        await rest.request("POST" if is_order else "GET", "/api/v3/x", signed=True, is_order=is_order)
    assert raised.value.code == code and "Filter failure: LOT_SIZE" in str(raised.value)
    await rest.close()


async def test_weight_headers_feed_the_limiter() -> None:
    rest, _ = _client(lambda r: _json(200, {}, {"X-MBX-USED-WEIGHT-1M": "4321", "X-MBX-ORDER-COUNT-10S": "7"}))
    await rest.request("GET", "/api/v3/ping")
    usage = rest.limiter.usage()
    assert usage["REQUEST_WEIGHT-1M"][0] >= 4321 and usage["ORDERS-10S"][0] == 7
    await rest.close()


async def test_no_signature_key_or_secret_in_any_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = iter([_json(200, {}), _json(400, {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}),
                    _json(503, {"code": -1001, "msg": "x"})])
    rest, seen = _client(lambda r: next(answers))
    await rest.request("GET", "/api/v3/account", signed=True)
    with pytest.raises(OrderRejected):
        await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True, is_order=True)
    with pytest.raises(OutcomeUnknown):
        await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True, is_order=True)
    signatures = [dict(r.url.params)["signature"] for r in seen]
    text = caplog.text
    assert "/api/v3/order" in text  # the path is logged
    for secret in (SECRET, KEY, *signatures, "timestamp="):
        assert secret not in text
    await rest.close()
