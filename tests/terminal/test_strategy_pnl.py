"""A strategy in the host places a stop order through the engine channel (tagged with its id), and the
manager attributes the engine's fills of it to that strategy's position and P&L."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from core.bus import EventBus
from core.domain import (ClientOrderId, Fill, FillEvent, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest,
                         OrderStatus, OrderType, OrderUpdated, Side, Tick, Venue)
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from terminal.engine_channel import EngineChannel
from terminal.strategy_manager import StrategyManager

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
CATALOG = InstrumentCatalog([Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT")])
SCRIPT = """from decimal import Decimal
from core.strategy import Strategy


class StopBuyer(Strategy):
    instruments = ("BTCUSDT.BINANCE",)

    def on_tick(self, tick):
        if not getattr(self, "sent", False):
            self.sent = True
            self.ctx.buy(tick.instrument_id, Decimal("0.002"), trigger_price=tick.last_price + Decimal("5"))
"""


class Entry:
    def __init__(self) -> None:
        self.placed: list[Order] = []

    async def place(self, request: OrderRequest) -> Order:
        order = Order(ClientOrderId(f"SQ{len(self.placed) + 1}"), request, status=OrderStatus.OPEN)
        self.placed.append(order)
        return order

    async def cancel(self, client_order_id: str) -> None: ...

    def working_orders(self, instrument_id: Any = None) -> list[Order]:
        return []


async def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_host_strategys_stop_order_and_its_fills_become_its_pnl(tmp_path: Path) -> None:
    script = tmp_path / "stop_buyer.py"
    script.write_text(SCRIPT)
    bus = EventBus()
    market = MarketState(bus)
    entry = Entry()
    channel = EngineChannel(bus, market, CATALOG, entry)  # type: ignore[arg-type]
    await channel.start()
    manager = StrategyManager(channel)
    await manager.start()
    try:
        record = await manager.load(script)
        await wait_for(lambda: record.state == "LOADED")
        await manager.start_strategy(record.strategy_id)
        await wait_for(lambda: record.state == "RUNNING")
        while not entry.placed:
            bus.publish(Tick(BTC, time.time_ns(), last_price=D("100")))
            await asyncio.sleep(0.05)
        (order,) = entry.placed[:1]
        request = order.request
        assert request.order_type is OrderType.STOP_MARKET and request.trigger_price == D("105") and request.price is None
        assert request.source == f"strategy:{record.strategy_id}"

        bus.publish(OrderUpdated(order, None))
        other = Order(ClientOrderId("UI1"), OrderRequest(BTC, Side.BUY, D(1), OrderType.MARKET, source="ui"))
        bus.publish(OrderUpdated(other, None))
        bus.publish(FillEvent(Fill(order.client_order_id, "V1", "T1", BTC, Side.BUY, D("0.002"), D("105.5"), D("0.001"))))
        bus.publish(FillEvent(Fill(other.client_order_id, "V2", "T2", BTC, Side.BUY, D(1), D("105.5"))))
        bus.publish(Tick(BTC, time.time_ns(), last_price=D("110.5")))
        pnl = manager.pnl(record.strategy_id)
        (position,) = pnl.open_positions
        assert position.quantity == D("0.002") and position.average_price == D("105.5")
        assert pnl.unrealised == D("0.0100") and pnl.realised == 0 and pnl.fees == D("0.001")
    finally:
        await manager.stop()
        await channel.stop()
