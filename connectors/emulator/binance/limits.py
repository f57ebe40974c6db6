"""Server-side request weight and order-count limits, with 429 and the 418 ban (binance.md A5).

Weight is counted per IP (one counter per server, everything is loopback) and orders per account, in
fixed calendar buckets. Every answer carries X-MBX-USED-WEIGHT-<n><unit>; order answers carry
X-MBX-ORDER-COUNT-<n><unit>. Over a limit: 429 with Retry-After. A client that keeps sending during
the Retry-After window collects strikes and is banned with 418 (Retry-After = seconds left).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import BinanceError

_UNIT_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


@dataclass
class Bucket:
    interval: str
    interval_num: int
    limit: int
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (bucket index, count)

    @property
    def span_ms(self) -> int:
        return _UNIT_MS[self.interval] * self.interval_num

    @property
    def suffix(self) -> str:
        return f"{self.interval_num}{_LETTER[self.interval]}"

    def add(self, key: str, amount: int, now_ms: int) -> int:
        index = now_ms // self.span_ms
        current, count = self.counts.get(key, (index, 0))
        count = (0 if current != index else count) + amount
        self.counts[key] = (index, count)
        return count

    def seconds_to_next(self, now_ms: int) -> int:
        return max(1, math.ceil(((now_ms // self.span_ms + 1) * self.span_ms - now_ms) / 1000))


class ServerLimits:
    """Weight and order buckets of one emulated API."""

    def __init__(self, clock_ms: Callable[[], int], weight: tuple[str, int, int], orders: tuple[tuple[str, int, int], ...],
                 ban_s: float = 120.0, strikes_to_ban: int = 3) -> None:
        self._clock_ms = clock_ms
        self.weight = Bucket(*weight)
        self.orders = [Bucket(*o) for o in orders]
        self.ban_s = ban_s
        self.strikes_to_ban = strikes_to_ban
        self._retry_until_ms = 0
        self._banned_until_ms = 0
        self._strikes = 0

    def rate_limits(self) -> list[dict[str, object]]:
        """The exchangeInfo rateLimits entries."""
        out: list[dict[str, object]] = [{"rateLimitType": "REQUEST_WEIGHT", "interval": self.weight.interval,
                                         "intervalNum": self.weight.interval_num, "limit": self.weight.limit}]
        out += [{"rateLimitType": "ORDERS", "interval": b.interval, "intervalNum": b.interval_num, "limit": b.limit}
                for b in self.orders]
        return out

    def admit(self, weight: int) -> dict[str, str]:
        """Count a request; return its weight header, or raise 429/418."""
        now = self._clock_ms()
        if now < self._banned_until_ms:
            raise self._banned(now)
        if now < self._retry_until_ms:
            self._strikes += 1
            if self._strikes >= self.strikes_to_ban:
                self._banned_until_ms = now + int(self.ban_s * 1000)
                raise self._banned(now)
            raise self.too_many(math.ceil((self._retry_until_ms - now) / 1000))
        used = self.weight.add("ip", weight, now)
        headers = {f"X-MBX-USED-WEIGHT-{self.weight.suffix}": str(used)}
        if used > self.weight.limit:
            raise self.too_many(self.weight.seconds_to_next(now), headers,
                                f"Too much request weight used; current limit is {self.weight.limit} request weight "
                                f"per {self.weight.interval_num} {self.weight.interval}. Please use WebSocket Streams "
                                "for live updates to avoid polling the API.")
        return headers

    def count_order(self, account: str) -> dict[str, str]:
        """Count a new order for an account; return the order-count headers, or raise -1015 (429)."""
        now = self._clock_ms()
        headers = {}
        for bucket in self.orders:
            count = bucket.add(account, 1, now)
            headers[f"X-MBX-ORDER-COUNT-{bucket.suffix}"] = str(count)
            if count > bucket.limit:
                raise BinanceError(-1015, f"Too many new orders; current limit is {bucket.limit} orders per "
                                          f"{bucket.interval_num} {bucket.interval}.", status=429,
                                   headers={"Retry-After": str(bucket.seconds_to_next(now))})
        return headers

    def too_many(self, retry_after: int, headers: dict[str, str] | None = None,
                 msg: str = "Too many requests; please use the Retry-After header.") -> BinanceError:
        """Open a Retry-After window and return the 429 to raise."""
        now = self._clock_ms()
        if now >= self._retry_until_ms:
            self._strikes = 0
        self._retry_until_ms = max(self._retry_until_ms, now + retry_after * 1000)
        return BinanceError(-1003, msg, status=429, headers={**(headers or {}), "Retry-After": str(retry_after)})

    def ban(self, seconds: float) -> BinanceError:
        """Ban now (the http_418 fault) and return the 418 to raise."""
        now = self._clock_ms()
        self._banned_until_ms = now + int(seconds * 1000)
        return self._banned(now)

    def _banned(self, now: int) -> BinanceError:
        left = max(1, math.ceil((self._banned_until_ms - now) / 1000))
        return BinanceError(-1003, f"Way too much request weight used; IP banned until {self._banned_until_ms}. "
                                   "Please use WebSocket Streams for live updates to avoid bans.",
                            status=418, headers={"Retry-After": str(left)})
