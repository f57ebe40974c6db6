"""Shared pieces of the chart tests: instruments, synthetic bar series and a recording OrderEntry."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest

from core.domain import ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus, Venue
from core.marketdata.series import BarSeries

BTC = Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.001"),
                 quote_currency="USDT")
NIFTY = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY24MAYFUT"), InstrumentKind.FUTURE, "NFO", D("0.05"), D("25"))
T0 = 1_714_521_600 * 10**9  # 2024-05-01 00:00 UTC
MINUTE = 60 * 10**9


def random_walk(n: int, seed: int = 7, start_ns: int = T0, step_ns: int = MINUTE) -> BarSeries:
    """n one-minute bars of a random walk around 100."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.2, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 0.1, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.1, n)
    volume = rng.uniform(1, 10, n)
    series = BarSeries()
    for row in zip((start_ns + np.arange(n) * step_ns).tolist(), open_.tolist(), high.tolist(), low.tolist(),
                   close.tolist(), volume.tolist()):
        series.append(*row)
    return series


@pytest.fixture
def walk() -> Callable[..., BarSeries]:
    return random_walk


@pytest.fixture(scope="session")
def million() -> BarSeries:
    return random_walk(1_000_000, seed=11)


class FakeEntry:
    """Records every trading call a panel makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def place(self, request: OrderRequest) -> Order:
        self.calls.append(("place", request))
        return Order(ClientOrderId("p1"), request, status=OrderStatus.OPEN)

    async def cancel(self, client_order_id: str) -> None:
        self.calls.append(("cancel", client_order_id))

    async def modify(self, client_order_id: str, price: D | None = None, quantity: D | None = None,
                     trigger_price: D | None = None) -> None:
        self.calls.append(("modify", (client_order_id, price)))

    def working_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return []

    def preview(self, request: OrderRequest) -> list[str]:
        return []


@pytest.fixture
def entry() -> FakeEntry:
    return FakeEntry()
