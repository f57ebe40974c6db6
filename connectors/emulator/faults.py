"""Fault injection for tests, switchable at run time (in process, or over HTTP at /_emulator/faults).

A fault is armed by name with an optional count (how many times it fires; None = until cleared) and
parameters. Protocol servers ask `take(name)` at the point the fault applies; it returns the fault's
parameters when it fires (and counts it down), or None. A fault that every server must act on (drop_ws:
the spot hub, the USD-M hub and the Kite ticker each close their own sockets) is read with
`take_once(name, consumer)` instead, which fires once per consumer per arming; with a plain take() the
first server to look would consume it and the others would never see it.

Names used by the servers:
    drop_ws            close market/ticker websockets now (params: {"stream": "binance"|"kite"|"all"})
    delay_ws           delay each outgoing frame (params: {"seconds": float})
    duplicate_ws       send the next frames twice
    reorder_ws         swap the next two frames
    depth_gap          skip a depth update id (a sequence gap) on the next diff
    http_5xx_after_order  place the order, then answer 503 (params: {"status": 503})
    http_429           answer 429 with Retry-After (params: {"retry_after": 1})
    http_418           answer 418 (IP ban) with Retry-After
    expire_token       Kite access tokens become invalid (403 TokenException) until re-login
    malformed_ws       send a malformed frame next (bad JSON / wrong binary length)
    clock_skew         shift the server clock (params: {"ms": int}); checked with recvWindow
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Armed:
    remaining: int | None
    params: dict[str, Any]
    served: set[str] = field(default_factory=set)  # consumers that took a broadcast fault


@dataclass
class Faults:
    """The set of armed faults; thread-safe, since tests may arm from another thread."""

    _armed: dict[str, _Armed] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fired: dict[str, int] = field(default_factory=dict)

    def arm(self, name: str, count: int | None = 1, **params: Any) -> None:
        """Arm a fault to fire count times (None: until cleared)."""
        with self._lock:
            self._armed[name] = _Armed(count, params)

    def clear(self, name: str | None = None) -> None:
        """Disarm one fault, or all of them."""
        with self._lock:
            if name is None:
                self._armed.clear()
            else:
                self._armed.pop(name, None)

    def active(self, name: str) -> dict[str, Any] | None:
        """Return a fault's parameters if armed, without consuming it."""
        with self._lock:
            armed = self._armed.get(name)
            return dict(armed.params) if armed else None

    def take(self, name: str) -> dict[str, Any] | None:
        """Fire a fault if armed: return its parameters and count it down; else None."""
        with self._lock:
            armed = self._armed.get(name)
            if armed is None:
                return None
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    del self._armed[name]
            self.fired[name] = self.fired.get(name, 0) + 1
            return dict(armed.params)

    def take_once(self, name: str, consumer: str) -> dict[str, Any] | None:
        """Fire a broadcast fault for one consumer: its parameters the first time this consumer asks after
        the fault was armed, None after that (and when it is not armed). Stays armed until cleared or
        re-armed, since the set of consumers is not known here."""
        with self._lock:
            armed = self._armed.get(name)
            if armed is None or consumer in armed.served:
                return None
            armed.served.add(consumer)
            self.fired[name] = self.fired.get(name, 0) + 1
            return dict(armed.params)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: {"remaining": a.remaining, **a.params} for name, a in self._armed.items()}
