"""OrderPriority: active from begin() until every order has ended or the hold has run out; wait() yields
the loop meanwhile and lets other tasks (the order's send) run."""
from __future__ import annotations

import asyncio

from core.order_priority import OrderPriority


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_active_until_each_order_has_ended() -> None:
    clock = Clock()
    priority = OrderPriority(hold_s=0.005, monotonic=clock)
    assert not priority.active()
    priority.begin()
    priority.begin()
    priority.end()
    assert priority.active()  # one still on its way
    priority.end()
    assert not priority.active()
    priority.end()  # an extra end() cannot push the count below zero
    priority.begin()
    assert priority.active()


def test_the_hold_runs_out_whatever_became_of_the_order() -> None:
    clock = Clock()
    priority = OrderPriority(hold_s=0.005, monotonic=clock)
    priority.begin()
    clock.now += 0.004
    assert priority.active()
    clock.now += 0.002
    assert not priority.active()  # never ended: frames flow again after the hold
    priority.begin()  # a new order starts a new hold
    assert priority.active()


async def test_wait_lets_the_orders_task_run_first() -> None:
    priority = OrderPriority(hold_s=5.0)
    order: list[str] = []

    async def send() -> None:
        for _ in range(3):  # httpcore yields a few times before it writes
            await asyncio.sleep(0)
        order.append("written")
        priority.end()

    async def reader() -> None:
        await priority.wait()
        order.append("frame")

    priority.begin()
    reading = asyncio.get_running_loop().create_task(reader())  # queued before the send, as a reader is
    sending = asyncio.get_running_loop().create_task(send())
    await asyncio.gather(reading, sending)
    assert order == ["written", "frame"]
