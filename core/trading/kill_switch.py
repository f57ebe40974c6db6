"""The kill switch: stop all trading now, and stay stopped across restarts until re-armed by hand.

engage() blocks new orders before its first await (the risk engine reads `engaged`), persists the state
durably in the journal, stops strategies through the registered callbacks, cancels every working order on
every venue (retrying orders whose cancel did not take) and, if asked, flattens every position with exit
orders (which the switch lets through). rearm() is the only way back, and is audited like engage().
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.bus import EventBus
from core.domain import ClientOrderId, Order, OrderStatus
from core.journal import Journal

from .events import KillSwitchChanged

log = logging.getLogger(__name__)

KEY = "kill_switch"
StopCallback = Callable[[], object]  # sync, or returning an awaitable


class KillSwitchActions(Protocol):
    """What the kill switch needs from the trading API."""

    def open_orders(self) -> list[Order]: ...
    async def cancel_all(self) -> list[Order]: ...
    async def flatten(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class KillSwitchResult:
    cancel_requested: tuple[ClientOrderId, ...]
    still_working: tuple[ClientOrderId, ...]  # neither cancelled nor cancel-pending after every attempt
    flatten_orders: tuple[ClientOrderId, ...]
    errors: tuple[str, ...] = field(default_factory=tuple)


class KillSwitch:
    """Construct, load() the persisted state, attach() the trading API."""

    def __init__(self, journal: Journal, bus: EventBus, *, clock_ns: Callable[[], int] = time.time_ns,
                 cancel_attempts: int = 3, retry_delay_s: float = 0.5, stop_timeout_s: float = 1.0) -> None:
        self._journal = journal
        self._bus = bus
        self._clock_ns = clock_ns
        self.cancel_attempts = cancel_attempts
        self.retry_delay_s = retry_delay_s
        self.stop_timeout_s = stop_timeout_s
        self.engaged = False
        self.reason = ""
        self.engaged_ns = 0
        self._actions: KillSwitchActions | None = None
        self._stop_callbacks: list[StopCallback] = []

    def load(self) -> None:
        """Restore the persisted state (engaged stays engaged after a restart)."""
        raw = self._journal.get(KEY)
        if raw is None:
            return
        data = json.loads(raw)
        self.engaged, self.reason, self.engaged_ns = bool(data["engaged"]), data.get("reason", ""), data.get("ts_ns", 0)
        if self.engaged:
            log.warning("kill switch is engaged (%s); re-arm it to trade", self.reason)

    def attach(self, actions: KillSwitchActions) -> None:
        """Give the switch the API it cancels and flattens through."""
        self._actions = actions

    def add_stop_callback(self, callback: StopCallback) -> None:
        """Register something to stop on engage (a strategy runner); sync or async."""
        self._stop_callbacks.append(callback)

    async def engage(self, flatten: bool = False, reason: str = "manual") -> KillSwitchResult:
        """Block new orders, stop strategies, cancel every working order, optionally flatten."""
        if not self.engaged:
            self._set(True, reason)
        self._audit({"action": "engage", "reason": reason, "flatten": flatten})
        errors = await self._stop_strategies()
        if self._actions is None:
            log.error("kill switch: no trading API attached; nothing cancelled")
            return KillSwitchResult((), (), (), (*errors, "no trading API attached"))
        requested, still_working = await self._cancel_everything()
        flattened: list[ClientOrderId] = []
        if flatten:
            try:
                handles = await self._actions.flatten()
                flattened = [cid for h in handles for cid in h.client_order_ids]
            except Exception as exc:
                log.exception("kill switch: flatten failed")
                errors.append(f"flatten: {exc}")
        return KillSwitchResult(tuple(requested), tuple(still_working), tuple(flattened), tuple(errors))

    def rearm(self, by: str = "user") -> None:
        """Allow trading again (a deliberate human action)."""
        if not self.engaged:
            return
        self._audit({"action": "rearm", "by": by})
        self._set(False, "")

    def _set(self, engaged: bool, reason: str) -> None:
        self.engaged, self.reason, self.engaged_ns = engaged, reason, self._clock_ns() if engaged else 0
        try:  # the block in memory comes first; a journal failure must not undo it
            self._journal.put(KEY, json.dumps({"engaged": engaged, "reason": reason, "ts_ns": self.engaged_ns}),
                              durable=True)
        except sqlite3.Error:
            log.exception("kill switch: persisting the state failed")
        log.warning("kill switch %s%s", "ENGAGED" if engaged else "re-armed", f": {reason}" if reason else "")
        self._bus.publish(KillSwitchChanged(engaged, reason, self._clock_ns()))

    def _audit(self, detail: dict[str, Any]) -> None:
        try:
            self._journal.audit("kill_switch", detail)
        except sqlite3.Error:
            log.exception("kill switch: audit failed")

    async def _stop_strategies(self) -> list[str]:
        errors: list[str] = []
        for callback in self._stop_callbacks:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, self.stop_timeout_s)
            except Exception as exc:
                log.exception("kill switch: a stop callback failed")
                errors.append(f"stop callback: {exc!r}")
        return errors

    async def _cancel_everything(self) -> tuple[list[ClientOrderId], list[ClientOrderId]]:
        assert self._actions is not None
        requested: list[ClientOrderId] = []
        remaining: list[Order] = []
        for attempt in range(self.cancel_attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay_s)
            requested += [o.client_order_id for o in await self._actions.cancel_all()]
            remaining = [o for o in self._actions.open_orders() if o.status is not OrderStatus.CANCEL_PENDING]
            if not remaining:
                break
        ids = [o.client_order_id for o in remaining]
        if ids:
            log.error("kill switch: %d order(s) still working after %d cancel attempts: %s", len(ids),
                      self.cancel_attempts, ", ".join(ids))
        return list(dict.fromkeys(requested)), ids
