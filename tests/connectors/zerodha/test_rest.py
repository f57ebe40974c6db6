"""The REST transport: error translation, the envelope, the session-expiry hook, client-side rate limits."""
from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from connectors.zerodha.errors import KiteOutcomeUnknown, translate
from connectors.zerodha.ratelimit import HISTORICAL, ORDERS, QUOTE, KiteLimits, RateLimiter
from connectors.zerodha.rest import KiteRest
from core.errors import (AuthError, OrderRejected, RateLimited, TransportError, ValidationError, VenueError,
                         VenueUnavailable)


def body(error_type: str, message: str = "boom") -> dict[str, str]:
    return {"status": "error", "message": message, "error_type": error_type}


@pytest.mark.parametrize("status, error_type, is_order, expected", [
    (403, "TokenException", False, AuthError),
    (403, "TokenException", True, AuthError),
    (429, "NetworkException", True, RateLimited),
    (400, "InputException", False, ValidationError),
    (400, "InputException", True, OrderRejected),
    (400, "OrderException", True, OrderRejected),
    (400, "MarginException", True, OrderRejected),
    (400, "HoldingException", True, OrderRejected),
    (403, "PermissionException", False, VenueError),
    (503, "NetworkException", False, VenueUnavailable),
    (502, "DataException", False, VenueUnavailable),
    (500, "GeneralException", False, VenueUnavailable),
    (503, "NetworkException", True, KiteOutcomeUnknown),
    (504, "", True, KiteOutcomeUnknown),
])
def test_translation(status: int, error_type: str, is_order: bool, expected: type) -> None:
    error = translate(status, body(error_type), is_order)
    assert type(error) is expected
    assert "boom" in str(error)


def test_a_timed_out_answer_to_an_order_is_an_unknown_outcome() -> None:
    assert isinstance(translate(400, body("InputException", "Order request timed out."), True), KiteOutcomeUnknown)
    assert isinstance(translate(400, body("InputException", "Order request timed out."), False), ValidationError)


def rest_with(handler: object, **kwargs: object) -> KiteRest:
    rest = KiteRest("http://kite.test", "key", transport=httpx.MockTransport(handler), **kwargs)  # type: ignore[arg-type]
    rest.access_token = "tok"
    return rest


async def test_envelope_headers_and_exact_numbers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "success", "data": {"price": 1573.15, "qty": 3}})

    rest = rest_with(handler)
    data = await rest.request("POST", "/orders/regular", form={"price": Decimal("1573.10"), "quantity": 3, "skip": None})
    await rest.close()
    assert data == {"price": Decimal("1573.15"), "qty": 3} and isinstance(data["price"], Decimal)
    request = seen[0]
    assert request.headers["Authorization"] == "token key:tok" and request.headers["X-Kite-Version"] == "3"
    assert request.content == b"price=1573.10&quantity=3"


async def test_token_exception_calls_the_expiry_hook() -> None:
    expired: list[str] = []
    rest = rest_with(lambda r: httpx.Response(403, json=body("TokenException", "Incorrect `api_key` or `access_token`.")),
                     on_token_expired=expired.append)
    for _ in range(2):
        with pytest.raises(AuthError):
            await rest.request("GET", "/user/profile")
    await rest.close()
    assert expired == ["tok", "tok"]  # the transport reports each one; the client acts once per token


async def test_transport_failures() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def silent(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    rest = rest_with(refuse)
    with pytest.raises(TransportError):  # never sent: safe to say so
        await rest.request("POST", "/orders/regular", form={}, is_order=True)
    await rest.close()
    rest = rest_with(silent)
    with pytest.raises(KiteOutcomeUnknown):  # sent, no answer: may have been placed
        await rest.request("POST", "/orders/regular", form={}, is_order=True)
    with pytest.raises(TransportError):
        await rest.request("GET", "/orders")
    await rest.close()


async def test_not_logged_in_and_non_json_answers() -> None:
    rest = KiteRest("http://kite.test", "key", transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>")))
    with pytest.raises(AuthError, match="not logged in"):
        await rest.request("GET", "/orders")
    rest.access_token = "tok"
    with pytest.raises(VenueUnavailable, match="unreadable"):
        await rest.request("GET", "/orders")
    await rest.close()


async def test_a_429_pauses_its_class() -> None:
    rest = rest_with(lambda r: httpx.Response(429, json=body("NetworkException", "Too many requests")),
                     limits=KiteLimits(max_wait_s=0.01))
    with pytest.raises(RateLimited):
        await rest.request("GET", "/quote", kind=QUOTE)
    with pytest.raises(RateLimited, match="quote limit"):  # refused here, not sent
        await rest.request("GET", "/quote", kind=QUOTE)
    await rest.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_limiter_windows() -> None:
    clock = Clock()
    limiter = RateLimiter(KiteLimits(margin_s=0.0, max_wait_s=2.0), clock)
    for _ in range(3):
        await limiter.acquire(HISTORICAL)
    assert limiter.wait_needed(HISTORICAL) == pytest.approx(1.0)
    clock.now += 0.4
    assert limiter.wait_needed(HISTORICAL) == pytest.approx(0.6)
    clock.now += 0.6
    assert limiter.wait_needed(HISTORICAL) == 0
    for _ in range(10):
        await limiter.acquire(ORDERS)
    assert limiter.wait_needed(ORDERS) == pytest.approx(1.0)


async def test_order_minute_cap_refuses_instead_of_waiting_a_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(KiteLimits(orders_per_s=1000, orders_per_minute=5, margin_s=0.0), clock)
    for _ in range(5):
        await limiter.acquire(ORDERS)
    with pytest.raises(RateLimited) as info:
        await limiter.acquire(ORDERS)
    assert info.value.retry_after == pytest.approx(60.0)
    clock.now += 60.0
    await limiter.acquire(ORDERS)


async def test_limiter_waits_for_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four historical requests at 3/s: the fourth sleeps until the first leaves the window."""
    clock = Clock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("connectors.zerodha.ratelimit.asyncio.sleep", fake_sleep)
    limiter = RateLimiter(KiteLimits(margin_s=0.05), clock)
    for _ in range(4):
        await limiter.acquire(HISTORICAL)
        clock.now += 0.1
    assert slept == [pytest.approx(0.75)]  # sent at 1000.0; at 1000.3 it waits until 1001.05


def test_form_encoding_of_numbers() -> None:
    from connectors.zerodha.rest import _wire

    assert [_wire(v) for v in (Decimal("1500.00"), Decimal("0.05"), Decimal("-1"), True, 7)] == ["1500", "0.05", "-1", "true", "7"]
