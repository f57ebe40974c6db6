"""Which venue clients a profile runs, and with which endpoints and credentials.

The demo profile uses the emulator's endpoints (loopback only) and its demo credentials, or the ones
passed in (the same connector code as live accounts). Live profiles read their endpoints from the
profile, each checked to be TLS to the venue's own host, and their keys from the credentials passed in
(read from the vault by the app); a venue without credentials or with a bad endpoint is not started,
and the log says why.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from core.bus import EventBus
from core.domain import ProgressEvent, Venue
from core.security import (InsecureEndpoint, KiteTokenStore, Secret, VenueCredentials, check_live_endpoint, check_loopback,
                           venue_of_profile)
from core.venue import VenueClient

from .settings import Profile

log = logging.getLogger(__name__)

DEMO_BINANCE_KEY, DEMO_BINANCE_SECRET = "demo-binance-key", "demo-binance-secret"
DEMO_KITE_KEY, DEMO_KITE_SECRET = "demo-kite-key", "demo-kite-secret"
PAPER_BALANCES: dict[Venue, dict[str, int]] = {Venue.BINANCE: {"USDT": 10_000}, Venue.BINANCE_USDM: {"USDT": 10_000},
                                               Venue.ZERODHA: {"INR": 1_000_000}}


def build_venues(profile: Profile, endpoints: dict[str, str], bus: EventBus,
                 credentials: Mapping[str, VenueCredentials] | None = None,
                 token_store: KiteTokenStore | None = None) -> list[VenueClient]:
    """The venue clients of a profile; with `paper = true` in the profile, each trades on paper.

    Paper mode keeps the real connectors for market data only: every order fills locally against the
    real book and trades (core.backtest.PaperVenue), from the profile's paper balances.
    """
    clients = _real_venues(profile, endpoints, bus, credentials, token_store)
    if not profile.options.get("paper"):
        return clients
    return [paper_venue(bus, client, profile) for client in clients]


def paper_venue(bus: EventBus, client: VenueClient, profile: Profile) -> VenueClient:
    """Wrap a connector: its market data, paper orders and balances (profile `paper_balances` per venue)."""
    from core.backtest import PaperVenue, RateFees

    table = profile.options.get("paper_balances", {}).get(client.venue.value, PAPER_BALANCES.get(client.venue, {}))
    balances = {asset: Decimal(str(amount)) for asset, amount in table.items()}
    log.warning("%s: PAPER trading (orders fill locally against live market data)", client.venue.value)
    return PaperVenue(bus, client.venue, market_data=client, balances=balances, fee_model=RateFees(Decimal("0.001"), Decimal("0.001")))


def _real_venues(profile: Profile, endpoints: dict[str, str], bus: EventBus,
                 credentials: Mapping[str, VenueCredentials] | None = None,
                 token_store: KiteTokenStore | None = None) -> list[VenueClient]:
    """Construct (not connect) the venue clients of a profile.

    credentials: per venue ("binance", "zerodha"); required for live profiles, optional for the demo
    (default: the emulator's demo keys). token_store keeps the Kite access token (the vault's, live).
    """
    credentials = credentials or {}
    clients: list[VenueClient] = []
    if profile.uses_emulator:
        for url in endpoints.values():
            check_loopback(url)
        binance = credentials.get("binance")
        key, secret = (binance.api_key.reveal(), binance.api_secret.reveal()) if binance and binance.api_secret \
            else (DEMO_BINANCE_KEY, DEMO_BINANCE_SECRET)
        clients += _binance(bus, endpoints.get("binance_rest"), endpoints.get("binance_fapi"), key, secret)
        if "kite_rest" in endpoints:
            clients += _kite_demo(bus, endpoints, credentials.get("zerodha"))
        return clients
    try:
        if "binance" in profile.venues:
            clients += _binance_live(bus, profile, credentials.get("binance"))
        if "zerodha" in profile.venues:
            clients += _kite_live(bus, profile, credentials.get("zerodha"), token_store)
    except InsecureEndpoint as exc:
        log.error("profile %r not started: %s", profile.name, exc)
        return []
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


def _binance_live(bus: EventBus, profile: Profile, creds: VenueCredentials | None) -> list[VenueClient]:
    from connectors.binance import SPOT_LIVE, SPOT_TESTNET, BinanceEndpoints, BinanceSpotClient, BinanceUsdmClient, credentials_from

    if creds is None:
        log.error("Binance: no API key stored for profile %r; run with --setup-credentials (kept in the encrypted vault)",
                  profile.name)
        return []
    table = profile.options.get("binance", {})
    urls = {name: check_live_endpoint("binance", str(table[name]))
            for name in ("rest_url", "ws_url", "fapi_url", "fstream_url", "ws_api_url") if table.get(name)}
    signer = credentials_from(creds.api_key.reveal(), creds.api_secret.reveal() if creds.api_secret else None,
                              creds.ed25519_private_key.reveal() if creds.ed25519_private_key else None)
    assert signer is not None
    clients: list[VenueClient] = []
    if "rest_url" in urls and "ws_url" in urls:
        known_ws_api = {SPOT_LIVE.rest: SPOT_LIVE.ws_api, SPOT_TESTNET.rest: SPOT_TESTNET.ws_api}
        ws_api = urls.get("ws_api_url") or known_ws_api.get(urls["rest_url"].rstrip("/"), "")
        clients.append(BinanceSpotClient(bus, BinanceEndpoints(urls["rest_url"], urls["ws_url"], ws_api), signer))
    if "fapi_url" in urls and "fstream_url" in urls:
        clients.append(BinanceUsdmClient(bus, BinanceEndpoints(urls["fapi_url"], urls["fstream_url"], routed=True), signer))
    return clients


def _kite_live(bus: EventBus, profile: Profile, creds: VenueCredentials | None,
               token_store: KiteTokenStore | None) -> list[VenueClient]:
    from connectors.zerodha import KiteEndpoints, ZerodhaClient

    if creds is None or creds.api_secret is None:
        log.error("Zerodha: no Kite api_key/secret stored for profile %r; run with --setup-credentials", profile.name)
        return []
    table = profile.options.get("kite", {})
    defaults = KiteEndpoints()
    login = str(table.get("login_url") or defaults.login).removesuffix("/connect/login")
    endpoints = KiteEndpoints(check_live_endpoint("zerodha", str(table.get("rest_url") or defaults.rest)),
                              check_live_endpoint("zerodha", str(table.get("ws_url") or defaults.ws)),
                              check_live_endpoint("zerodha", login))
    client = ZerodhaClient(bus, endpoints, creds.api_key.reveal(), api_secret=creds.api_secret.reveal(), token_store=token_store)
    client.progress = download_progress(bus, "Kite instruments")
    return [client]


def _kite_demo(bus: EventBus, endpoints: dict[str, str], creds: VenueCredentials | None) -> list[VenueClient]:
    try:
        zerodha: Any = importlib.import_module("connectors.zerodha")
    except ImportError as exc:
        log.warning("Zerodha connector unavailable: %s", exc)
        return []
    key, secret = (creds.api_key.reveal(), creds.api_secret.reveal()) if creds and creds.api_secret \
        else (DEMO_KITE_KEY, DEMO_KITE_SECRET)
    client = zerodha.demo_client(bus, endpoints, key, secret)
    client.progress = download_progress(bus, "Kite instruments")
    return [client]


def download_progress(bus: EventBus, task: str) -> Callable[[int, int | None], None]:
    """A (bytes done, total) callback that publishes ProgressEvent for the status bar."""

    def report(done: int, total: int | None) -> None:
        fraction = min(1.0, done / total) if total else None
        bus.publish(ProgressEvent(task, fraction, f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")))

    return report


async def check_credentials(profile: Profile, values: Mapping[str, str]) -> str:
    """Connect a live profile's venue with these keys, read the balances, disconnect (the setup dialog's test)."""
    venue = venue_of_profile(profile.venues)
    if venue is None:
        raise ValueError(f"profile {profile.name!r} needs no credentials")
    secret = values.get("api_secret", "")
    creds = VenueCredentials(venue, profile.name, Secret(values.get("api_key", "")), Secret(secret) if secret else None)
    clients = build_venues(profile, {}, EventBus(), {venue: creds})
    if not clients:
        raise ValueError(f"profile {profile.name!r}: nothing to connect (see the log)")
    balances = 0
    try:
        for client in clients:
            await client.connect()
            balances += len(await client.balances())
    finally:
        for client in clients:
            await client.close()
    return f"{len(clients)} connection(s) to {venue}, {balances} balance(s) read"
