from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from core.bus import EventBus
from core.domain import (ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus, OrderType,
                         OrderUpdated, Side, Tick, Venue)
from core.errors import RiskRejected
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from terminal.engine_channel import EngineChannel
from terminal.engine_client import EngineCallError, EngineClient

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
CATALOG = InstrumentCatalog([Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT")])


class Entry:
    def __init__(self) -> None:
        self.placed: list[OrderRequest] = []
        self.cancelled: list[str] = []
        self.reject_over = D("1")

    async def place(self, request: OrderRequest) -> Order:
        if request.quantity > self.reject_over:
            raise RiskRejected("max_order_quantity", f"{request.quantity} > limit {self.reject_over}")
        self.placed.append(request)
        return Order(ClientOrderId(f"SQ{len(self.placed)}"), request, status=OrderStatus.OPEN)

    async def cancel(self, client_order_id: str) -> None:
        self.cancelled.append(client_order_id)

    async def modify(self, client_order_id: str, **_: Any) -> None: ...

    def working_orders(self, instrument_id: Any = None) -> list[Order]:
        return [Order(ClientOrderId(f"SQ{i + 1}"), r, status=OrderStatus.OPEN) for i, r in enumerate(self.placed)]

    def preview(self, request: OrderRequest) -> list[str]:
        return []


@pytest.fixture
async def channel() -> Any:
    bus = EventBus()
    entry = Entry()
    chan = EngineChannel(bus, MarketState(bus), CATALOG, entry, heartbeat_timeout=0.6)
    await chan.start()
    yield chan, bus, entry
    await chan.stop()


async def test_console_places_through_the_entry_with_console_source(channel: Any) -> None:
    chan, _, entry = channel
    client = await EngineClient.connect(chan.url, chan.token, "console")
    order = await client.buy("BTCUSDT", "0.5", "90000.10")
    assert isinstance(order, Order) and order.client_order_id == "SQ1"
    (req,) = entry.placed
    assert (req.side, req.quantity, req.price, req.order_type, req.source) == (Side.BUY, D("0.5"), D("90000.10"), OrderType.LIMIT, "console")
    market = await client.sell("BTCUSDT.BINANCE", 0.25)
    assert market.request.order_type is OrderType.MARKET
    with pytest.raises(EngineCallError, match="max_order_quantity: 5 > limit 1"):
        await client.buy("BTCUSDT", "5")
    with pytest.raises(EngineCallError, match="matches 0 instruments"):
        await client.buy("NOPE", "1")
    await client.close()


async def test_bad_token_and_bad_hello_are_refused(channel: Any) -> None:
    chan, _, _ = channel
    with pytest.raises(EngineCallError):
        await EngineClient.connect(chan.url, "wrong-token", "console")
    async with connect(chan.url) as ws:
        await ws.send(json.dumps({"op": "place"}))
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert chan.sessions == []


async def test_malformed_and_unknown_requests_get_errors_and_the_session_survives(channel: Any) -> None:
    chan, _, _ = channel
    client = await EngineClient.connect(chan.url, chan.token, "console")
    await client.connection.send("{not json")
    with pytest.raises(EngineCallError, match="unknown operation 'launch'"):
        await client.call("launch")
    assert (await client.heartbeat())["revoked"] == ""
    await client.close()


async def test_a_silent_strategy_host_loses_the_right_to_trade(channel: Any) -> None:
    chan, _, entry = channel
    revoked: list[str] = []
    chan.on_revoked = lambda s: revoked.append(s.name)
    host = await EngineClient.connect(chan.url, chan.token, "strategy-host", "host-1")
    await host.buy("BTCUSDT", "0.1", strategy_id="ema")
    assert entry.placed[-1].source == "strategy:ema"
    await asyncio.sleep(1.5)  # no heartbeat for longer than the 0.6 s timeout
    assert revoked == ["host-1"]
    with pytest.raises(EngineCallError, match="trading revoked: strategy host missed its heartbeat"):
        await host.buy("BTCUSDT", "0.1", strategy_id="ema")
    assert await host.cancel_all() == 1  # cancels still pass
    await host.close()


async def test_events_are_pushed_to_subscribers(channel: Any) -> None:
    chan, bus, _ = channel
    client = await EngineClient.connect(chan.url, chan.token, "console")
    ticks: list[Tick] = []
    orders: list[Order] = []
    client.on("tick", ticks.append)
    client.on("order", orders.append)
    await client.call("subscribe", instruments=["BTCUSDT.BINANCE"])
    bus.publish(Tick(BTC, 1, last_price=D("100.5")))
    bus.publish(Tick(InstrumentId(Venue.BINANCE, "ETHUSDT"), 1, last_price=D("3")))
    order = Order(ClientOrderId("x"), OrderRequest(BTC, Side.SELL, D("1"), price=D("1")))
    bus.publish(OrderUpdated(order, None))
    for _ in range(50):
        if ticks and orders:
            break
        await asyncio.sleep(0.02)
    assert ticks == [Tick(BTC, 1, last_price=D("100.5"))] and orders == [order]
    await client.close()
