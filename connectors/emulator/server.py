"""Serves the exchange over loopback: one aiohttp site per protocol endpoint.

    async with EmulatorServer(host="127.0.0.1", seed=1) as emu:
        emu.endpoints["binance_rest"], emu.exchange, emu.faults

Endpoints: binance_rest/binance_ws (Spot REST, streams and WS API on one port), binance_fapi/
binance_fstream (USD-M), kite_rest, kite_ws (the binary ticker), kite_login. A protocol whose app
module is missing is skipped with a warning (the others still serve). The sockets can be bound
beforehand (listen.bind, as `python -m connectors.emulator` does to print its endpoints early).
"""
from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .exchange import Exchange
from .faults import Faults
from .listen import APPS, bind, check_loopback, endpoints

log = logging.getLogger(__name__)


class EmulatorServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 7, nse_always_open: bool = True,
                 exchange: Exchange | None = None, sockets: dict[str, socket.socket] | None = None) -> None:
        check_loopback(host)
        self.host, self.port = host, port
        self.exchange = exchange or Exchange(seed=seed, nse_always_open=nse_always_open)
        self.faults = Faults()
        self.endpoints: dict[str, str] = {}
        self._sockets = sockets or {}  # bound by the caller (listen.bind), else bound in start()
        self._runners: list[web.AppRunner] = []

    async def start(self) -> dict[str, str]:
        """Start the simulation and every endpoint; return the endpoints."""
        await self.exchange.start()
        self._sockets = self._sockets or bind(self.host, self.port)
        for key, module, builder, _ in APPS:
            sock = self._sockets.pop(key)
            build = _builder(module, builder)
            if build is None:
                sock.close()
                continue
            runner = web.AppRunner(build(self.exchange, self.faults), access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            self._runners.append(runner)
            await web.SockSite(runner, sock).start()
            self.endpoints.update(endpoints(self.host, {key: sock}))
        return self.endpoints

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        for sock in self._sockets.values():  # endpoints a failed start never reached
            sock.close()
        self._sockets.clear()
        await self.exchange.stop()

    async def __aenter__(self) -> "EmulatorServer":
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


def _builder(module: str, name: str) -> Callable[[Exchange, Faults], Any] | None:
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        log.warning("emulator: %s.%s unavailable (%s); that endpoint is not served", module, name, exc)
        return None
