"""The whole order path on the emulator, without the window: engine -> venues -> OMS -> journal."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from core.bus import EventBus
from core.domain import InstrumentId, OrderRequest, OrderStatus, OrderType, Product, ProgressEvent, Side, TimeInForce, Venue
from core.errors import RiskRejected
from core.trading.events import ReconciliationReport
from terminal.engine import Engine
from terminal.settings import Settings
from terminal.venues import build_venues

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
INFY = InstrumentId(Venue.ZERODHA, "INFY")


async def until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


PROGRESS: list[ProgressEvent] = []


def engine(tmp_path: Path) -> tuple[Engine, list[ReconciliationReport]]:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    bus = EventBus()
    reports: list[ReconciliationReport] = []
    bus.subscribe(ReconciliationReport, reports.append)
    bus.subscribe(ProgressEvent, PROGRESS.append)
    return Engine(settings, settings.profile("demo"), bus, build_venues), reports


@pytest.mark.timeout(120)
async def test_orders_fill_persist_and_reconcile_across_a_restart(tmp_path: Path) -> None:
    first, _ = engine(tmp_path)
    await first.start(subscribe=[BTC, INFY])
    try:
        assert {Venue.BINANCE, Venue.BINANCE_USDM, Venue.ZERODHA} <= set(first.venues)
        assert PROGRESS and PROGRESS[-1].task == "Kite instruments" and PROGRESS[-1].fraction == 1.0  # the download reported
        await until(lambda: bool(first.holdings))  # Kite demat holdings reach the engine (Holdings panel)
        await until(lambda: first.market.last_price(BTC) is not None and first.market.last_price(INFY) is not None)
        last = first.market.last_price(BTC)
        assert last is not None
        far = (last * D("0.97")).quantize(D("0.01"))  # inside the 5 % price band, far from the touch
        resting = await first.entry.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price=far, time_in_force=TimeInForce.GTC))
        stack = first.stack
        assert stack is not None
        await until(lambda: stack.oms.order(resting.client_order_id).status is OrderStatus.OPEN)  # type: ignore[union-attr]
        assert [o.client_order_id for o in first.entry.working_orders(BTC)] == [resting.client_order_id]
        await first.entry.cancel(resting.client_order_id)
        await until(lambda: stack.oms.order(resting.client_order_id).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]

        bought = await first.entry.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.MARKET, time_in_force=TimeInForce.GTC))
        await until(lambda: stack.oms.order(bought.client_order_id).status is OrderStatus.FILLED)  # type: ignore[union-attr]
        await until(lambda: stack.portfolio.position_quantity(BTC) == D("0.001"))

        with pytest.raises(RiskRejected, match="price_band"):  # fat finger: 50 % away from the last price
            await first.entry.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price=(last * D("0.5")).quantize(D("0.01"))))
        assert any("price_band" in p for p in first.entry.preview(OrderRequest(BTC, Side.BUY, D("0.001"), price=(last * D("0.5")).quantize(D("0.01")))))

        infy_last = first.market.last_price(INFY)
        assert infy_last is not None
        price = first.catalog.get(INFY).round_limit_price(infy_last * D("0.97"), Side.BUY)
        kite = await first.entry.place(OrderRequest(INFY, Side.BUY, D("1"), OrderType.LIMIT, price=price, product=Product.CNC))
        await until(lambda: stack.oms.order(kite.client_order_id).status is OrderStatus.OPEN)  # type: ignore[union-attr]
        ids = (resting.client_order_id, bought.client_order_id, kite.client_order_id)
    finally:
        await first.stop()

    second, reports = engine(tmp_path)  # same data dir: same journal, a fresh emulator
    await second.start()
    try:
        stack = second.stack
        assert stack is not None
        assert {o.client_order_id for o in stack.oms.orders()} >= set(ids)  # nothing lost
        assert stack.oms.order(ids[1]).status is OrderStatus.FILLED  # type: ignore[union-attr]
        assert {r.venue for r in reports if r.ok} >= {Venue.BINANCE, Venue.ZERODHA}
    finally:
        await second.stop()
