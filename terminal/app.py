"""Composition root: creates QApplication and the qasync loop, wires bus, core, connectors and widgets
from the profile, installs the exception hooks, and shuts everything down in order.

Nothing here runs at import time and no constructor has side effects beyond building objects; run()
starts things, shutdown() stops them.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from pathlib import Path
from types import TracebackType

import qasync
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from core.bus import EventBus
from core.journal import Journal
from core.loop_monitor import LoopLagMonitor
from core.security import (KeyringStore, KeyringUnavailable, KiteTokenStore, SecurityEvent, Vault, VenueCredentials, load_credentials,
                           record, redaction, venue_of_profile)
from core.venue import VenueClient
from widgets.keymap import Keymap
from widgets.log_panel import QtLogHandler
from widgets.security import AuditNote, CredentialsDialog, change_passphrase, run_dialog, unlock_vault

from .cli import parse_args
from .engine import Engine
from .kite_login import browser_login
from .layout import Panels, build_panels, size_default_layout
from .main_window import MainWindow
from .settings import Profile, ProfileRisk, Settings
from .status_bar import TerminalStatusBar
from .venues import build_venues, check_credentials

log = logging.getLogger("terminal")
GC_FREEZE_AFTER_S = 3.0  # after the engine is up: the charts are built and the first histories loaded


def freeze_start_up_heap() -> None:
    """Put every object alive after start-up out of the cyclic collector's reach (gc.freeze).

    The catalog (100,000 instruments), the window and the histories are ~150,000 tracked objects that
    live as long as the terminal. Every full collection walked them all: a 60-100 ms stall of the loop
    and the UI each time one ran. Frozen, they are skipped; what is made later is collected as before.
    """
    gc.freeze()
    log.info("start-up heap frozen: %d objects left out of garbage collection", gc.get_freeze_count())
PASSPHRASE_ENV = "SHRIVENQUANT_VAULT_PASSPHRASE"


def vault_path(settings: Settings) -> Path:
    """The credentials vault: <data dir>/vault.json."""
    return settings.data_dir / "vault.json"


class Terminal:
    """One running terminal: the services of a profile and the window that shows them."""

    def __init__(self, settings: Settings, profile: Profile, log_handler: QtLogHandler,
                 screenshot: Path | None = None, exit_after: float | None = None, passphrase: str | None = None) -> None:
        self.settings = settings
        self.profile = profile
        self.bus = EventBus()
        self.monitor = LoopLagMonitor()
        self.log_handler = log_handler
        self.screenshot = screenshot
        self.exit_after = exit_after
        self.exit_code = 0
        self.window: MainWindow | None = None
        self.panels: Panels | None = None
        self._restored = False
        self._passphrase = passphrase  # from the environment; dropped once the vault is unlocked
        self.credentials: dict[str, VenueCredentials] = {}
        self.token_store: KiteTokenStore | None = None
        self._audit_notes: list[AuditNote] = [(SecurityEvent.PROFILE_STARTED, {"profile": profile.name})]
        self.engine = Engine(settings, profile, self.bus, self._build_venues)
        if "zerodha" in profile.venues:
            self.engine.login = browser_login(profile, lambda url: QDesktopServices.openUrl(QUrl(url)))
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def build_window(self) -> MainWindow:
        """Create the main window and its panels for this profile."""
        status = TerminalStatusBar(self.bus, self.monitor)
        status.set_profile(self.profile.name, self.profile.description)
        window = MainWindow(status, self.settings.profile_dir(self.profile.name) / "layout.json", self.request_close)
        window.apply_theme(self.profile.theme)
        keymap = Keymap.load(self.engine.data_dir / "keymap.json")
        self.panels = build_panels(window, self.engine, keymap, self.log_handler)
        self._restored = window.restore_layout()
        return window

    async def run(self) -> int:
        """Start services, show the window, and wait until the user (or --exit-after) closes it."""
        self.monitor.start()
        self.engine.launch_emulator()  # the exchange boots while the window is built...
        await asyncio.sleep(0)  # ...once its task has run to the child's spawn, which building the window would hold up
        self.window = self.build_window()
        self.window.show()
        if not self._restored:
            window = self.window
            QTimer.singleShot(400, lambda: size_default_layout(window))
        log.info("ShrivenQuant Terminal started with profile %r (data in %s)", self.profile.name, self.settings.data_dir)
        self.spawn(self._start_engine())
        if self.exit_after is not None:
            self.spawn(self._exit_later(self.exit_after))
        await self._closed.wait()
        await self.shutdown()
        return self.exit_code

    async def _start_engine(self) -> None:
        from .layout import default_watchlists

        wanted = [iid for ids in default_watchlists().values() for iid in ids]
        await self.unlock_credentials()
        try:
            await self.engine.start(subscribe=wanted)
        except Exception:
            log.exception("the trading engine could not start; the terminal stays up without it")
        asyncio.get_running_loop().call_later(GC_FREEZE_AFTER_S, freeze_start_up_heap)
        if self.engine.stack is not None:
            for event, detail in self._audit_notes:
                record(self.engine.stack.journal, event, **detail)
            self._audit_notes.clear()

    async def unlock_credentials(self) -> None:
        """Live profiles: unlock the vault ($SHRIVENQUANT_VAULT_PASSPHRASE or the dialog) and read the profile's keys."""
        venue = venue_of_profile(self.profile.venues)
        if venue is None or self.profile.uses_emulator:
            return
        passphrase, self._passphrase = self._passphrase, None
        if self.profile.options.get("secret_store") == "keyring":  # the OS keyring instead of the vault: never plaintext
            try:
                keyring_store = KeyringStore()
            except KeyringUnavailable as exc:
                log.error("credentials: %s; live venues will not connect", exc)
                return
            creds = load_credentials(keyring_store, venue, self.profile.name)
            if creds is not None:
                self.credentials[venue] = creds
            self.token_store = KiteTokenStore(keyring_store, self.profile.name) if venue == "zerodha" else None
            return
        vault = await unlock_vault(vault_path(self.settings), passphrase, notes=self._audit_notes, parent=self.window)
        if vault is None:
            return
        creds = load_credentials(vault, venue, self.profile.name)
        if creds is not None:
            self.credentials[venue] = creds
        if venue == "zerodha":  # the daily Kite access token is written back: keep the vault open for it
            self.token_store = KiteTokenStore(vault, self.profile.name)
        else:
            vault.lock()

    def _build_venues(self, profile: Profile, endpoints: dict[str, str], bus: EventBus) -> list[VenueClient]:
        return build_venues(profile, endpoints, bus, self.credentials, self.token_store)

    def spawn(self, coro: "asyncio.coroutines.Coroutine[object, object, None]") -> asyncio.Task[None]:  # type: ignore[name-defined]
        """Run a background task owned by the terminal (cancelled at shutdown, errors logged)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def _exit_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.screenshot is not None and self.window is not None:
            self.take_screenshot(self.screenshot)
        assert self.window is not None
        self.window.close()

    def take_screenshot(self, path: Path) -> None:
        """Render the whole main window to a PNG."""
        assert self.window is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(path), "PNG"):
            log.error("could not write screenshot %s", path)
            self.exit_code = 1
        else:
            log.info("screenshot written to %s", path)

    def request_close(self) -> None:
        self._closed.set()

    async def shutdown(self) -> None:
        """Stop in order: tasks, connections, journal; then the loop can end with nothing pending."""
        self.monitor.stop()
        if self.panels is not None and self.panels.backtest.content is not None:
            self.panels.backtest.content.shutdown()  # backtest and sweep worker processes
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.engine.stop()
        await self.bus.drain()
        log.info("ShrivenQuant Terminal stopped")


def configure_logging(level: str) -> QtLogHandler:
    """Log to stderr and to the log panel; return the panel's handler."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    stream = logging.StreamHandler()
    stream.setFormatter(fmt)
    qt_handler = QtLogHandler()
    root.handlers[:] = [stream, qt_handler]
    for noisy in ("asyncio", "websockets", "httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redaction.install()
    return qt_handler


def install_exception_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Log uncaught exceptions (Qt slots, loop callbacks) instead of letting them end the process."""

    def excepthook(etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught exception", exc_info=(etype, value, tb))

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        log.error("event loop error: %s", context.get("message"), exc_info=exc if isinstance(exc, BaseException) else None)

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)


def main(argv: list[str] | None = None) -> int:
    """Run the terminal; return the process exit code."""
    args = parse_args(argv)
    passphrase = os.environ.pop(PASSPHRASE_ENV, None)  # read once; child processes (emulator, console) never see it
    handler = configure_logging(args.log_level)
    settings = Settings.load(args.config, args.data_dir)
    try:
        profile = settings.profile(args.profile)
    except KeyError as exc:
        log.error("%s", exc.args[0])
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ShrivenQuant")
    app.setQuitOnLastWindowClosed(False)  # the terminal quits after its async shutdown, not before
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_exception_hooks(loop)
    try:
        with loop:
            if args.setup_credentials:
                return loop.run_until_complete(setup_credentials(settings, profile.name, passphrase))
            if args.change_passphrase:
                return loop.run_until_complete(rekey_vault(settings, profile.name, passphrase))
            terminal = Terminal(settings, profile, handler, args.screenshot, args.exit_after, passphrase)
            code = loop.run_until_complete(terminal.run())
    finally:
        asyncio.set_event_loop(None)
        logging.getLogger().removeHandler(handler)
    return code


async def rekey_vault(settings: Settings, profile_name: str, passphrase: str | None) -> int:
    """--change-passphrase: unlock the vault, ask the new passphrase twice, re-encrypt; 0 once changed."""
    notes: list[AuditNote] = []
    vault = await unlock_vault(vault_path(settings), passphrase, notes=notes)
    changed = vault is not None and await change_passphrase(vault, notes=notes)
    if vault is not None:
        vault.lock()
    journal = Journal.open(settings.profile_dir(profile_name) / "journal.db")
    try:
        for event, detail in notes:
            record(journal, event, **detail)
    finally:
        journal.close()
    if changed:
        log.info("the credentials vault is now encrypted under the new passphrase")
    return 0 if changed else 1


async def setup_credentials(settings: Settings, profile_name: str, passphrase: str | None) -> int:
    """--setup-credentials: unlock (or create) the vault, show the credentials dialog; 0 once keys are saved."""
    notes: list[AuditNote] = []
    chosen, saved = profile_name, False
    vault: Vault | KeyringStore | None
    if settings.profile(profile_name).options.get("secret_store") == "keyring":
        try:
            vault = KeyringStore()  # the profile keeps its keys in the OS keyring; no vault, no fallback
        except KeyringUnavailable as exc:
            log.error("credentials: %s", exc)
            return 2
    else:
        vault = await unlock_vault(vault_path(settings), passphrase, allow_create=True, notes=notes)
    if vault is not None:
        profiles = {name: venue for name in settings.profile_names
                    if (venue := venue_of_profile(settings.profile(name).venues)) and not settings.profile(name).uses_emulator}

        async def test(name: str, values: dict[str, str]) -> str:
            return await check_credentials(settings.profile(name), values)

        dialog = CredentialsDialog(vault, profiles, test, profile=profile_name, risk=ProfileRisk(settings))
        saved = await run_dialog(dialog) == CredentialsDialog.DialogCode.Accepted
        if isinstance(vault, Vault):
            vault.lock()
        chosen = dialog.profile.currentText()
        if saved:
            notes.append((SecurityEvent.CREDENTIALS_SAVED, {"profile": chosen, "fields": dialog.saved}))
            log.info("credentials saved for profile %r (%s)", chosen, ", ".join(dialog.saved))
    journal = Journal.open(settings.profile_dir(chosen) / "journal.db")  # the audit trail, wrong passphrases included
    try:
        for event, detail in notes:
            record(journal, event, **detail)
    finally:
        journal.close()
    return 0 if saved else 1
