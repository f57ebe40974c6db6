"""Which venue clients a profile runs, and with which endpoints and credentials.

The demo profile uses the emulator's endpoints and its demo credentials (the same connector code as
live accounts). Live profiles read their endpoints from the profile and their keys from the vault;
a venue without credentials is not started, and the log says how to add them.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from core.bus import EventBus
from core.domain import ProgressEvent
from core.venue import VenueClient

from .settings import Profile

log = logging.getLogger(__name__)

DEMO_BINANCE_KEY, DEMO_BINANCE_SECRET = "demo-binance-key", "demo-binance-secret"
DEMO_KITE_KEY, DEMO_KITE_SECRET = "demo-kite-key", "demo-kite-secret"


def build_venues(profile: Profile, endpoints: dict[str, str], bus: EventBus) -> list[VenueClient]:
    """Construct (not connect) the venue clients of a profile."""
    clients: list[VenueClient] = []
    if profile.uses_emulator:
        clients += _binance(bus, endpoints.get("binance_rest"), endpoints.get("binance_fapi"), DEMO_BINANCE_KEY, DEMO_BINANCE_SECRET)
        if "kite_rest" in endpoints:
            clients += _kite_demo(bus, endpoints)
        return clients
    if "binance" in profile.venues:
        log.error("Binance: no API key stored for profile %r; add it in Settings -> Accounts (kept in the encrypted vault)",
                  profile.name)
    if "zerodha" in profile.venues:
        log.error("Zerodha: no Kite api_key/secret stored for profile %r; add them in Settings -> Accounts", profile.name)
    return clients


def _binance(bus: EventBus, rest: str | None, fapi: str | None, key: str, secret: str) -> list[VenueClient]:
    from connectors.binance import BinanceCredentials, BinanceEndpoints, BinanceSpotClient, BinanceUsdmClient

    credentials = BinanceCredentials.hmac(key, secret)
    clients: list[VenueClient] = []
    if rest:
        clients.append(BinanceSpotClient(bus, BinanceEndpoints.single_host(rest), credentials))
    if fapi:
        clients.append(BinanceUsdmClient(bus, BinanceEndpoints.single_host(fapi, futures=True), credentials))
    return clients


def _kite_demo(bus: EventBus, endpoints: dict[str, str]) -> list[VenueClient]:
    try:
        zerodha: Any = importlib.import_module("connectors.zerodha")
    except ImportError as exc:
        log.warning("Zerodha connector unavailable: %s", exc)
        return []
    client = zerodha.demo_client(bus, endpoints, DEMO_KITE_KEY, DEMO_KITE_SECRET)
    client.progress = download_progress(bus, "Kite instruments")
    return [client]


def download_progress(bus: EventBus, task: str) -> Callable[[int, int | None], None]:
    """A (bytes done, total) callback that publishes ProgressEvent for the status bar."""

    def report(done: int, total: int | None) -> None:
        fraction = min(1.0, done / total) if total else None
        bus.publish(ProgressEvent(task, fraction, f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")))

    return report
