"""The Kite daily login through the engine: "login required" -> the browser login -> connected; next start reuses
the day's token. The emulator plays Kite (its login page redirects to the app's registered loopback URL)."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.zerodha import KiteEndpoints, ZerodhaClient
from connectors.zerodha.auth import MemoryTokenStore
from core.bus import EventBus
from core.domain import Venue
from core.venue import VenueClient
from terminal.emulator_process import EmulatorProcess
from terminal.engine import Engine
from terminal.kite_login import browser_login, redirect_target
from terminal.settings import Profile, Settings

KEY, SECRET = "demo-kite-key", "demo-kite-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redirect_url_must_stay_on_this_machine() -> None:
    assert redirect_target(Profile("z", options={"kite": {"redirect_url": "http://127.0.0.1:5010/callback"}})) == (5010, "/callback")
    for bad in ("https://example.com/callback", "http://10.0.0.5:5010/cb", "http://127.0.0.1/cb"):
        with pytest.raises(ValueError, match="redirect_url"):
            redirect_target(Profile("z", options={"kite": {"redirect_url": bad}}))


@pytest.mark.timeout(120)
async def test_login_required_opens_the_browser_login_and_the_next_start_reuses_the_token(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    profile = Profile("kite-login", venues=("zerodha",), options={"kite": {"redirect_url": redirect}})
    emulator = EmulatorProcess()  # Kite for both runs: a restart of the terminal, not of the exchange
    kite = await emulator.start()
    store = MemoryTokenStore()
    opened: list[str] = []
    browsing: set[asyncio.Task[Any]] = set()

    def kite_only(_: Profile, __: dict[str, str], bus: EventBus) -> list[VenueClient]:
        return [ZerodhaClient(bus, KiteEndpoints.from_emulator(kite), KEY, api_secret=SECRET, token_store=store)]

    async def user_logs_in(url: str) -> None:  # the browser: follow the login page to the redirect URL
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
            await http.get(url)

    def browser(url: str) -> None:
        opened.append(url)
        task = asyncio.get_running_loop().create_task(user_logs_in(url))
        browsing.add(task)

    async def register_then_login(client: VenueClient) -> None:
        assert isinstance(client, ZerodhaClient)
        login_root = client.login_url().split("/connect/login")[0]
        async with httpx.AsyncClient() as http:  # the redirect URL the user registered for the Kite app
            (await http.post(f"{login_root}/_emulator/apps", json={"api_key": KEY, "redirect_url": redirect})).raise_for_status()
        await browser_login(profile, browser, timeout_s=20)(client)

    logins: list[VenueClient] = []

    async def must_not_login(client: VenueClient) -> None:
        logins.append(client)

    try:
        first = Engine(settings, profile, EventBus(), kite_only, login=register_then_login)
        await first.start()
        try:
            assert Venue.ZERODHA in first.venues and len(opened) == 1 and f"api_key={KEY}" in opened[0]
            assert any(store.get(k) for k in store._values), "the day's token was kept"
        finally:
            await first.stop()
        second = Engine(settings, profile, EventBus(), kite_only, login=must_not_login)
        await second.start()
        try:
            assert Venue.ZERODHA in second.venues and logins == []
        finally:
            await second.stop()
    finally:
        await emulator.stop()
