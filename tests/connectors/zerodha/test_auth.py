"""Kite login: checksum, login URL, redirect parsing, 6 AM expiry, the loopback catcher, the token store."""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.emulator.kite.state import KiteState
from connectors.emulator.server import EmulatorServer
from connectors.zerodha import auth
from connectors.zerodha.auth import IST, MemoryTokenStore, RedirectCatcher
from connectors.zerodha.client import demo_client
from core.bus import EventBus
from core.domain import ConnectionChanged, ConnectionStatus
from core.errors import AuthError

from kite_helpers import API_KEY, Recorder, make_client


def test_checksum_vector() -> None:
    assert auth.checksum("api_key", "request_token", "api_secret") == \
        "ff6a6d3d60c9d974df906ba6f787ac38300cfa68b41801b486ea1007e52e8942"


def test_login_url() -> None:
    assert auth.login_url("https://kite.zerodha.com/", "abc") == "https://kite.zerodha.com/connect/login?api_key=abc&v=3"
    assert auth.login_url("http://x", "k", {"a": "1"}).endswith("&redirect_params=a%3D1")


def test_request_token_from_a_pasted_url() -> None:
    assert auth.request_token_from("http://127.0.0.1:5010/cb?action=login&type=login&status=success&request_token=RT1") == "RT1"
    with pytest.raises(AuthError):
        auth.request_token_from("http://127.0.0.1:5010/cb?status=cancelled&request_token=RT1")
    with pytest.raises(AuthError):
        auth.request_token_from("http://127.0.0.1:5010/cb?status=success")


@pytest.mark.parametrize("login, now, expired", [
    (datetime(2026, 3, 10, 9, 0), datetime(2026, 3, 10, 23, 59), False),
    (datetime(2026, 3, 10, 9, 0), datetime(2026, 3, 11, 5, 59), False),
    (datetime(2026, 3, 10, 9, 0), datetime(2026, 3, 11, 6, 0), True),
    (datetime(2026, 3, 11, 2, 0), datetime(2026, 3, 11, 6, 0), True),  # logged in after midnight: dies at 6 the same day
    (datetime(2026, 3, 11, 2, 0), datetime(2026, 3, 11, 5, 0), False),
])
def test_session_dies_at_six_ist(login: datetime, now: datetime, expired: bool) -> None:
    assert auth.session_expired(login.replace(tzinfo=IST), now.replace(tzinfo=IST)) is expired


def test_token_store_round_trip() -> None:
    store = MemoryTokenStore()
    session = auth.KiteSession("U1", "User", "tok", "pub", datetime(2026, 3, 10, 9, 0, tzinfo=IST), ("NSE",), ("CNC",))
    auth.store_session(store, "key", session)
    assert auth.stored_token(store, "key", datetime(2026, 3, 10, 15, 0, tzinfo=IST)) == "tok"
    assert auth.stored_token(store, "key", datetime(2026, 3, 11, 7, 0, tzinfo=IST)) is None
    auth.forget_token(store, "key")
    assert auth.stored_token(store, "key", datetime(2026, 3, 10, 15, 0, tzinfo=IST)) is None
    assert auth.stored_token(store, "other", datetime(2026, 3, 10, 15, 0, tzinfo=IST)) is None


async def test_interactive_login_catches_the_redirect(emulator: EmulatorServer, kite: KiteState, bus: EventBus,
                                                      tmp_path: Path) -> None:
    store = MemoryTokenStore()
    client = make_client(emulator, bus, tmp_path, token_store=store)
    events = Recorder(bus, ConnectionChanged)
    opened: list[str] = []

    def browser(url: str) -> None:  # the user's browser: follows the login page's redirect to our catcher
        opened.append(url)
        async def follow() -> None:
            async with httpx.AsyncClient(follow_redirects=True) as http:
                await http.get(url)
        asyncio.get_running_loop().create_task(follow())

    async with RedirectCatcher() as probe:  # find a free port, then register it as the app's redirect URL
        port = probe.port
    kite.set_redirect(API_KEY, f"http://127.0.0.1:{port}/kite/callback")
    try:
        session = await client.login_interactive(browser, port=port, path="/kite/callback", timeout_s=5)
        assert session.user_id == "DEMO01" and opened == [client.login_url()]
        assert auth.stored_token(store, API_KEY, datetime.now(IST)) == session.access_token
        assert events.of(ConnectionChanged)[-1].status is ConnectionStatus.CONNECTED
        await client.connect()  # uses the stored token
        assert client.instruments()
    finally:
        await client.close()


async def test_pasted_redirect_url_login_and_bad_checksum(emulator: EmulatorServer, bus: EventBus, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(emulator.endpoints["kite_login"] + f"/connect/login?api_key={API_KEY}&v=3")
    pasted = answer.headers["location"]
    wrong = make_client(emulator, bus, tmp_path, api_secret="not-the-secret")
    right = make_client(emulator, bus, tmp_path)
    try:
        with pytest.raises(AuthError, match="checksum"):
            await wrong.login_with_redirect_url(pasted)
        with pytest.raises(AuthError, match="invalid or has expired"):  # a request token is single use
            await right.login_with_redirect_url(pasted)
        session = await right.login_headless()
        assert session.access_token
    finally:
        await wrong.close()
        await right.close()


async def test_connect_without_a_session_asks_for_login(emulator: EmulatorServer, bus: EventBus, tmp_path: Path) -> None:
    client = make_client(emulator, bus, tmp_path)
    events = Recorder(bus, ConnectionChanged)
    try:
        with pytest.raises(AuthError, match="login required"):
            await client.connect()
        assert events.of(ConnectionChanged)[-1] == ConnectionChanged(client.venue, "rest", ConnectionStatus.FAILED, "login required")
    finally:
        await client.close()


async def test_catcher_reports_a_failed_login() -> None:
    async with RedirectCatcher() as catcher:
        async with httpx.AsyncClient() as http:
            answer = await http.get(catcher.url + "?status=cancelled")
        assert answer.status_code == 400
        with pytest.raises(AuthError, match="did not succeed"):
            await catcher.wait(1)
    with pytest.raises(ValueError):
        RedirectCatcher(host="0.0.0.0")


async def test_demo_client_logs_itself_in_again_after_expiry(emulator: EmulatorServer, kite: KiteState, bus: EventBus) -> None:
    events = Recorder(bus, ConnectionChanged)
    client = demo_client(bus, emulator.endpoints, API_KEY, "demo-kite-secret")
    try:
        await client.connect()
        assert client.instruments() and client.rest.access_token
        kite.expire_all()
        with pytest.raises(AuthError):
            await client.open_orders()
        assert client.rest.access_token is None
        await client.connect()  # the terminal's "reconnect": a new headless login
        assert await client.open_orders() == []
        rest = [e.status for e in events.of(ConnectionChanged) if e.channel == "rest"]
        assert rest[-3:] == [ConnectionStatus.FAILED, ConnectionStatus.CONNECTED, ConnectionStatus.CONNECTED]
    finally:
        await client.close()
