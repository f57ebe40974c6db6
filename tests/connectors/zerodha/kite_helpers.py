"""Helpers shared by the Zerodha connector tests (conftest.py puts this folder on sys.path)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from connectors.emulator.server import EmulatorServer
from connectors.zerodha.client import KiteEndpoints, ZerodhaClient
from core.bus import EventBus

API_KEY, API_SECRET = "demo-kite-key", "demo-kite-secret"


class Recorder:
    """Collects bus events of the given types, in order."""

    def __init__(self, bus: EventBus, *types: type) -> None:
        self.events: list[object] = []
        for t in types:
            bus.subscribe(t, self.events.append)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]


async def wait_for(condition: Callable[[], object], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Poll until condition() is truthy (the loop keeps running meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def make_client(emulator: EmulatorServer, bus: EventBus, tmp_path: Path, **kwargs: object) -> ZerodhaClient:
    """A client of the emulator with quick timings (grace, staleness, backoff) unless overridden."""
    options: dict[str, object] = dict(api_secret=API_SECRET, cache_dir=tmp_path / "cache", resolve_grace_s=0.1,
                                      stale_after_s=0.5, dead_after_s=1.0, backoff_s=0.05, backoff_max_s=0.2)
    options.update(kwargs)
    return ZerodhaClient(bus, KiteEndpoints.from_emulator(emulator.endpoints), API_KEY, **options)  # type: ignore[arg-type]
