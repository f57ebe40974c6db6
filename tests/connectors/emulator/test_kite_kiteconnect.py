"""Fidelity of the emulator's Kite REST API, refereed by the official kiteconnect client (run in a thread:
it is blocking, the emulator runs on this test's loop)."""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kex

from connectors.emulator.exchange import Exchange
from connectors.emulator.kite.state import kite_state
from connectors.emulator.server import EmulatorServer

KEY, SECRET = "demo-kite-key", "demo-kite-secret"
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture
async def emu() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=4, history_minutes=200)) as server:
        limits = kite_state(server.exchange).limits
        for kind in ("quote", "historical", "orders", "other"):
            limits.set(kind, (1000, 1.0))  # kiteconnect does not pace itself; the limits have their own tests
        yield server


def logged_in(emu: EmulatorServer) -> tuple[KiteConnect, dict[str, Any]]:
    kite = KiteConnect(api_key=KEY, root=emu.endpoints["kite_rest"])
    login_page = kite.login_url().replace("https://kite.zerodha.com", emu.endpoints["kite_login"])
    redirect = requests.get(login_page, allow_redirects=False, timeout=5).headers["location"]
    session = kite.generate_session(parse_qs(urlsplit(redirect).query)["request_token"][0], api_secret=SECRET)
    return kite, session


async def test_session_profile_and_margins(emu: EmulatorServer) -> None:
    def scenario() -> dict[str, Any]:
        kite, session = logged_in(emu)
        return {"session": session, "profile": kite.profile(), "margins": kite.margins(), "equity": kite.margins("equity")}

    out = await asyncio.to_thread(scenario)
    session = out["session"]
    assert isinstance(session["login_time"], dt.datetime) and session["user_id"] == "DEMO01" and session["access_token"]
    assert {"user_type", "email", "user_name", "broker", "exchanges", "products", "order_types", "public_token"} <= set(session)
    assert out["profile"]["user_id"] == "DEMO01" and "access_token" not in out["profile"]
    assert set(out["margins"]) == {"equity", "commodity"}
    equity = out["equity"]
    assert equity["enabled"] is True and equity["net"] == 1_000_000
    assert {"cash", "opening_balance", "live_balance", "collateral", "intraday_payin"} <= set(equity["available"])
    assert {"debits", "exposure", "m2m_realised", "span", "option_premium"} <= set(equity["utilised"])


async def test_orders_trades_positions(emu: EmulatorServer) -> None:
    infy_bid = float(emu.exchange.depth("NSE", "INFY", 1).bids[0][0])

    def scenario() -> dict[str, Any]:
        kite, _ = logged_in(emu)
        out: dict[str, Any] = {}
        limit_id = kite.place_order(kite.VARIETY_REGULAR, "NSE", "INFY", kite.TRANSACTION_TYPE_BUY, 5, kite.PRODUCT_CNC,
                                    kite.ORDER_TYPE_LIMIT, price=round(infy_bid - 30, 2), tag="SQKC1")
        out["modified"] = kite.modify_order(kite.VARIETY_REGULAR, limit_id, quantity=6, price=round(infy_bid - 31, 2))
        out["cancelled"] = kite.cancel_order(kite.VARIETY_REGULAR, limit_id)
        out["history"] = kite.order_history(limit_id)
        market_id = kite.place_order(kite.VARIETY_REGULAR, "NSE", "INFY", kite.TRANSACTION_TYPE_BUY, 3, kite.PRODUCT_MIS,
                                     kite.ORDER_TYPE_MARKET, market_protection=-1)
        out["ids"] = (limit_id, market_id)
        out["orders"] = kite.orders()
        out["trades"] = kite.trades()
        out["order_trades"] = kite.order_trades(market_id)
        out["positions"] = kite.positions()
        out["holdings"] = kite.holdings()
        out["margin_calc"] = kite.order_margins([{"exchange": "NSE", "tradingsymbol": "INFY", "transaction_type": "BUY",
                                                  "variety": "regular", "product": "CNC", "order_type": "LIMIT", "quantity": 2,
                                                  "price": 1500, "trigger_price": 0}])
        try:
            kite.place_order(kite.VARIETY_REGULAR, "NSE", "INFY", "BUY", 1, "CNC", "MARKET")
        except kex.InputException as exc:
            out["no_protection"] = (str(exc), exc.code)
        return out

    out = await asyncio.to_thread(scenario)
    limit_id, market_id = out["ids"]
    assert out["modified"] == out["cancelled"] == limit_id
    history = out["history"]
    assert history[-1]["status"] == "CANCELLED" and history[-1]["quantity"] == 6 and history[-1]["tag"] == "SQKC1"
    assert isinstance(history[-1]["order_timestamp"], dt.datetime)
    orders = {o["order_id"]: o for o in out["orders"]}
    done = orders[market_id]
    assert (done["status"], done["filled_quantity"], done["pending_quantity"], done["product"]) == ("COMPLETE", 3, 0, "MIS")
    assert done["average_price"] > 0 and done["exchange_order_id"] and done["market_protection"] == -1
    for field in ("placed_by", "variety", "validity", "instrument_token", "disclosed_quantity", "trigger_price", "meta", "guid"):
        assert field in done
    assert sum(t["quantity"] for t in out["order_trades"]) == 3
    assert {t["trade_id"] for t in out["order_trades"]} <= {t["trade_id"] for t in out["trades"]}
    assert isinstance(out["trades"][0]["fill_timestamp"], dt.datetime)
    net = [p for p in out["positions"]["net"] if p["tradingsymbol"] == "INFY"]
    assert len(net) == 1 and net[0]["quantity"] == 3 and net[0]["product"] == "MIS" and "m2m" in net[0]
    assert {h["tradingsymbol"] for h in out["holdings"]} == {"INFY", "TCS"}
    assert out["margin_calc"][0]["total"] == 3000
    message, code = out["no_protection"]
    assert code == 400 and "market protection" in message


async def test_instruments_quotes_history(emu: EmulatorServer) -> None:
    now = dt.datetime.now(IST).replace(tzinfo=None)  # Kite reads these times as IST

    def scenario() -> dict[str, Any]:
        kite, _ = logged_in(emu)
        return {"all": kite.instruments(), "nfo": kite.instruments("NFO"),
                "quote": kite.quote(["NSE:INFY", "NSE:NIFTY 50"]), "ohlc": kite.ohlc("NSE:INFY"), "ltp": kite.ltp(["NSE:INFY"]),
                "candles": kite.historical_data(408065, now - dt.timedelta(hours=1), now, "minute"),
                "oi": kite.historical_data(int(next(m.instrument.venue_token for m in emu.exchange.markets()
                                                    if m.symbol.endswith("FUT"))), now - dt.timedelta(hours=1), now, "5minute",
                                           oi=True)}

    out = await asyncio.to_thread(scenario)
    rows = {(r["exchange"], r["tradingsymbol"]): r for r in out["all"]}
    infy = rows[("NSE", "INFY")]
    assert (infy["instrument_token"], infy["lot_size"], infy["tick_size"], infy["instrument_type"]) == (408065, 1, 0.05, "EQ")
    option = next(r for r in out["nfo"] if r["instrument_type"] == "PE")
    assert isinstance(option["expiry"], dt.date) and option["strike"] > 0 and option["segment"] == "NFO-OPT"
    quote = out["quote"]["NSE:INFY"]
    assert isinstance(quote["timestamp"], dt.datetime) and len(quote["depth"]["buy"]) == 5
    assert out["quote"]["NSE:NIFTY 50"]["instrument_token"] == 256265
    assert set(out["ohlc"]["NSE:INFY"]["ohlc"]) == {"open", "high", "low", "close"}
    assert out["ltp"]["NSE:INFY"]["last_price"] > 0
    candles = out["candles"]
    assert 55 <= len(candles) <= 61 and isinstance(candles[0]["date"], dt.datetime)
    assert candles[0]["date"].utcoffset() == dt.timedelta(hours=5, minutes=30) and "oi" not in candles[0]
    assert all("oi" in c for c in out["oi"])


async def test_errors_reach_kiteconnect_as_its_exceptions(emu: EmulatorServer) -> None:
    state = kite_state(emu.exchange)

    def scenario() -> dict[str, Any]:
        kite, _ = logged_in(emu)
        expired: list[bool] = []
        kite.set_session_expiry_hook(lambda: expired.append(True))
        out: dict[str, Any] = {}
        state.faults.arm("http_429")
        try:
            kite.orders()
        except kex.NetworkException as exc:
            out["429"] = exc.code
        state.faults.arm("expire_token")
        try:
            kite.positions()
        except kex.TokenException as exc:
            out["403"] = exc.code
        out["hook"] = expired
        try:
            KiteConnect(api_key=KEY, access_token="bogus", root=emu.endpoints["kite_rest"]).order_history("1")
        except kex.TokenException:
            out["bogus"] = True
        kite, _ = logged_in(emu)
        try:
            kite.order_history("12345")
        except kex.OrderException as exc:
            out["missing"] = exc.code
        return out

    out = await asyncio.to_thread(scenario)
    assert out == {"429": 429, "403": 403, "hook": [True], "bogus": True, "missing": 400}
