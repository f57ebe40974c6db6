"""Per-endpoint request limits of the Kite API (kite.md C5), counted per API key in sliding windows.

Quotes 1/s, historical candles 3/s, order placement 10/s and 200/min and 3000/day, everything else
10/s. Over a limit the request gets 429 NetworkException "Too many requests" and is not counted.
Tests may loosen or tighten a class with set().
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

QUOTE, HISTORICAL, ORDERS, OTHER = "quote", "historical", "orders", "other"
DEFAULT_RULES: dict[str, tuple[tuple[int, float], ...]] = {
    QUOTE: ((1, 1.0),),
    HISTORICAL: ((3, 1.0),),
    ORDERS: ((10, 1.0), (200, 60.0), (3000, 86_400.0)),
    OTHER: ((10, 1.0),),
}


class RateLimits:
    """Sliding-window counters: {(api_key, class, window index): send times}."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.rules = dict(DEFAULT_RULES)
        self._seen: dict[tuple[str, str, int], deque[float]] = {}

    def set(self, kind: str, *windows: tuple[int, float]) -> None:
        """Replace the windows (count, seconds) of one endpoint class."""
        self.rules[kind] = tuple(windows)

    def admit(self, api_key: str, kind: str) -> bool:
        """Count a request if every window of its class has room; False (not counted) if one is full."""
        now = self._clock()
        queues = []
        for i, (limit, span) in enumerate(self.rules[kind]):
            seen = self._seen.setdefault((api_key, kind, i), deque())
            while seen and now - seen[0] >= span:
                seen.popleft()
            if len(seen) >= limit:
                return False
            queues.append(seen)
        for seen in queues:
            seen.append(now)
        return True
