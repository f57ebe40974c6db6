"""Paper mode: the real connectors stream the market, every order fills locally, the exchange sees none."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from core.backtest import PaperVenue
from core.bus import EventBus
from core.domain import InstrumentId, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, Venue
from terminal.engine import Engine
from terminal.settings import Settings
from terminal.venues import build_venues

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


async def until(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in time")
        await asyncio.sleep(0.05)


@pytest.mark.timeout(120)
async def test_paper_profile_fills_locally_against_live_data(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    engine = Engine(settings, settings.profile("paper"), EventBus(), build_venues)
    await engine.start(subscribe=[BTC])
    try:
        venue = engine.venues[Venue.BINANCE]
        assert isinstance(venue, PaperVenue)
        await until(lambda: engine.market.book(BTC).view(1).best_ask is not None, what="BTCUSDT book")
        ask = engine.market.book(BTC).view(1).best_ask
        assert ask is not None
        through = (ask * D("1.002")).quantize(D("0.01"))  # marketable: fills at the real ask, locally
        order = await engine.entry.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price=through,
                                                      time_in_force=TimeInForce.GTC))
        stack = engine.stack
        assert stack is not None
        await until(lambda: stack.oms.order(order.client_order_id).status is OrderStatus.FILLED, what="paper fill")  # type: ignore[union-attr]
        filled = stack.oms.order(order.client_order_id)
        assert filled is not None and filled.average_price is not None and filled.average_price <= through
        assert filled.venue_order_id.startswith("PAPER")
        assert [p.quantity for p in stack.portfolio.positions() if p.instrument_id == BTC] == [D("0.001")]
        usdt = {b.asset: b.free for b in await venue.balances()}["USDT"]
        assert usdt < D(10_000)  # paid from the paper balance
        real = venue._market_data  # the emulator's account never saw an order
        assert real is not None and await real.open_orders() == [] and await real.fills() == []
    finally:
        await engine.stop()
