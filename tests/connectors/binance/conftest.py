"""Binance connector test fixtures: the real exchange emulator (EmulatorServer) on loopback, its spot and
USD-M Binance endpoints, and helpers (bn_helpers.py, next to this file)."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from connectors.emulator.exchange import Exchange  # noqa: E402
from connectors.emulator.faults import Faults  # noqa: E402
from connectors.emulator.server import EmulatorServer  # noqa: E402
from core.bus import EventBus  # noqa: E402

HISTORY_MINUTES = 1600  # enough 1-minute candles for the kline paging test


@dataclass
class Served:
    url: str  # http://127.0.0.1:<port>
    exchange: Exchange
    faults: Faults

    @property
    def ws(self) -> str:
        return "ws" + self.url[4:]


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(host="127.0.0.1", exchange=Exchange(seed=1, history_minutes=HISTORY_MINUTES)) as emu:
        yield emu


@pytest.fixture
def spot(emulator: EmulatorServer) -> Served:
    return Served(emulator.endpoints["binance_rest"], emulator.exchange, emulator.faults)


@pytest.fixture
def usdm(emulator: EmulatorServer) -> Served:
    return Served(emulator.endpoints["binance_fapi"], emulator.exchange, emulator.faults)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()
