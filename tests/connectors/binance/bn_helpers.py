"""Helpers for the Binance end-to-end tests: bounded waiting, event recording, book comparison."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from core.bus import EventBus
from core.domain import BookDelta, InstrumentId
from core.marketdata.book import OrderBook


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll predicate every 20 ms; fail the test if it is still false after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class Recorder:
    """Keeps every event of the given types published on the bus, in order."""

    def __init__(self, bus: EventBus, *types: type) -> None:
        self.events: list[Any] = []
        for t in types:
            bus.subscribe(t, self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class BusBook:
    """A core OrderBook fed only by the BookDeltas on the bus: what the terminal would show."""

    def __init__(self, bus: EventBus, instrument_id: InstrumentId) -> None:
        self.book = OrderBook(instrument_id)
        self.snapshots = 0
        bus.subscribe(BookDelta, self._apply, key=instrument_id)

    def _apply(self, delta: BookDelta) -> None:
        self.snapshots += delta.is_snapshot
        self.book.apply(delta)

    def levels(self, depth: int = 5000) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        view = self.book.view(depth)
        return list(view.bids), list(view.asks)


def exchange_levels(exchange: Any, market: str, symbol: str, depth: int = 5000) -> tuple[list[Any], list[Any]]:
    snap = exchange.depth(market, symbol, depth)
    return list(snap.bids), list(snap.asks)


async def settle_and_compare(exchange: Any, client: Any, shown: BusBook, market: str, symbol: str = "BTCUSDT",
                             timeout: float = 8.0) -> None:
    """Stop the simulation, wait until the client has the exchange's last update, and compare the books."""
    await exchange.stop()
    last = exchange.depth(market, symbol, 1).last_update_id
    await wait_for(lambda: client.market.books[symbol].update_id == last and not client.market.books[symbol].awaiting_snapshot,
                   timeout, what=f"the client at update {last}")
    await wait_for(lambda: shown.book.update_id == last, timeout, what="the bus book at the last update")
    assert shown.levels() == exchange_levels(exchange, market, symbol)


async def freeze(exchange: Any, markets: tuple[str, ...] = ("spot", "usdm"), symbol: str = "BTCUSDT") -> None:
    """Stop the market simulation at a moment when every named book has both sides.

    The simulated takers sometimes sweep a whole side of the thin synthetic book; a resting test order
    would then be the only liquidity left and get filled. Order tests run on a frozen market.
    """
    for _ in range(50):
        await exchange.stop()
        if all(exchange.depth(m, symbol, 1).bids and exchange.depth(m, symbol, 1).asks for m in markets):
            return
        await exchange.start()
        await asyncio.sleep(0.05)
    raise AssertionError("the simulated book never had both sides")


def away_from_market(exchange: Any, market: str, symbol: str, fraction: str, tick: Decimal) -> Decimal:
    """A price `fraction` times the last price, on the tick: for orders that rest and never fill."""
    last = exchange.summary(market, symbol).last_price
    return (last * Decimal(fraction) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
