"""OrderHandle: what TradingApi.place returns at once, reading the live state from the OMS.

One request may become several orders (an F&O order split at the freeze quantity); the handle covers
them all. Each read returns the OMS's current frozen Order, so a reader never sees one half-updated.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Protocol

from core.domain import ClientOrderId, Order, OrderStatus


class OrderReader(Protocol):
    def order(self, client_order_id: str) -> Order | None: ...
    async def wait_for(self, client_order_id: str, predicate: Callable[[Order], bool],
                       timeout: float | None = None) -> Order: ...


class OrderHandle:
    """Live view of the order(s) made from one request."""

    def __init__(self, oms: OrderReader, client_order_ids: Sequence[ClientOrderId]) -> None:
        if not client_order_ids:
            raise ValueError("an order handle needs at least one order")
        self._oms = oms
        self.client_order_ids = tuple(client_order_ids)

    def __repr__(self) -> str:
        return f"OrderHandle({', '.join(self.client_order_ids)})"

    @property
    def client_order_id(self) -> ClientOrderId:
        """The first (usually only) order's id."""
        return self.client_order_ids[0]

    @property
    def orders(self) -> list[Order]:
        """Current state of every order of the request."""
        found = [self._oms.order(cid) for cid in self.client_order_ids]
        return [o for o in found if o is not None]

    @property
    def order(self) -> Order:
        """Current state of the first order."""
        return self.orders[0]

    @property
    def status(self) -> OrderStatus:
        """The first order's status (see statuses for split orders)."""
        return self.order.status

    @property
    def statuses(self) -> list[OrderStatus]:
        return [o.status for o in self.orders]

    @property
    def filled_quantity(self) -> Decimal:
        return sum((o.filled_quantity for o in self.orders), Decimal(0))

    @property
    def is_done(self) -> bool:
        """True once every order is terminal."""
        return all(o.status.is_terminal for o in self.orders)

    async def wait(self, predicate: Callable[[Order], bool], timeout: float | None = None) -> list[Order]:
        """Wait until every order satisfies predicate."""
        waits = [self._oms.wait_for(cid, predicate) for cid in self.client_order_ids]
        return list(await asyncio.wait_for(asyncio.gather(*waits), timeout))

    async def wait_done(self, timeout: float | None = None) -> list[Order]:
        """Wait until every order is terminal."""
        return await self.wait(lambda o: o.status.is_terminal, timeout)
