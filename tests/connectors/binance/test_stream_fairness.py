"""A burst of frames does not hold the loop: a task a frame handler starts (an order's send) runs before
the next buffered frame is handled."""
from __future__ import annotations

import asyncio
import json

from websockets.asyncio.server import ServerConnection, serve

from connectors.binance.streams import MarketStream
from core.bus import EventBus
from core.domain import Venue

BURST = 6


async def test_a_task_started_by_a_frame_handler_runs_before_the_next_buffered_frame() -> None:
    async def burst(ws: ServerConnection) -> None:
        frames = [json.dumps({"stream": "btcusdt@trade", "data": {"n": i}}) for i in range(BURST)]
        await ws.send(frames[0])  # the client handles frames as the loop delivers them...
        for frame in frames[1:]:  # ...and the rest arrive together, already buffered
            await ws.send(frame)
        await ws.wait_closed()

    seen: list[str] = []
    done = asyncio.Event()

    def on_frame(text: str) -> None:
        n = json.loads(text)["data"]["n"]
        seen.append(f"frame {n}")
        if n == 1:
            async def send() -> None:
                seen.append("task")
            asyncio.get_running_loop().create_task(send())
        if n == BURST - 1:
            done.set()

    async with serve(burst, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = MarketStream(f"ws://127.0.0.1:{port}", Venue.BINANCE, EventBus(), on_frame)
        stream.start()
        try:
            await asyncio.wait_for(done.wait(), 5)
        finally:
            await stream.close()
    assert seen.index("task") == seen.index("frame 1") + 1, seen
