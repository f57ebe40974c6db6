"""A burst of frames does not hold the loop: a task a frame handler starts (an order's send) runs before
the next buffered frame is handled; while an order is on its way (OrderPriority), frames wait for it,
for at most the hold."""
from __future__ import annotations

import asyncio
import json

from websockets.asyncio.server import ServerConnection, serve

from connectors.binance.streams import MarketStream
from core.bus import EventBus
from core.domain import Venue
from core.order_priority import OrderPriority

BURST = 6


async def handled_around_an_order(hold_s: float, send_steps: int) -> list[str]:
    """Frame 1 submits an order whose send yields send_steps times before its request is written."""
    async def burst(ws: ServerConnection) -> None:
        for i in range(BURST):  # the client handles the first as the loop delivers it; the rest arrive buffered
            await ws.send(json.dumps({"stream": "btcusdt@trade", "data": {"n": i}}))
        await ws.wait_closed()

    priority = OrderPriority(hold_s=hold_s)
    seen: list[str] = []
    done = asyncio.Event()

    def on_frame(text: str) -> None:
        n = json.loads(text)["data"]["n"]
        seen.append(f"frame {n}")
        if n == 1:
            priority.begin()

            async def send() -> None:
                for _ in range(send_steps):
                    await asyncio.sleep(0)
                seen.append("written")
                priority.end()
            asyncio.get_running_loop().create_task(send())
        if n == BURST - 1:
            done.set()

    async with serve(burst, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = MarketStream(f"ws://127.0.0.1:{port}", Venue.BINANCE, EventBus(), on_frame, priority=priority)
        stream.start()
        try:
            await asyncio.wait_for(done.wait(), 5)
        finally:
            await stream.close()
    return seen


async def test_frames_wait_while_an_order_is_on_its_way_to_the_wire() -> None:
    seen = await handled_around_an_order(hold_s=5.0, send_steps=20)
    assert seen[:3] == ["frame 0", "frame 1", "written"], seen
    assert seen[3:] == [f"frame {n}" for n in range(2, BURST)]


async def test_frames_flow_again_after_the_hold_if_the_order_is_held_up() -> None:
    seen = await handled_around_an_order(hold_s=0.0, send_steps=200)  # a send far slower than the hold
    assert "written" not in seen[:seen.index(f"frame {BURST - 1}")], seen  # every frame handled meanwhile


async def test_a_task_started_by_a_frame_handler_runs_before_the_next_buffered_frame() -> None:
    seen = await handled_around_an_order(hold_s=0.0, send_steps=0)  # no hold: the loop's own order
    assert seen.index("written") == seen.index("frame 1") + 1, seen
