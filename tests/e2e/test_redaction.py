"""No secret leaks: canary keys for every venue through a whole emulator session at DEBUG, then grep everything.

The canaries live in a real vault (a cheap scrypt cost: the vault's cost is tested in tests/core/security),
reach the connectors through build_venues(credentials=...), and sign real requests to the emulator. The
emulator runs in this process here (so it can be told the canary keys); otherwise the session is the
terminal's own Engine. Afterwards no captured log record, no exception text, no object repr and no file
the session wrote (journal, WAL, settings, vault) may contain a canary, nor the Kite access token the
emulator issued (never registered anywhere: only the redaction patterns stand between it and the logs).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
import traceback
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from connectors.binance import BinanceSpotClient
from connectors.emulator.binance import register_hmac_key
from connectors.emulator.kite.state import kite_state
from connectors.emulator.server import EmulatorServer
from core.bus import EventBus
from core.domain import InstrumentId, OrderRequest, OrderStatus, OrderType, Product, Side, TimeInForce, Venue
from core.errors import ShrivenQuantError
from core.security import InsecureEndpoint, Secret, VenueCredentials, load_credentials, redaction
from core.security.vault import ScryptCost, Vault
from terminal import engine as engine_module
from terminal.engine import Engine
from terminal.settings import Settings
from terminal.venues import build_venues

CANARIES = {
    "binance_key": "CANARYbinKEY7f3a9c1e5d2b8a0f4c6e9d1b3a5c7e9f2d4b6a8c0e1f3a5b7c9d",
    "binance_secret": "CANARYbinSECRETq8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1l0z9x8c7v6b5n",
    "kite_key": "CANARYkiteKEYm4n5b6v7c8x9",
    "kite_secret": "CANARYkiteSECRETz1x2c3v4b5n6m7",
}
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
BTC_PERP = InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")
INFY = InstrumentId(Venue.ZERODHA, "INFY")


class InProcessEmulator:
    """Stands in for EmulatorProcess: the same server, in this process, told the canary keys."""

    def __init__(self, seed: int = 7, **_: Any) -> None:
        self.server = EmulatorServer(seed=seed)

    async def start(self) -> dict[str, str]:
        endpoints = await self.server.start()
        register_hmac_key(CANARIES["binance_key"], CANARIES["binance_secret"])
        kite_state(self.server.exchange).register_app(CANARIES["kite_key"], CANARIES["kite_secret"])
        return endpoints

    async def stop(self) -> None:
        await self.server.stop()


async def until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def redacting() -> Iterator[None]:
    redaction.install()  # as terminal.app.configure_logging does
    try:
        yield
    finally:
        redaction.uninstall()
        redaction.forget_secrets()


def hits(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [c for c in (*CANARIES.values(), *extra) if c and c in text]


@pytest.mark.timeout(90)
async def test_no_canary_in_logs_journal_exceptions_or_files(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch, redacting: None) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("websockets", "httpx", "httpcore", "aiohttp", "asyncio", "connectors", "core", "terminal"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(engine_module, "EmulatorProcess", InProcessEmulator)

    vault = Vault.create(tmp_path / "data" / "vault.json", "canary passphrase", ScryptCost(2**10))
    vault.set("binance", "demo", "api_key", CANARIES["binance_key"])
    vault.set("binance", "demo", "api_secret", CANARIES["binance_secret"])
    vault.set("zerodha", "demo", "api_key", CANARIES["kite_key"])
    vault.set("zerodha", "demo", "api_secret", CANARIES["kite_secret"])
    vault = Vault.open(vault.path, "canary passphrase")
    credentials = {venue: load_credentials(vault, venue, "demo") for venue in ("binance", "zerodha")}
    assert all(credentials.values())

    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    engine = Engine(settings, settings.profile("demo"), EventBus(), functools.partial(build_venues, credentials=credentials))
    errors: list[BaseException] = []
    access_token = ""
    await engine.start(subscribe=[BTC, BTC_PERP, INFY])
    try:
        stack = engine.stack
        assert stack is not None and {Venue.BINANCE, Venue.BINANCE_USDM, Venue.ZERODHA} <= set(engine.venues)
        access_token = engine.venues[Venue.ZERODHA].rest.access_token or ""  # type: ignore[attr-defined]
        assert access_token
        for iid in (BTC, BTC_PERP, INFY):
            await until(lambda iid=iid: engine.market.last_price(iid) is not None)
            inst = engine.catalog.get(iid)
            last = engine.market.last_price(iid)
            assert last is not None
            qty = {Venue.ZERODHA: D("1"), Venue.BINANCE: D("0.001"), Venue.BINANCE_USDM: D("0.002")}[iid.venue]  # above min notional
            price = inst.round_limit_price(last * D("0.97"), Side.BUY)
            order = await engine.entry.place(OrderRequest(iid, Side.BUY, qty, OrderType.LIMIT, price=price, time_in_force=TimeInForce.GTC,
                                                          product=Product.CNC if iid.venue is Venue.ZERODHA else Product.SPOT
                                                          if iid.venue is Venue.BINANCE else Product.NRML))
            await until(lambda o=order: stack.oms.order(o.client_order_id).status is OrderStatus.OPEN)  # type: ignore[union-attr]
            await engine.entry.cancel(order.client_order_id)
            await until(lambda o=order: stack.oms.order(o.client_order_id).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]

        wrong = BinanceSpotClient.from_url(EventBus(), engine.emulator.server.endpoints["binance_rest"],  # type: ignore[union-attr]
                                           CANARIES["binance_key"], "not-the-secret-value")
        try:
            await wrong.balances()
        except ShrivenQuantError as exc:
            errors.append(exc)
            logging.getLogger("terminal.test").exception("refused as it should be")
        finally:
            await wrong.close()
        reprs = [repr(c) for c in engine.venues.values()] + [repr(getattr(c, "credentials", None)) for c in engine.venues.values()]
        reprs += [repr(credentials), repr(vault.get("binance", "demo", "api_secret"))]
    finally:
        await engine.stop()

    assert errors, "the wrong secret must have been refused"
    leaks = {
        "log text": hits(caplog.text, (access_token,)),
        "log records": [r.name for r in caplog.records if hits(r.getMessage(), (access_token,))],
        "exceptions": hits("".join(traceback.format_exception(errors[0])) + repr(errors[0]), (access_token,)),
        "reprs": hits(" ".join(reprs), (access_token,)),
    }
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "journal.db" for p in files) and any(p.name == "settings.toml" for p in files)
    for path in files:
        data = path.read_bytes().decode("latin-1")
        leaks[str(path.relative_to(tmp_path))] = hits(data, (access_token,))
    assert {where: found for where, found in leaks.items() if found} == {}
    assert len(caplog.records) > 100  # a real DEBUG session was captured (the test can see what it greps)


def test_live_profiles_get_tls_verified_clients_to_venue_hosts_only(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    binance = VenueCredentials("binance", "binance", Secret("k" * 16), Secret("s" * 16))
    kite = VenueCredentials("zerodha", "zerodha", Secret("k" * 16), Secret("s" * 16))
    clients = (build_venues(settings.profile("binance"), {}, EventBus(), {"binance": binance})
               + build_venues(settings.profile("binance-testnet"), {}, EventBus(), {"binance": binance})
               + build_venues(settings.profile("zerodha"), {}, EventBus(), {"zerodha": kite}))
    assert len(clients) == 5  # spot + futures, twice, and Kite
    for client in clients:
        http = client.rest._http  # type: ignore[attr-defined]
        context: ssl.SSLContext = http._transport._pool._ssl_context
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert str(http.base_url) == "" or str(http.base_url).startswith("https://")


def test_a_live_profile_with_a_plaintext_or_foreign_endpoint_starts_nothing(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    settings_path = tmp_path / "settings.toml"
    settings_path.write_text('[profiles.binance.binance]\nrest_url = "http://api.binance.com"\n'
                             '[profiles.zerodha.kite]\nrest_url = "https://api.kite.trade.example.org"\n')
    settings = Settings.load(settings_path, tmp_path / "data")
    binance = VenueCredentials("binance", "binance", Secret("k" * 16), Secret("s" * 16))
    kite = VenueCredentials("zerodha", "zerodha", Secret("k" * 16), Secret("s" * 16))
    assert build_venues(settings.profile("binance"), {}, EventBus(), {"binance": binance}) == []
    assert build_venues(settings.profile("zerodha"), {}, EventBus(), {"zerodha": kite}) == []
    assert "not TLS" in caplog.text and "not a zerodha host" in caplog.text
    with pytest.raises(InsecureEndpoint):
        build_venues(settings.profile("demo"), {"binance_rest": "http://10.1.2.3:8000"}, EventBus())


def test_a_live_profile_without_credentials_says_how_to_add_them(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    assert build_venues(settings.profile("zerodha"), {}, EventBus()) == []
    assert "--setup-credentials" in caplog.text


def _visible(kind: type) -> Any:
    from PySide6.QtWidgets import QApplication

    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def app_loop(qapp: Any, qloop: Any) -> Iterator[Any]:
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # as terminal.app.main runs
    try:
        yield qloop
    finally:
        qapp.setQuitOnLastWindowClosed(quits)


def test_setup_credentials_stores_keys_in_the_vault_audits_and_keeps_the_settings_clean(tmp_path: Path, app_loop: Any,
                                                                                      redacting: None) -> None:
    from core.journal import Journal
    from terminal.app import setup_credentials, vault_path
    from terminal.cli import parse_args
    from widgets.security import CredentialsDialog, UnlockDialog

    assert parse_args(["--setup-credentials", "--profile", "zerodha"]).setup_credentials
    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")

    async def scenario() -> int:
        running = asyncio.ensure_future(setup_credentials(settings, "binance-testnet", None))
        await asyncio.sleep(0.05)
        unlock = _visible(UnlockDialog)
        unlock.passphrase.setText("setup passphrase 1")
        unlock.confirm.setText("setup passphrase 1")
        unlock.submit()
        await until(lambda: not unlock.isVisible())
        await asyncio.sleep(0.05)
        dialog = _visible(CredentialsDialog)
        assert dialog.profile.currentText() == "binance-testnet"
        assert [dialog.profile.itemText(i) for i in range(dialog.profile.count())] == ["binance", "binance-testnet", "zerodha"]
        dialog.edits["api_key"].setText(CANARIES["binance_key"])
        dialog.edits["api_secret"].setText(CANARIES["binance_secret"])
        dialog.buttons.accepted.emit()
        return await asyncio.wait_for(running, 10)

    assert app_loop.run_until_complete(scenario()) == 0
    vault = Vault.open(vault_path(settings), "setup passphrase 1")
    assert vault.get("binance", "binance-testnet", "api_secret") == Secret(CANARIES["binance_secret"])
    journal = Journal.open(settings.profile_dir("binance-testnet") / "journal.db")
    try:
        events = [e.detail["event"] for e in reversed(journal.audit_entries("security"))]
    finally:
        journal.close()
    assert events == ["vault_created", "credentials_saved"]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"settings.toml", "vault.json", "journal.db"}
    assert {str(p): hits(p.read_bytes().decode("latin-1")) for p in files if hits(p.read_bytes().decode("latin-1"))} == {}


def test_a_live_profile_takes_its_keys_from_the_vault_unlocked_by_the_environment(tmp_path: Path, app_loop: Any) -> None:
    from terminal.app import Terminal, vault_path
    from widgets.log_panel import QtLogHandler

    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    vault = Vault.create(vault_path(settings), "env passphrase", ScryptCost(2**10))
    vault.set("binance", "binance-testnet", "api_key", CANARIES["binance_key"])
    vault.set("binance", "binance-testnet", "api_secret", CANARIES["binance_secret"])
    terminal = Terminal(settings, settings.profile("binance-testnet"), QtLogHandler(), passphrase="env passphrase")
    app_loop.run_until_complete(terminal.unlock_credentials())
    creds = terminal.credentials["binance"]
    assert creds.api_key == Secret(CANARIES["binance_key"])
    assert terminal.token_store is None  # no Kite token to write back: the vault was locked again
    clients = terminal._build_venues(terminal.profile, {}, terminal.bus)
    assert [c.credentials.api_key for c in clients] == [CANARIES["binance_key"]] * 2  # type: ignore[attr-defined]
    assert [n[0].value for n in terminal._audit_notes] == ["profile_started", "vault_unlocked"]
    assert terminal._passphrase is None  # dropped once used

    wrong = Terminal(settings, settings.profile("binance-testnet"), QtLogHandler(), passphrase="not it")
    app_loop.run_until_complete(wrong.unlock_credentials())
    assert wrong.credentials == {} and [n[0].value for n in wrong._audit_notes] == ["profile_started", "wrong_passphrase"]
    assert wrong._build_venues(wrong.profile, {}, wrong.bus) == []


def test_a_zerodha_profile_keeps_the_vault_open_for_the_daily_kite_token(tmp_path: Path, app_loop: Any) -> None:
    from terminal.app import Terminal, vault_path
    from widgets.log_panel import QtLogHandler

    settings = Settings.load(tmp_path / "settings.toml", tmp_path / "data")
    vault = Vault.create(vault_path(settings), "env passphrase", ScryptCost(2**10))
    vault.set("zerodha", "zerodha", "api_key", CANARIES["kite_key"])
    vault.set("zerodha", "zerodha", "api_secret", CANARIES["kite_secret"])
    terminal = Terminal(settings, settings.profile("zerodha"), QtLogHandler(), passphrase="env passphrase")
    app_loop.run_until_complete(terminal.unlock_credentials())
    [client] = terminal._build_venues(terminal.profile, {}, terminal.bus)
    assert client.token_store is terminal.token_store and client.api_key == CANARIES["kite_key"]  # type: ignore[attr-defined]
    client.token_store.set(f"zerodha/{CANARIES['kite_key']}/access_token", "kite-access-token-1")  # type: ignore[attr-defined]
    reopened = Vault.open(vault.path, "env passphrase")
    assert len(reopened.entries()) == 3 and CANARIES["kite_key"] not in vault.path.read_text()
