"""What a panel needs to trade: the trading API's surface, as a protocol, plus a safe way to call it.

Panels never talk to connectors. Every click becomes a call on an OrderEntry (core's TradingApi
satisfies it), so it takes the one path: risk checks, OMS, journal, venue.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, Protocol

from core.domain import InstrumentId, Order, OrderRequest

log = logging.getLogger(__name__)


class OrderEntry(Protocol):
    async def place(self, request: OrderRequest) -> Order: ...
    async def cancel(self, client_order_id: str) -> Any: ...
    async def modify(self, client_order_id: str, price: Decimal | None = None, quantity: Decimal | None = None,
                     trigger_price: Decimal | None = None) -> Any: ...
    def working_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]: ...
    def preview(self, request: OrderRequest) -> list[str]:
        """Return what validation and risk would say about a request, without sending anything."""
        ...


def run_async(coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], None] | None = None) -> asyncio.Task[Any]:
    """Schedule a coroutine from a Qt slot; report its failure instead of losing it."""

    def done(task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.warning("%s", exc)
            if on_error is not None:
                on_error(exc)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # called from a Qt slot between loop iterations: the qasync loop is current
        loop = asyncio.get_event_loop_policy().get_event_loop()
    task = loop.create_task(coro)
    task.add_done_callback(done)
    return task
