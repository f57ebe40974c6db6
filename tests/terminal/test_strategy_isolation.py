"""Hostile strategy scripts run in the host process and cannot take the terminal down or read secrets."""
from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from core.bus import EventBus
from core.domain import (ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus, Tick, Venue)
from core.instruments import InstrumentCatalog
from core.loop_monitor import LoopLagMonitor
from core.marketdata.state import MarketState
from terminal.engine_channel import EngineChannel
from terminal.strategy_manager import StrategyManager

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
CATALOG = InstrumentCatalog([Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT")])
CANARY = "canary-secret-7f3a9c"

HEADER = "from decimal import Decimal\nfrom core.strategy import Strategy, Param\n"
SCRIPTS = {
    "good": "class Good(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n"
            "    def on_tick(self, tick):\n        if not getattr(self, 'done', False):\n"
            "            self.done = True\n            self.ctx.buy(tick.instrument_id, Decimal('0.001'), Decimal('100'))\n",
    "spin": "class Spin(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n    def on_tick(self, tick):\n        while True:\n            pass\n",
    "raiser": "class Raiser(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n    def on_tick(self, tick):\n        raise RuntimeError('bad tick')\n",
    "exiter": "import os\nclass Exiter(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n    def on_tick(self, tick):\n        os._exit(3)\n",
    "bomb": "class Bomb(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n    def on_tick(self, tick):\n        self.x = bytearray(8 * 1024**3)\n",
    "snoop": "import os\nclass Snoop(Strategy):\n    instruments = ('BTCUSDT.BINANCE',)\n    def on_start(self):\n"
             "        self.log.info('env: %s', sorted(os.environ))\n        self.log.info('values: %s', ' '.join(os.environ.values()))\n",
}


class Entry:
    def __init__(self) -> None:
        self.placed: list[OrderRequest] = []

    async def place(self, request: OrderRequest) -> Order:
        self.placed.append(request)
        return Order(ClientOrderId(f"SQ{len(self.placed)}"), request, status=OrderStatus.OPEN)

    async def cancel(self, client_order_id: str) -> None: ...
    async def modify(self, client_order_id: str, **_: Any) -> None: ...
    def working_orders(self, instrument_id: Any = None) -> list[Order]:
        return []

    def preview(self, request: OrderRequest) -> list[str]:
        return []


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BINANCE_API_SECRET", CANARY)
    for name, body in SCRIPTS.items():
        (tmp_path / f"{name}.py").write_text(HEADER + body)
    bus = EventBus()
    entry = Entry()
    channel = EngineChannel(bus, MarketState(bus), CATALOG, entry, heartbeat_timeout=1.5)
    await channel.start()
    manager = StrategyManager(channel, max_restarts=5, memory_limit=1024**3)
    await manager.start()
    monitor = LoopLagMonitor(interval=0.02)
    monitor.start()
    stop = asyncio.Event()

    async def feed() -> None:
        price = 100
        while not stop.is_set():
            price += 1
            bus.publish(Tick(BTC, time.time_ns(), last_price=D(price)))
            await asyncio.sleep(0.05)

    feeder = asyncio.get_running_loop().create_task(feed())
    yield manager, entry, tmp_path, monitor
    stop.set()
    await feeder
    monitor.stop()
    await manager.stop()
    await channel.stop()


async def run_script(manager: StrategyManager, path: Path) -> Any:
    record = await manager.load(path)
    await wait_for(lambda: record.state == "LOADED")
    await manager.start_strategy(record.strategy_id)
    return record


async def test_a_good_strategy_trades_through_the_engine(rig: Any) -> None:
    manager, entry, folder, _ = rig
    await run_script(manager, folder / "good.py")
    await wait_for(lambda: entry.placed)
    assert entry.placed[0].source.startswith("strategy:good") and entry.placed[0].price == D("100")


async def test_hostile_scripts_leave_the_engine_responsive_and_the_secrets_unread(rig: Any) -> None:
    manager, entry, folder, monitor = rig
    raiser = await run_script(manager, folder / "raiser.py")
    await wait_for(lambda: raiser.state == "FAILED")
    assert "bad tick" in raiser.error and raiser.errors == 3

    bomb = await run_script(manager, folder / "bomb.py")
    await wait_for(lambda: bomb.state == "FAILED")
    assert "MemoryError" in bomb.error
    assert manager.restarts == 0  # the host survived both

    snoop = await run_script(manager, folder / "snoop.py")
    await wait_for(lambda: len(snoop.log) >= 2)
    text = "\n".join(snoop.log)
    assert CANARY not in text and "BINANCE_API_SECRET" not in text and "SQ_ENGINE_TOKEN" not in text

    spin = await run_script(manager, folder / "spin.py")
    await wait_for(lambda: manager.restarts == 1, timeout=15)
    assert spin.state == "FAILED" and "stopped responding" in spin.error

    exiter = await manager.load(folder / "exiter.py")
    await wait_for(lambda: exiter.state == "LOADED")
    await manager.start_strategy(exiter.strategy_id)
    await wait_for(lambda: manager.restarts == 2, timeout=15)
    assert exiter.state == "FAILED"

    good = await run_script(manager, folder / "good.py")  # the restarted host still works
    await wait_for(lambda: entry.placed)
    assert good.state == "RUNNING"
    assert monitor.percentile(95) < 100, "the engine loop stalled while strategies misbehaved"
    assert os.environ["BINANCE_API_SECRET"] == CANARY
