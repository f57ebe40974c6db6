"""The official kiteconnect client (a test dependency only) works against the emulator unchanged."""
from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kiteconnect import KiteConnect
from kiteconnect.exceptions import InputException

from connectors.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def endpoints() -> Iterator[dict[str, str]]:
    box: dict[str, Any] = {}
    ready, stop = threading.Event(), threading.Event()

    def serve() -> None:
        async def main() -> None:
            async with EmulatorServer(seed=6) as emu:
                box["endpoints"] = emu.endpoints
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield box["endpoints"]
    stop.set()
    thread.join(10)


def session(endpoints: dict[str, str]) -> KiteConnect:
    location = httpx.get(endpoints["kite_login"] + "/connect/login?api_key=demo-kite-key&v=3", follow_redirects=False).headers["location"]
    request_token = location.split("request_token=")[1].split("&")[0]
    kite = KiteConnect(api_key="demo-kite-key", root=endpoints["kite_rest"])
    data = kite.generate_session(request_token, api_secret="demo-kite-secret")
    kite.set_access_token(data["access_token"])
    return kite


def test_official_client_session_to_historical(endpoints: dict[str, str]) -> None:
    kite = session(endpoints)
    assert kite.profile()["user_id"] == "DEMO01"
    assert kite.margins()["equity"]["net"] == 1_000_000.0
    instruments = kite.instruments()
    infy = next(i for i in instruments if i["tradingsymbol"] == "INFY")
    assert infy["instrument_token"] == 408065 and infy["segment"] == "NSE"
    option = next(i for i in instruments if i["instrument_type"] == "CE")
    assert option["lot_size"] == 75 and isinstance(option["expiry"], dt.date)
    quote = kite.quote(["NSE:INFY"])["NSE:INFY"]
    assert quote["last_price"] > 0 and len(quote["depth"]["buy"]) == 5
    with pytest.raises(InputException, match="market protection"):
        kite.place_order(variety="regular", exchange="NSE", tradingsymbol="INFY", transaction_type="BUY", quantity=1, product="CNC",
                         order_type="MARKET")
    order_id = kite.place_order(variety="regular", exchange="NSE", tradingsymbol="INFY", transaction_type="BUY", quantity=1,
                                product="CNC", order_type="LIMIT", price=1000, tag="FID1")
    kite.modify_order("regular", order_id, price=1000.5)
    kite.cancel_order("regular", order_id)
    assert [o["status"] for o in kite.order_history(order_id)][-1] == "CANCELLED"
    assert next(o for o in kite.orders() if o["order_id"] == order_id)["tag"] == "FID1"
    kite.place_order(variety="regular", exchange="NSE", tradingsymbol="INFY", transaction_type="BUY", quantity=2, product="MIS",
                     order_type="MARKET", market_protection=-1)
    assert kite.trades()[-1]["quantity"] == 2
    assert any(p["tradingsymbol"] == "INFY" and p["quantity"] == 2 for p in kite.positions()["net"])
    assert kite.holdings() == []
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=5, minutes=30))).replace(tzinfo=None)
    candles = kite.historical_data(408065, now - dt.timedelta(hours=3), now, "minute")
    assert len(candles) >= 100 and {"open", "high", "low", "close", "volume"} <= set(candles[-1])


def test_official_kiteticker_parses_full_mode_ticks(endpoints: dict[str, str]) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    kite = session(endpoints)
    child = Path(__file__).with_name("kiteticker_child.py")
    proc = subprocess.run([sys.executable, str(child), endpoints["kite_ws"], "demo-kite-key", kite.access_token, "408065"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tick = json.loads(proc.stdout.strip().splitlines()[-1])
    assert tick["instrument_token"] == 408065 and tick["mode"] == "full" and tick["tradable"] is True
    assert tick["last_price"] > 0 and len(tick["depth"]["buy"]) == 5 and tick["depth"]["buy"][0]["price"] > 0
    assert set(tick["ohlc"]) == {"open", "high", "low", "close"}
