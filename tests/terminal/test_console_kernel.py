"""The console's kernel: a real IPython kernel process with the startup code, talking to the engine."""
from __future__ import annotations

import asyncio
import os
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import AsyncKernelManager

import terminal
from core.bus import EventBus
from core.domain import ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus, Venue
from core.instruments import InstrumentCatalog
from core.loop_monitor import LoopLagMonitor
from core.marketdata.state import MarketState
from terminal.engine_channel import EngineChannel
from widgets.console_panel import kernel_env

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
CATALOG = InstrumentCatalog([Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT")])
STARTUP = Path(terminal.__file__).with_name("console_startup.py")


class Entry:
    def __init__(self) -> None:
        self.placed: list[OrderRequest] = []

    async def place(self, request: OrderRequest) -> Order:
        self.placed.append(request)
        return Order(ClientOrderId("SQ1"), request, status=OrderStatus.OPEN)

    async def cancel(self, client_order_id: str) -> None: ...
    async def modify(self, client_order_id: str, **_: Any) -> None: ...
    def working_orders(self, instrument_id: Any = None) -> list[Order]:
        return []

    def preview(self, request: OrderRequest) -> list[str]:
        return []


async def run_cell(client: Any, code: str, timeout: float = 20) -> tuple[str, str]:
    """Execute code; return (status, collected text output)."""
    msg_id = client.execute(code)
    out: list[str] = []
    while True:
        msg = await asyncio.wait_for(client.get_iopub_msg(), timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            out.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            out.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = await asyncio.wait_for(client.get_shell_msg(), timeout)
    return reply["content"]["status"], "".join(out)


@pytest.mark.timeout(90)
async def test_console_evaluates_awaits_orders_and_survives_an_infinite_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITE_API_SECRET", "canary-kite-secret-991")
    bus = EventBus()
    entry = Entry()
    channel = EngineChannel(bus, MarketState(bus), CATALOG, entry)
    await channel.start()
    monitor = LoopLagMonitor(interval=0.02)
    monitor.start()
    km = AsyncKernelManager(kernel_name="python3")
    await km.start_kernel(env=kernel_env(channel.url, channel.token, tmp_path / "ipython"))
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        status, out = await run_cell(client, STARTUP.read_text())
        assert status == "ok", out
        assert "engine connected" in out
        status, out = await run_cell(client, "o = await buy('BTCUSDT', 0.5, 100)\nprint(o.client_order_id, o.request.source)")
        assert status == "ok" and "SQ1 console" in out, out
        assert entry.placed[0].quantity == D("0.5")
        status, out = await run_cell(client, "import os; print('KITE_API_SECRET' in os.environ, 'SQ_ENGINE_TOKEN' in os.environ)")
        assert "False False" in out
        status, out = await run_cell(client, "import numpy as np\noptions.price('bsm', True, 42.0, 40.0, 0.5, 0.2, rate=0.1)")
        assert status == "ok" and "4.7" in out, out
        monitor.samples.clear()  # measure only while the kernel spins
        loop_id = client.execute("while True:\n    pass")
        await asyncio.sleep(1.0)
        assert len(monitor.samples) > 20 and monitor.percentile(95) < 100  # our loop kept running while the kernel spun
        await km.interrupt_kernel()
        while True:
            reply = await asyncio.wait_for(client.get_shell_msg(), 20)
            if reply["parent_header"].get("msg_id") == loop_id:
                break
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        status, out = await run_cell(client, "1 + 1")
        assert status == "ok" and "2" in out
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)
        monitor.stop()
        await channel.stop()
    assert os.environ["KITE_API_SECRET"] == "canary-kite-secret-991"
