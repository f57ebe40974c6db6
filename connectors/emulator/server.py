"""Serves the exchange over loopback: one aiohttp site per protocol endpoint.

    async with EmulatorServer(host="127.0.0.1", seed=1) as emu:
        emu.endpoints["binance_rest"], emu.exchange, emu.faults

Endpoints: binance_rest/binance_ws (Spot REST, streams and WS API on one port), binance_fapi/
binance_fstream (USD-M), kite_rest, kite_ws (the binary ticker), kite_login. A protocol whose app
module is missing is skipped with a warning (the others still serve).
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .exchange import Exchange
from .faults import Faults

log = logging.getLogger(__name__)

# endpoint name -> (module, builder, scheme of the extra websocket key, extra key)
APPS: tuple[tuple[str, str, str, str], ...] = (
    ("binance_rest", "connectors.emulator.binance.app", "build_spot_app", "binance_ws"),
    ("binance_fapi", "connectors.emulator.binance.app", "build_usdm_app", "binance_fstream"),
    ("kite_rest", "connectors.emulator.kite.app", "build_rest_app", ""),
    ("kite_ws", "connectors.emulator.kite.app", "build_ticker_app", ""),
    ("kite_login", "connectors.emulator.kite.app", "build_login_app", ""),
)


class EmulatorServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 7, nse_always_open: bool = True,
                 exchange: Exchange | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator serves on loopback only")
        self.host, self.port = host, port
        self.exchange = exchange or Exchange(seed=seed, nse_always_open=nse_always_open)
        self.faults = Faults()
        self.endpoints: dict[str, str] = {}
        self._runners: list[web.AppRunner] = []

    async def start(self) -> dict[str, str]:
        """Start the simulation and every endpoint; return the endpoints."""
        await self.exchange.start()
        for offset, (key, module, builder, ws_key) in enumerate(APPS):
            build = _builder(module, builder)
            if build is None:
                continue
            app = build(self.exchange, self.faults)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port + offset if self.port else 0)
            await site.start()
            self._runners.append(runner)
            port = runner.addresses[0][1]
            scheme = "ws" if key == "kite_ws" else "http"
            self.endpoints[key] = f"{scheme}://{self.host}:{port}"
            if ws_key:
                self.endpoints[ws_key] = f"ws://{self.host}:{port}"
        return self.endpoints

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
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
