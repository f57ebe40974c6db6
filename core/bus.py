"""The event bus: one per process, on the one asyncio loop.

Threading contract: publish() and subscribe() are called on the loop's thread only. Sync handlers run
inside publish(), in subscription order; a coroutine handler is scheduled as a task. A handler that
raises is logged and skipped; the others still run and the publisher never sees the error.

Routing: a subscription names an event type and optionally a key; events carry their key in an
`instrument_id` attribute (or none). A keyed subscription receives only events with that key; an
unkeyed one receives all events of the type. Subclasses of a subscribed type are not delivered: types
are matched exactly, which keeps dispatch a dict lookup.

The UI never subscribes per message: it takes a ConflatingSubscription, which keeps the latest event
per key and delivers the batch at most max_hz times a second, so 10,000 messages in a burst cost one
repaint.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[E], "None | Awaitable[None]"]


def event_key(event: object) -> Hashable | None:
    """Return the routing key of an event: its instrument id if it has one."""
    return getattr(event, "instrument_id", None)


@dataclass(eq=False)
class Subscription(Generic[E]):
    """A handle returned by subscribe(); call close() to stop receiving events."""

    bus: "EventBus"
    event_type: type[E]
    key: Hashable | None
    handler: Handler[E]
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bus._remove(self)


class EventBus:
    """Typed publish/subscribe with per-handler isolation. See the module docstring."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[type, Hashable | None], list[Subscription[Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.errors = 0  # handler exceptions so far (shown in diagnostics)
        self.published = 0

    def subscribe(self, event_type: type[E], handler: Handler[E], key: Hashable | None = None) -> Subscription[E]:
        """Call handler for every event of exactly event_type (and key, if given)."""
        sub: Subscription[E] = Subscription(self, event_type, key, handler)
        self._handlers.setdefault((event_type, key), []).append(sub)
        return sub

    def publish(self, event: object) -> None:
        """Deliver event to its subscribers now (coroutine handlers are scheduled)."""
        self.published += 1
        etype = type(event)
        subs = self._handlers.get((etype, None))
        if subs:
            self._dispatch(subs, event)
        key = event_key(event)
        if key is not None:
            keyed = self._handlers.get((etype, key))
            if keyed:
                self._dispatch(keyed, event)

    def conflate(
        self,
        event_type: type[E],
        callback: Callable[[dict[Hashable, E]], None],
        max_hz: float = 25.0,
        key: Callable[[E], Hashable] | None = None,
    ) -> "ConflatingSubscription[E]":
        """Subscribe with conflation: callback gets {key: latest event} at most max_hz times a second."""
        return ConflatingSubscription(self, event_type, callback, max_hz, key or _default_key)

    async def drain(self) -> None:
        """Wait for every scheduled coroutine handler to finish (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _dispatch(self, subs: list[Subscription[Any]], event: object) -> None:
        for sub in tuple(subs):
            if sub.closed:
                continue
            try:
                result = sub.handler(event)
            except Exception:
                self.errors += 1
                log.exception("event handler %s failed on %s", _name(sub.handler), type(event).__name__)
                continue
            if inspect.isawaitable(result):
                self._schedule(result, sub.handler, event)

    def _schedule(self, awaitable: Awaitable[None], handler: Callable[..., Any], event: object) -> None:
        async def run() -> None:
            try:
                await awaitable
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("async event handler %s failed on %s", _name(handler), type(event).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _remove(self, sub: Subscription[Any]) -> None:
        subs = self._handlers.get((sub.event_type, sub.key))
        if subs and sub in subs:
            subs.remove(sub)
            if not subs:
                del self._handlers[(sub.event_type, sub.key)]


def _default_key(event: object) -> Hashable:
    key = event_key(event)
    return key if key is not None else type(event)


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", repr(handler))


@dataclass(eq=False)
class ConflatingSubscription(Generic[E]):
    """Keeps the latest event per key; delivers the batch at most max_hz times a second.

    With a running loop, delivery is scheduled automatically; without one (scripts, tests) call
    flush() yourself.
    """

    bus: EventBus
    event_type: type[E]
    callback: Callable[[dict[Hashable, E]], None]
    max_hz: float
    key: Callable[[E], Hashable]
    pending: dict[Hashable, E] = field(default_factory=dict)
    delivered_batches: int = 0
    _last_flush: float = field(default=float("-inf"))
    _handle: asyncio.TimerHandle | None = None
    _sub: Subscription[E] | None = None

    def __post_init__(self) -> None:
        if self.max_hz <= 0:
            raise ValueError("max_hz must be positive")
        self._sub = self.bus.subscribe(self.event_type, self._on_event)

    def _on_event(self, event: E) -> None:
        self.pending[self.key(event)] = event
        if self._handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            delay = max(0.0, self._last_flush + 1.0 / self.max_hz - time.monotonic())
            self._handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Deliver what is pending now (no-op when nothing is)."""
        self._handle = None
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        self._last_flush = time.monotonic()
        self.delivered_batches += 1
        try:
            self.callback(batch)
        except Exception:
            self.bus.errors += 1
            log.exception("conflated handler %s failed", _name(self.callback))

    def close(self) -> None:
        if self._sub is not None:
            self._sub.close()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.pending.clear()
