"""A frame with a whole option chain is handed on in slices, with the event loop free between them; while
an order is on its way to the wire (OrderPriority), the next frames wait for it."""
from __future__ import annotations

import asyncio
import time

from websockets.asyncio.server import ServerConnection, serve

from connectors.emulator.kite.packets import encode_frame
from connectors.zerodha.stream import TICK_SLICE, KiteTickerStream
from connectors.zerodha.ticker import QUOTE_PACKET, KiteTick
from core.bus import EventBus
from core.order_priority import OrderPriority


def quote(n: int) -> bytes:
    token = n << 8 | 1  # the low byte is the segment: 1 is NSE
    return QUOTE_PACKET.pack(token, 157315, 1, 157033, 1175986, 256511, 360503, 156915, 157500, 156105, 156780)


async def test_a_large_frame_goes_out_in_order_in_slices_with_the_loop_running_between() -> None:
    timeline: list[str] = []
    delivered: list[int] = []

    def on_ticks(records: list[KiteTick], received_ns: int) -> None:
        assert len(records) <= TICK_SLICE
        delivered.extend(r.instrument_token >> 8 for r in records)
        timeline.append(f"slice {len(records)}")

    stream = KiteTickerStream("ws://127.0.0.1:1", "key", EventBus(), access_token=lambda: "t", on_ticks=on_ticks,
                              on_order=lambda data: None)

    async def other_work() -> None:
        for _ in range(3):
            timeline.append("other")
            await asyncio.sleep(0)

    count = 2 * TICK_SLICE + 5
    other = asyncio.get_running_loop().create_task(other_work())
    await asyncio.sleep(0)  # "other" runs first, then waits for its next turn
    await stream._binary(encode_frame(quote(n) for n in range(1, count + 1)), time.monotonic())
    await other
    assert delivered == list(range(1, count + 1))  # every packet, in the frame's order
    assert timeline == ["other", f"slice {TICK_SLICE}", "other", f"slice {TICK_SLICE}", "other", "slice 5"]


async def test_frames_wait_while_an_order_is_on_its_way_to_the_wire() -> None:
    frames = 6

    async def ticker(ws: ServerConnection) -> None:
        for n in range(1, frames + 1):
            await ws.send(encode_frame([quote(n)]))
        await ws.wait_closed()

    priority = OrderPriority(hold_s=5.0)
    seen: list[str] = []
    done = asyncio.Event()

    def on_ticks(records: list[KiteTick], received_ns: int) -> None:
        n = records[0].instrument_token >> 8
        seen.append(f"frame {n}")
        if n == 1:  # a strategy's order on this tick
            priority.begin()

            async def send() -> None:
                for _ in range(20):  # httpcore's yields on its way to the socket
                    await asyncio.sleep(0)
                seen.append("written")
                priority.end()
            asyncio.get_running_loop().create_task(send())
        if n == frames:
            done.set()

    async with serve(ticker, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = KiteTickerStream(f"ws://127.0.0.1:{port}", "key", EventBus(), access_token=lambda: "t", on_ticks=on_ticks,
                                  on_order=lambda data: None, priority=priority)
        stream.start()
        try:
            await asyncio.wait_for(done.wait(), 5)
        finally:
            await stream.close()
    assert seen == ["frame 1", "written"] + [f"frame {n}" for n in range(2, frames + 1)]
