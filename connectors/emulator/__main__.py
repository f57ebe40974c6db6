"""`python -m connectors.emulator --host 127.0.0.1 --port 0 [--seed N] [--nse-hours]`

Prints one JSON line with the endpoints, then serves until SIGINT/SIGTERM.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from .server import EmulatorServer


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with EmulatorServer(args.host, args.port, args.seed, nse_always_open=not args.nse_hours) as server:
        print(json.dumps(server.endpoints), flush=True)
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.emulator", description="ShrivenQuant exchange emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: ephemeral ports; N: N, N+1, ... per endpoint")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nse-hours", action="store_true", help="keep NSE to 09:15-15:30 IST (default: always open, for demos)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args))
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
