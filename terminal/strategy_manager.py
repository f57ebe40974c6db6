"""Supervises the strategy host process and the strategies loaded into it.

The host is started with a scrubbed environment (no credentials, no tokens but the channel's), is
killed when it stops heartbeating (the channel revokes its trading first) and restarted, at most
`max_restarts` times; after that it stays down and the strategies show FAILED. Strategy files are
polled for changes: a changed file of a running strategy is reloaded (stop, load, start).

P&L per strategy is kept here, in the terminal, from the engine's own order and fill events (the
OMS tags each order with its source "strategy:<id>"), never from what the host reports about itself;
pnl(sid) marks the open positions at the market's last price.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.bus import Subscription
from core.domain import FillEvent, InstrumentId, OrderUpdated
from core.strategy.pnl import StrategyPnl, StrategyPnlSummary

from .engine_channel import EngineChannel, Session

log = logging.getLogger(__name__)
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "SYSTEMROOT", "TMPDIR")


@dataclass
class StrategyRecord:
    strategy_id: str
    path: Path
    params: dict[str, Any] = field(default_factory=dict)
    state: str = "LOADING"
    error: str = ""
    orders: int = 0
    fills: int = 0
    errors: int = 0
    mtime: float = 0.0
    log: deque[str] = field(default_factory=lambda: deque(maxlen=500))
    want_running: bool = False


class StrategyManager:
    def __init__(self, channel: EngineChannel, max_restarts: int = 3, memory_limit: int | None = None) -> None:
        self.channel = channel
        self.max_restarts = max_restarts
        self.memory_limit = memory_limit
        self.records: dict[str, StrategyRecord] = {}
        self.restarts = 0
        self.host_state = "stopped"
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        channel.on_host_message = self._on_report
        channel.on_revoked = self._on_revoked
        self.book = StrategyPnl(self._multiplier)
        self._subs: list[Subscription[Any]] = [
            channel.bus.subscribe(OrderUpdated, lambda e: self.book.on_order(e.order)),
            channel.bus.subscribe(FillEvent, lambda e: self.book.on_fill(e.fill))]

    # host process ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the host process and the supervisor."""
        await self._spawn()
        self._watch = asyncio.get_running_loop().create_task(self._supervise())

    async def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if k in SAFE_ENV}
        env.update(SQ_ENGINE_URL=self.channel.url, SQ_ENGINE_TOKEN=self.channel.token, PYTHONUNBUFFERED="1")
        if self.memory_limit:
            env["SQ_HOST_MEMORY"] = str(self.memory_limit)
        self._proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "terminal.strategy_host", env=env,
                                                          stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        self.host_state = "running"
        for _ in range(100):
            if self.channel.host_sessions():
                break
            await asyncio.sleep(0.05)
        log.info("strategy host started (pid %s)", self._proc.pid)

    async def stop(self) -> None:
        for sub in self._subs:
            sub.close()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        for record in self.records.values():
            if record.want_running:
                await self.command("stop", record.strategy_id)
        await self._kill()
        self.host_state = "stopped"

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            proc = self._proc
            dead = proc is None or proc.returncode is not None
            revoked = any(s.revoked for s in self.channel.host_sessions())
            if dead or revoked:
                await self._restart("exited" if dead else "stopped responding")
            self._reload_changed()

    async def _restart(self, why: str) -> None:
        await self._kill()
        for record in self.records.values():
            if record.state in ("RUNNING", "PAUSED", "LOADED", "LOADING"):
                record.state, record.error = "FAILED", f"strategy host {why}"
        if self.restarts >= self.max_restarts:
            if self.host_state != "failed":
                log.error("strategy host %s; restart limit (%d) reached, strategies stay stopped", why, self.max_restarts)
            self.host_state = "failed"
            self._proc = None
            return
        self.restarts += 1
        log.error("strategy host %s; restarting (%d/%d)", why, self.restarts, self.max_restarts)
        await self._spawn()
        for record in self.records.values():  # reload so the user can start them again; never auto-start
            record.want_running = False
            await self.command("load", record.strategy_id, path=str(record.path), params=record.params)

    def _on_revoked(self, session: Session) -> None:
        log.error("strategy host lost the right to trade: %s", session.revoked)

    # strategies -------------------------------------------------------------------------------------
    async def load(self, path: Path, params: dict[str, Any] | None = None) -> StrategyRecord:
        """Load a strategy script into the host; returns its record (state arrives from the host)."""
        sid = f"{path.stem[:16]}{next(self._ids)}"
        record = StrategyRecord(sid, path, dict(params or {}), mtime=_mtime(path))
        self.records[sid] = record
        await self.command("load", sid, path=str(path), params=record.params)
        return record

    async def start_strategy(self, sid: str) -> None:
        self.records[sid].want_running = True
        await self.command("start", sid)

    async def stop_strategy(self, sid: str) -> None:
        self.records[sid].want_running = False
        await self.command("stop", sid)

    async def pause_strategy(self, sid: str) -> None:
        await self.command("pause", sid)

    async def resume_strategy(self, sid: str) -> None:
        await self.command("resume", sid)

    def pnl(self, sid: str) -> StrategyPnlSummary:
        """The strategy's positions and P&L from its fills, open positions at the last price."""
        return self.book.summary(sid, self.channel.market.last_price)

    def _multiplier(self, instrument_id: InstrumentId) -> Decimal:
        instrument = self.channel.catalog.find(instrument_id)
        return instrument.multiplier if instrument is not None else Decimal(1)

    async def command(self, kind: str, sid: str, **args: Any) -> None:
        if not await self.channel.send_to_hosts({"command": kind, "strategy_id": sid, **args}):
            record = self.records.get(sid)
            if record is not None:
                record.state, record.error = "FAILED", "no strategy host is running"

    def _reload_changed(self) -> None:
        for record in self.records.values():
            mtime = _mtime(record.path)
            if mtime and mtime != record.mtime:
                record.mtime = mtime
                log.info("strategy %s changed on disk; reloading", record.path.name)
                running = record.want_running
                loop = asyncio.get_running_loop()
                loop.create_task(self._reload(record, running))

    async def _reload(self, record: StrategyRecord, running: bool) -> None:
        await self.command("unload", record.strategy_id)
        await self.command("load", record.strategy_id, path=str(record.path), params=record.params)
        if running:
            await self.command("start", record.strategy_id)

    def _on_report(self, session: Session, message: dict[str, Any]) -> None:
        record = self.records.get(str(message.get("strategy_id", "")))
        if record is None:
            return
        kind = message.get("report")
        if kind == "state":
            record.state = str(message.get("state", record.state))
            record.error = str(message.get("error", ""))
            record.orders = int(message.get("orders", record.orders))
            record.fills = int(message.get("fills", record.fills))
            record.errors = int(message.get("errors", record.errors))
        elif kind == "log":
            record.log.append(f"{message.get('level', '')} {message.get('message', '')}")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
