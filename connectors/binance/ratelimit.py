"""Client-side rate limiting that keeps well under Binance's limits and never provokes a ban.

Binance counts request weight per IP and new orders per account in fixed calendar buckets (a minute
resets at :00, ten seconds at :00, :10, ...) and reports the running counts in response headers
(X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S, ...). We mirror each bucket: count locally before
sending, take the server's figure when it answers, and wait for the next bucket rather than cross
`headroom` of a limit. After a 429/418 every request is refused locally until Retry-After has
passed: continuing after a 429 is what turns it into a 418 ban (binance.md A5).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from core.errors import RateLimited

_INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


@dataclass
class LimitRule:
    """One rateLimits entry of exchangeInfo and our count in its current bucket."""

    kind: str  # REQUEST_WEIGHT | ORDERS | RAW_REQUESTS
    interval: str
    interval_num: int
    limit: int
    used: int = 0
    bucket: int = -1

    @property
    def interval_ms(self) -> int:
        return _INTERVAL_MS[self.interval] * self.interval_num

    @property
    def header(self) -> str:
        """The response header that reports this rule's count ('' for RAW_REQUESTS)."""
        prefix = {"REQUEST_WEIGHT": "x-mbx-used-weight-", "ORDERS": "x-mbx-order-count-"}.get(self.kind)
        return f"{prefix}{self.interval_num}{_LETTER[self.interval].lower()}" if prefix else ""

    def roll(self, now_ms: int) -> None:
        bucket = now_ms // self.interval_ms
        if bucket != self.bucket:
            self.bucket, self.used = bucket, 0


SPOT_DEFAULT_LIMITS = (
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
)
USDM_DEFAULT_LIMITS = (
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
)


class RateLimiter:
    """Weight and order-count buckets for one API (one IP, one account)."""

    def __init__(self, clock_ms: Callable[[], int], limits: Iterable[Mapping[str, object]] = SPOT_DEFAULT_LIMITS,
                 headroom: float = 0.8, max_wait_s: float = 5.0) -> None:
        self._clock_ms = clock_ms
        self.headroom = headroom
        self.max_wait_s = max_wait_s
        self.rules: list[LimitRule] = []
        self._blocked_until = 0.0  # time.monotonic()
        self.configure(limits)

    def configure(self, limits: Iterable[Mapping[str, object]]) -> None:
        """Adopt the rateLimits published in exchangeInfo."""
        self.rules = [LimitRule(str(r["rateLimitType"]), str(r["interval"]), int(r["intervalNum"]),  # type: ignore[call-overload]
                                int(r["limit"])) for r in limits]  # type: ignore[call-overload]

    @property
    def blocked_for(self) -> float:
        """Seconds until requests may go out again after a 429/418 (0 when not blocked)."""
        return max(0.0, self._blocked_until - time.monotonic())

    def block(self, seconds: float) -> None:
        """Refuse every request for `seconds` (the venue's Retry-After)."""
        self._blocked_until = max(self._blocked_until, time.monotonic() + max(seconds, 0.0))

    async def acquire(self, weight: int, orders: int = 0) -> None:
        """Wait until a request of this weight (placing `orders` orders) fits; raise RateLimited if it cannot soon."""
        while True:
            blocked = self.blocked_for
            if blocked > 0:
                raise RateLimited(f"Binance rate limit: requests paused for {blocked:.1f} s after a 429", retry_after=blocked)
            wait_ms = self._wait_ms(weight, orders)
            if wait_ms <= 0:
                break
            if wait_ms / 1000 > self.max_wait_s:
                raise RateLimited(f"Binance rate limit: next bucket in {wait_ms / 1000:.1f} s", retry_after=wait_ms / 1000)
            await asyncio.sleep(wait_ms / 1000)
        for rule in self.rules:
            rule.used += self._cost(rule, weight, orders)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the server's counts from response headers (names are case-insensitive)."""
        lower = {k.lower(): v for k, v in headers.items()}
        now = self._clock_ms()
        for rule in self.rules:
            value = lower.get(rule.header) if rule.header else None
            if value is not None and value.isdigit():
                rule.roll(now)
                rule.used = max(rule.used, int(value))

    def usage(self) -> dict[str, tuple[int, int]]:
        """{header-like name: (used, limit)} for diagnostics."""
        now = self._clock_ms()
        out = {}
        for rule in self.rules:
            rule.roll(now)
            out[f"{rule.kind}-{rule.interval_num}{_LETTER[rule.interval]}"] = (rule.used, rule.limit)
        return out

    def _wait_ms(self, weight: int, orders: int) -> int:
        now = self._clock_ms()
        wait = 0
        for rule in self.rules:
            rule.roll(now)
            cost = self._cost(rule, weight, orders)
            if cost and rule.used and rule.used + cost > rule.limit * self.headroom:
                wait = max(wait, (rule.bucket + 1) * rule.interval_ms - now + 1)
        return wait

    @staticmethod
    def _cost(rule: LimitRule, weight: int, orders: int) -> int:
        return {"REQUEST_WEIGHT": weight, "ORDERS": orders}.get(rule.kind, 1)
