"""`python -m connectors.emulator --host 127.0.0.1 --port 0 [--seed N] [--nse-hours] [--flow-rate N]`

Binds its sockets and prints one JSON line with the endpoints at once (the first requests wait in the
sockets' backlog while it imports its servers and builds the markets, about half a second), then
serves until SIGINT/SIGTERM, or until the process that started it is gone (a terminal that crashed
must not leave an exchange running). --flow-rate N (load tests, e.g. the loop-lag benchmark) runs N
staggered copies of the market simulation loop, so books step, trade and quote about N times as often
(and prices move faster), and the Kite ticker pushes N times as often. Binance diff-depth streams keep
their 100 ms (the protocol's @100ms); their diffs get bigger.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys

from .listen import bind, endpoints


async def serve(args: argparse.Namespace, sockets: dict[str, socket.socket], parent: int) -> None:
    from .kite.state import kite_state  # the heavy imports come after the endpoints are out
    from .server import EmulatorServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    orphan_watch = loop.create_task(_stop_when_orphaned(parent, stop))
    async with EmulatorServer(args.host, args.port, args.seed, nse_always_open=not args.nse_hours, sockets=sockets) as server:
        extra = [loop.create_task(server.exchange.sim.run(i / args.flow_rate)) for i in range(1, args.flow_rate)]
        kite_state(server.exchange, server.faults).tick_interval_s /= args.flow_rate
        await stop.wait()
        for task in extra:
            task.cancel()
        await asyncio.gather(*extra, return_exceptions=True)
    orphan_watch.cancel()


async def _stop_when_orphaned(parent: int, stop: asyncio.Event, every_s: float = 0.5) -> None:
    """Set stop once the parent has died (POSIX re-parents the orphan, so getppid() changes)."""
    while os.getppid() == parent:
        await asyncio.sleep(every_s)
    logging.getLogger(__name__).warning("the process that started the emulator is gone; stopping")
    stop.set()


def _flow_rate(text: str) -> int:
    rate = int(text)
    if not 1 <= rate <= 50:
        raise argparse.ArgumentTypeError("flow rate must be 1..50")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.emulator", description="ShrivenQuant exchange emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: ephemeral ports; N: N, N+1, ... per endpoint")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nse-hours", action="store_true", help="keep NSE to 09:15-15:30 IST (default: always open, for demos)")
    parser.add_argument("--flow-rate", type=_flow_rate, default=1, metavar="N",
                        help="step the markets N times as often as normal (load tests; default 1)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parent = os.getppid()  # now: it may be gone by the time the servers are up
    try:
        sockets = bind(args.host, args.port)
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _quit)  # until serve() has its own handlers: a stop while starting is a clean exit
    print(json.dumps(endpoints(args.host, sockets)), flush=True)
    asyncio.run(serve(args, sockets, parent))
    return 0


def _quit(_signal: int, _frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
