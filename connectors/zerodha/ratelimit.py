"""Client-side rate limits per Kite endpoint class (kite.md C5), kept a little under the venue's.

Sliding windows: quotes 1/s, historical 3/s, order placement 10/s and 200/min and 3000/day, everything
else 10/s (all configurable). A request waits for room in its class; a wait longer than max_wait_s
raises RateLimited instead (the per-minute and per-day order caps). After a 429 the class pauses for
the retry interval. Every window is stretched by margin_s so that network jitter never makes two of
our requests look closer together at the server than they were here.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import RateLimited

QUOTE, HISTORICAL, ORDERS, OTHER = "quote", "historical", "orders", "other"


@dataclass(frozen=True)
class KiteLimits:
    """Per-class request limits (kite.md C5); lower them to keep more headroom."""

    quote_per_s: int = 1
    historical_per_s: int = 3
    orders_per_s: int = 10
    orders_per_minute: int = 200
    orders_per_day: int = 3000
    other_per_s: int = 10
    max_wait_s: float = 5.0
    margin_s: float = 0.05

    def windows(self) -> dict[str, tuple[tuple[int, float], ...]]:
        """{class: ((count, seconds), ...)}."""
        return {QUOTE: ((self.quote_per_s, 1.0),), HISTORICAL: ((self.historical_per_s, 1.0),),
                ORDERS: ((self.orders_per_s, 1.0), (self.orders_per_minute, 60.0), (self.orders_per_day, 86_400.0)),
                OTHER: ((self.other_per_s, 1.0),)}


class RateLimiter:
    """Waits for room in an endpoint class; see the module docstring."""

    def __init__(self, limits: KiteLimits = KiteLimits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._windows = {kind: [(limit, span + limits.margin_s, deque[float]()) for limit, span in rules]
                         for kind, rules in limits.windows().items()}
        self._paused_until: dict[str, float] = {}
        self._locks = {kind: asyncio.Lock() for kind in self._windows}

    def pause(self, kind: str, seconds: float) -> None:
        """Hold a class back after the venue answered 429."""
        self._paused_until[kind] = max(self._paused_until.get(kind, 0.0), self._clock() + seconds)

    def wait_needed(self, kind: str) -> float:
        """Seconds until a request of this class may go (0 if now)."""
        now = self._clock()
        wait = self._paused_until.get(kind, 0.0) - now
        for limit, span, sent in self._windows[kind]:
            while sent and now - sent[0] >= span:
                sent.popleft()
            if len(sent) >= limit:
                wait = max(wait, sent[0] + span - now)
        return max(0.0, wait)

    async def acquire(self, kind: str) -> None:
        """Wait for room (in order of arrival) and count the request; RateLimited if the wait is too long."""
        async with self._locks[kind]:
            while True:
                wait = self.wait_needed(kind)
                if wait <= 0:
                    break
                if wait > self.limits.max_wait_s:
                    raise RateLimited(f"Kite {kind} limit: the next slot is {wait:.1f} s away", retry_after=wait)
                await asyncio.sleep(wait)
            now = self._clock()
            for _, _, sent in self._windows[kind]:
                sent.append(now)
