"""Orders before market data: while an order is on its way to the wire, market-data readers let it go first.

Why: an order's send runs in a task, and on Python 3.11 a new task waits behind everything already queued
on the loop. When a trade triggers an order, the frames that came with it (the same trade on the other
books, their book and ticker updates) are queued on the other streams' readers, and handling them came
first: 75-120 us each on a just-woken CPU, and the slowest 1% of orders waited behind two
(tests/bench/bench_tick_to_order.py). httpcore then yields a few times before it writes, and each yield
let the readers in again. Now the OMS marks an order from submit until its request is written, and a
reader about to handle a frame yields the loop while any order is marked, so the send's steps come first.

The hold is bounded: HOLD_S after the last order began, frames flow whatever became of it (a connector
waiting out a rate limit must not stall the books). While a hold lasts, the waiting readers go round the
loop once per pass (a few microseconds each), for at most HOLD_S.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

HOLD_S = 0.005


class OrderPriority:
    """The count of orders on their way to the wire, and the readers' way to wait for them."""

    def __init__(self, hold_s: float = HOLD_S, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.hold_s = hold_s
        self._monotonic = monotonic
        self._pending = 0
        self._until = 0.0

    def begin(self) -> None:
        """An order was submitted: readers wait until end(), or hold_s from now at the latest."""
        self._pending += 1
        self._until = self._monotonic() + self.hold_s

    def end(self) -> None:
        """That order's request is written (or failed): once for each begin()."""
        self._pending = max(0, self._pending - 1)

    def active(self) -> bool:
        """Whether a reader should let an order go first now (cheap: called before every frame)."""
        return self._pending > 0 and self._monotonic() < self._until

    async def wait(self) -> None:
        """Yield the loop until no order is on its way (or the hold has run out)."""
        while self.active():
            await asyncio.sleep(0)


ORDER_PRIORITY = OrderPriority()  # the process's one: the OMS marks orders in it, the market-data readers wait on it
