"""The emulator's Kite REST and login servers at the wire: envelope, error types, validation, varieties,
limits, instruments, historical candles and the fault switchboard."""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from connectors.emulator.exchange import Exchange
from connectors.emulator.kite.state import KiteState, kite_state
from connectors.emulator.server import EmulatorServer

IST = ZoneInfo("Asia/Kolkata")
KEY, SECRET = "demo-kite-key", "demo-kite-secret"


class Kite:
    """A raw HTTP session with the emulator's Kite servers."""

    def __init__(self, emu: EmulatorServer, http: httpx.AsyncClient) -> None:
        self.emu, self.http = emu, http
        self.rest, self.login = emu.endpoints["kite_rest"], emu.endpoints["kite_login"]
        self.headers: dict[str, str] = {}

    @property
    def state(self) -> KiteState:
        return kite_state(self.emu.exchange)

    async def request_token(self) -> str:
        answer = await self.http.get(f"{self.login}/connect/login", params={"api_key": KEY, "v": "3"})
        return parse_qs(urlsplit(answer.headers["location"]).query)["request_token"][0]

    async def sign_in(self) -> dict[str, Any]:
        token = await self.request_token()
        answer = await self.http.post(f"{self.rest}/session/token", data={
            "api_key": KEY, "request_token": token, "checksum": hashlib.sha256((KEY + token + SECRET).encode()).hexdigest()})
        data = answer.json()["data"]
        self.headers = {"Authorization": f"token {KEY}:{data['access_token']}", "X-Kite-Version": "3"}
        return data

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, self.rest + path, headers=self.headers, **kwargs)

    async def place(self, variety: str = "regular", **form: Any) -> httpx.Response:
        base = {"exchange": "NSE", "tradingsymbol": "INFY", "transaction_type": "BUY", "order_type": "LIMIT", "quantity": 1,
                "product": "CNC"}
        return await self.call("POST", f"/orders/{variety}", data={**base, **form})

    def touch(self, symbol: str = "INFY", market: str = "NSE") -> tuple[float, float]:
        depth = self.emu.exchange.depth(market, symbol, 1)
        return float(depth.bids[0][0]), float(depth.asks[0][0])


@pytest.fixture
async def kite() -> AsyncIterator[Kite]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=3, history_minutes=200)) as emu:
        async with httpx.AsyncClient() as http:
            k = Kite(emu, http)
            k.state.limits.set("orders", (100, 1.0))
            k.state.limits.set("other", (100, 1.0))
            await k.sign_in()
            yield k


def error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()
    assert body["status"] == "error" and body["data"] is None
    return answer.status_code, body["error_type"], body["message"]


async def test_login_redirect_and_session(kite: Kite) -> None:
    answer = await kite.http.get(f"{kite.login}/connect/login",
                                 params={"api_key": KEY, "v": "3", "redirect_params": "next=chain&x=1"})
    assert answer.status_code == 302
    url = urlsplit(answer.headers["location"])
    query = parse_qs(url.query)
    assert url.path == "/callback" and query["status"] == ["success"] and query["next"] == ["chain"] and query["x"] == ["1"]
    assert "request_token" in (await kite.http.get(answer.headers["location"])).text
    assert error(await kite.http.get(f"{kite.login}/connect/login", params={"api_key": "nope", "v": "3"}))[:2] == (
        400, "InputException")
    kite.state.set_redirect(KEY, "http://127.0.0.1:9/cb?app=1")
    moved = await kite.http.get(f"{kite.login}/connect/login", params={"api_key": KEY, "v": "3"})
    assert moved.headers["location"].startswith("http://127.0.0.1:9/cb?app=1&request_token=")
    token = await kite.request_token()
    bad = await kite.http.post(f"{kite.rest}/session/token", data={"api_key": KEY, "request_token": token, "checksum": "0" * 64})
    assert error(bad) == (403, "TokenException", "Invalid `checksum`.")
    session = await kite.sign_in()
    assert session["user_id"] == "DEMO01" and session["api_key"] == KEY and len(session["login_time"]) == 19


async def test_auth_header_and_logout(kite: Kite) -> None:
    assert (await kite.call("GET", "/user/profile")).json()["data"]["user_id"] == "DEMO01"
    token = kite.headers["Authorization"].split(":")[1]
    for header in ({}, {"Authorization": f"Bearer {KEY}:{token}"}, {"Authorization": f"token other:{token}"}):
        answer = await kite.http.get(kite.rest + "/user/profile", headers=header)
        assert error(answer)[:2] == (403, "TokenException")
    logout = await kite.call("DELETE", "/session/token", params={"api_key": KEY, "access_token": token})
    assert logout.json() == {"status": "success", "data": True}
    assert error(await kite.call("GET", "/user/profile"))[:2] == (403, "TokenException")
    await kite.sign_in()
    kite.state.faults.arm("expire_token")
    assert error(await kite.call("GET", "/orders"))[:2] == (403, "TokenException")
    assert error(await kite.call("GET", "/orders"))[:2] == (403, "TokenException")  # until a new session
    await kite.sign_in()
    assert (await kite.call("GET", "/orders")).status_code == 200


async def test_unknown_routes_keep_the_envelope(kite: Kite) -> None:
    assert error(await kite.call("GET", "/nothing/here"))[:2] == (404, "GeneralException")
    assert error(await kite.call("PATCH", "/orders"))[:2] == (405, "GeneralException")


INPUT_ERRORS = [
    ({"order_type": "MARKET"}, "Market orders without market protection are not allowed via API"),
    ({"order_type": "SL-M", "trigger_price": "1000", "market_protection": "0"}, "market protection"),
    ({"price": "1500.03"}, "Tick size for this script is 0.05"),
    ({"price": "1500", "tag": "x" * 21}, "`tag`"),
    ({"price": "1500", "validity": "TTL"}, "validity_ttl"),
    ({"price": "1500", "validity": "GTC"}, "Invalid `validity`"),
    ({"price": "1500", "product": "BO"}, "Invalid `product`"),
    ({"order_type": "LIMIT"}, "Invalid `price`"),
    ({"order_type": "SL", "price": "1500"}, "Invalid `trigger_price`"),
    ({"price": "1500", "quantity": "0"}, "greater than zero"),
    ({"price": "1500", "quantity": "abc"}, "expected integer"),
    ({"price": "1500", "market_protection": "yes", "order_type": "MARKET"}, "failed to decode market_protection"),
    ({"price": "1500", "tradingsymbol": "NOPE"}, "NSE:NOPE"),
    ({"price": "1500", "exchange": "NFO", "tradingsymbol": "NIFTY 50"}, "NFO:NIFTY 50"),
    ({"price": "1500", "disclosed_quantity": "5"}, "Disclosed quantity"),
]


async def test_input_exceptions(kite: Kite) -> None:
    for form, message in INPUT_ERRORS:
        status, error_type, text = error(await kite.place(**form))
        assert (status, error_type) == (400, "InputException") and message in text, (form, text)


async def test_lot_sizes_varieties_and_indices(kite: Kite) -> None:
    future = next(m for m in kite.emu.exchange.markets() if m.market == "NFO" and m.symbol.endswith("FUT"))
    answer = await kite.place(exchange="NFO", tradingsymbol=future.symbol, quantity=10, price="25000", product="NRML")
    assert f"multiple of lot size ({future.instrument.lot_size})" in error(answer)[2]
    assert "variety" in error(await kite.place("bo", price="1500"))[2]
    assert "Auction" in error(await kite.place("auction", price="1500"))[2]
    assert "2 to 10 legs" in error(await kite.place("iceberg", price="1500", quantity=10, iceberg_legs=11, iceberg_quantity=1))[2]
    index = await kite.place(exchange="NSE", tradingsymbol="NIFTY 50", price="25000")
    order_id = index.json()["data"]["order_id"]  # accepted by the API, refused by the exchange: an order with REJECTED
    history = (await kite.call("GET", f"/orders/{order_id}")).json()["data"]
    assert [h["status"] for h in history] == ["PUT ORDER REQ RECEIVED", "VALIDATION PENDING", "OPEN PENDING", "REJECTED"]
    assert "index" in history[-1]["status_message"]


async def test_order_life_modify_limits_and_trades(kite: Kite) -> None:
    bid, ask = kite.touch()
    order_id = (await kite.place(price=f"{bid - 20:.2f}", quantity=4, tag="SQA1")).json()["data"]["order_id"]
    for n in range(25):
        modified = await kite.call("PUT", f"/orders/regular/{order_id}", data={"price": f"{bid - 20 - (n % 5) * 0.05:.2f}"})
        assert modified.json()["data"]["order_id"] == order_id
    refused = await kite.call("PUT", f"/orders/regular/{order_id}", data={"price": f"{bid - 20:.2f}"})
    assert error(refused) == (400, "OrderException", "Maximum allowed order modifications exceeded.")
    wrong_variety = await kite.call("DELETE", f"/orders/amo/{order_id}")
    assert error(wrong_variety)[1] == "InputException"
    assert (await kite.call("DELETE", f"/orders/regular/{order_id}")).json()["data"] == {"order_id": order_id}
    again = await kite.call("DELETE", f"/orders/regular/{order_id}")
    assert error(again) == (400, "OrderException", "Order cannot be cancelled as it is cancelled.")
    history = (await kite.call("GET", f"/orders/{order_id}")).json()["data"]
    assert history[-1]["status"] == "CANCELLED" and history[-1]["cancelled_quantity"] == 4 and history[-1]["modified"] is True
    assert {"MODIFY VALIDATION PENDING", "MODIFY PENDING", "CANCEL PENDING"} <= {h["status"] for h in history}
    filled = (await kite.place(price=f"{ask + 1:.2f}", quantity=3, tag="SQA2")).json()["data"]["order_id"]
    trades = (await kite.call("GET", f"/orders/{filled}/trades")).json()["data"]
    assert sum(t["quantity"] for t in trades) == 3 and {t["order_id"] for t in trades} == {filled}
    assert {t["trade_id"] for t in trades} <= {t["trade_id"] for t in (await kite.call("GET", "/trades")).json()["data"]}
    book = {o["order_id"]: o for o in (await kite.call("GET", "/orders")).json()["data"]}
    assert book[filled]["status"] == "COMPLETE" and book[filled]["tags"] == ["SQA2"] and book[filled]["pending_quantity"] == 0
    assert error(await kite.call("GET", "/orders/999"))[:2] == (400, "OrderException")


async def test_type_change_replaces_the_order_and_ioc_and_ttl(kite: Kite) -> None:
    bid, _ = kite.touch()
    order_id = (await kite.place(price=f"{bid - 30:.2f}", quantity=2)).json()["data"]["order_id"]
    await kite.call("PUT", f"/orders/regular/{order_id}", data={"order_type": "MARKET", "market_protection": "-1"})
    await asyncio.sleep(0.05)
    order = (await kite.call("GET", f"/orders/{order_id}")).json()["data"][-1]
    assert (order["status"], order["order_type"], order["filled_quantity"]) == ("COMPLETE", "MARKET", 2)
    ioc = (await kite.place(price=f"{bid - 30:.2f}", validity="IOC")).json()["data"]["order_id"]
    assert (await kite.call("GET", f"/orders/{ioc}")).json()["data"][-1]["status"] == "CANCELLED"
    kite.state.ttl_minute_s = 0.05
    ttl = (await kite.place(price=f"{bid - 30:.2f}", validity="TTL", validity_ttl=1)).json()["data"]["order_id"]
    assert (await kite.call("GET", f"/orders/{ttl}")).json()["data"][-1]["status"] == "OPEN"
    await asyncio.sleep(0.2)
    assert (await kite.call("GET", f"/orders/{ttl}")).json()["data"][-1]["status"] == "CANCELLED"


async def test_cover_order_exit_and_amo_in_market_hours(kite: Kite) -> None:
    bid, _ = kite.touch()
    entry = (await kite.place("co", order_type="MARKET", market_protection="-1", trigger_price=f"{bid - 25:.2f}",
                              product="MIS")).json()["data"]["order_id"]
    await asyncio.sleep(0.05)
    book = (await kite.call("GET", "/orders")).json()["data"]
    leg = next(o for o in book if o["parent_order_id"] == entry)
    assert (leg["status"], leg["transaction_type"], leg["order_type"]) == ("TRIGGER PENDING", "SELL", "SL-M")
    assert error(await kite.call("PUT", f"/orders/co/{leg['order_id']}", data={"trigger_price": "1.03"}))[1] == "InputException"
    await kite.call("DELETE", f"/orders/co/{leg['order_id']}", params={"parent_order_id": entry})
    await asyncio.sleep(0.05)
    exited = (await kite.call("GET", f"/orders/{leg['order_id']}")).json()["data"][-1]
    assert (exited["status"], exited["filled_quantity"]) == ("COMPLETE", 1)
    positions = (await kite.call("GET", "/portfolio/positions")).json()["data"]
    assert [p["quantity"] for p in positions["net"] if p["product"] == "MIS"] == [0]
    amo = (await kite.place("amo", price=f"{bid:.2f}")).json()["data"]["order_id"]
    rejected = (await kite.call("GET", f"/orders/{amo}")).json()["data"][-1]
    assert rejected["status"] == "REJECTED" and "market hours" in rejected["status_message"]


async def test_amo_waits_for_the_open() -> None:
    clock = [datetime(2026, 3, 14, 20, 0, tzinfo=IST).timestamp()]  # a Saturday evening
    exchange = Exchange(seed=2, clock_ns=lambda: int(clock[0] * 1e9), nse_always_open=False, history_minutes=60)
    async with EmulatorServer(host="127.0.0.1", exchange=exchange) as emu, httpx.AsyncClient() as http:
        kite = Kite(emu, http)
        kite.state.limits.set("other", (100, 1.0))
        await kite.sign_in()
        order_id = (await kite.place("amo", price="1500")).json()["data"]["order_id"]
        assert (await kite.call("GET", f"/orders/{order_id}")).json()["data"][-1]["status"] == "AMO REQ RECEIVED"
        modified = await kite.call("PUT", f"/orders/amo/{order_id}", data={"price": "1499"})
        assert modified.status_code == 200
        clock[0] = datetime(2026, 3, 16, 9, 30, tzinfo=IST).timestamp()  # Monday, market open
        for _ in range(30):
            await asyncio.sleep(0.1)
            last = (await kite.call("GET", f"/orders/{order_id}")).json()["data"][-1]
            if last["status"] != "AMO REQ RECEIVED":
                break
        assert last["status"] in ("OPEN", "COMPLETE") and last["price"] == 1499


async def test_rate_limits_answer_429(kite: Kite) -> None:
    assert (await kite.call("GET", "/quote", params={"i": "NSE:INFY"})).status_code == 200
    assert error(await kite.call("GET", "/quote/ltp", params={"i": "NSE:INFY"})) == (429, "NetworkException", "Too many requests")
    kite.state.limits.set("orders", (10, 1.0), (200, 60.0))
    bid, _ = kite.touch()
    answers = [await kite.place(price=f"{bid - 40:.2f}") for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429]


async def test_faults_switchboard(kite: Kite) -> None:
    armed = await kite.http.post(kite.rest + "/_emulator/faults", json={"name": "http_429", "count": 2, "params": {}})
    assert armed.json()["http_429"]["remaining"] == 2
    assert (await kite.call("GET", "/orders")).status_code == 429
    await kite.http.delete(kite.rest + "/_emulator/faults", params={"name": "http_429"})
    assert (await kite.http.get(kite.rest + "/_emulator/faults")).json() == {}
    assert (await kite.call("GET", "/orders")).status_code == 200
    kite.state.faults.arm("http_5xx_after_order", status=502)
    bid, _ = kite.touch()
    assert error(await kite.place(price=f"{bid - 40:.2f}", tag="SQ5XX"))[:2] == (502, "DataException")
    assert [o["tag"] for o in (await kite.call("GET", "/orders")).json()["data"]] == ["SQ5XX"]  # placed all the same


async def test_instruments_dump(kite: Kite) -> None:
    answer = await kite.http.get(kite.rest + "/instruments", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-type"].startswith("text/csv") and answer.headers.get("content-encoding") == "gzip"
    lines = answer.text.splitlines()
    assert lines[0] == "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size," \
                       "instrument_type,segment,exchange"
    rows = {line.split(",")[2]: line.split(",") for line in lines[1:]}
    assert rows["NIFTY 50"][:3] == ["256265", "1001", "NIFTY 50"] and rows["NIFTY 50"][7:] == ["0.0", "0", "EQ", "INDICES", "NSE"]
    assert rows["INFY"][9:] == ["EQ", "NSE", "NSE"] and rows["INFY"][7:9] == ["0.05", "1"]
    option = next(r for s, r in rows.items() if s.startswith("NIFTY") and s.endswith("CE"))
    assert option[9:] == ["CE", "NFO-OPT", "NFO"] and option[3] == "NIFTY" and option[8] == "75"
    assert all(int(r[0]) == int(r[1]) * 256 + {"NSE": 1, "NFO": 2, "INDICES": 9}[r[10] if r[10] == "INDICES" else r[11]]
               for r in rows.values())
    nfo = (await kite.http.get(kite.rest + "/instruments/NFO")).text.splitlines()
    assert len(nfo) > 100 and all(line.endswith(",NFO") for line in nfo[1:])


async def test_historical_candles(kite: Kite) -> None:
    kite.state.limits.set("historical", (100, 1.0))
    now = datetime.fromtimestamp(kite.emu.exchange.now_ns() / 1e9, IST)
    params = {"from": (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"), "to": now.strftime("%Y-%m-%d %H:%M:%S"), "oi": "1"}
    future = next(m for m in kite.emu.exchange.markets() if m.market == "NFO" and m.symbol.endswith("FUT"))
    answer = await kite.call("GET", f"/instruments/historical/{future.instrument.venue_token}/15minute", params=params)
    candles = answer.json()["data"]["candles"]
    assert 8 <= len(candles) <= 9 and all(len(c) == 7 for c in candles)
    assert candles[0][0].endswith("+0530") and datetime.strptime(candles[0][0], "%Y-%m-%dT%H:%M:%S%z").minute % 15 == 0
    plain = await kite.call("GET", "/instruments/historical/408065/minute", params={**params, "oi": "0"})
    assert all(len(c) == 6 for c in plain.json()["data"]["candles"])
    too_long = {**params, "from": (now - timedelta(days=61)).strftime("%Y-%m-%d %H:%M:%S")}
    limit = await kite.call("GET", "/instruments/historical/408065/minute", params=too_long)
    assert error(limit) == (400, "InputException", "interval exceeds max limit: 60 days")
    assert "interval" in error(await kite.call("GET", "/instruments/historical/408065/7minute", params=params))[2]


async def test_quote_shapes(kite: Kite) -> None:
    kite.state.limits.set("quote", (100, 1.0))
    keys = ["NSE:INFY", "NSE:NIFTY 50", "NSE:NOPE"]
    quote = (await kite.call("GET", "/quote", params=[("i", k) for k in keys])).json()["data"]
    assert set(quote) == {"NSE:INFY", "NSE:NIFTY 50"}  # unknown instruments are left out
    infy = quote["NSE:INFY"]
    assert infy["instrument_token"] == 408065 and len(infy["depth"]["buy"]) == len(infy["depth"]["sell"]) == 5
    assert infy["depth"]["buy"][0]["price"] < infy["depth"]["sell"][0]["price"]
    assert infy["lower_circuit_limit"] < infy["last_price"] < infy["upper_circuit_limit"]
    assert set(infy["ohlc"]) == {"open", "high", "low", "close"}
    too_many = await kite.call("GET", "/quote/ohlc", params=[("i", "NSE:INFY")] * 1001)
    assert error(too_many) == (400, "InputException", "Too many instruments: at most 1000 per request.")
