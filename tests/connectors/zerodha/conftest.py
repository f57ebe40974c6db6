"""Zerodha connector fixtures: the exchange emulator on loopback and a logged-in ZerodhaClient (helpers in kite_helpers.py)."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from connectors.emulator.exchange import Exchange  # noqa: E402
from connectors.emulator.kite.state import KiteState, kite_state  # noqa: E402
from connectors.emulator.server import EmulatorServer  # noqa: E402
from connectors.zerodha.client import ZerodhaClient  # noqa: E402
from core.bus import EventBus  # noqa: E402
from kite_helpers import make_client  # noqa: E402


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=1, history_minutes=300)) as emu:
        kite_state(emu.exchange).tick_interval_s = 0.05
        kite_state(emu.exchange).heartbeat_s = 0.2
        yield emu


@pytest.fixture
def kite(emulator: EmulatorServer) -> KiteState:
    return kite_state(emulator.exchange)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
async def client(emulator: EmulatorServer, bus: EventBus, tmp_path: Path) -> AsyncIterator[ZerodhaClient]:
    """A client logged in (headless, through the emulator's login redirect) and connected."""
    c = make_client(emulator, bus, tmp_path)
    await c.login_headless()
    await c.connect()
    yield c
    await c.close()
