"""Order-rate accounting: sliding one-second windows per exchange, one-minute windows and UTC-day counts per
venue. Only orders that pass every other rule are counted, so a rejection never uses up the budget."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain import Venue

NS_PER_DAY = 86_400 * 10**9


@dataclass(slots=True)
class _Window:
    span_s: float
    stamps: deque[float] = field(default_factory=deque)

    def count(self, now: float) -> int:
        while self.stamps and now - self.stamps[0] >= self.span_s:
            self.stamps.popleft()
        return len(self.stamps)

    def wait_s(self, limit: int, n: int, now: float) -> float:
        """Seconds until n more stamps fit under limit."""
        excess = self.count(now) + n - limit
        if excess <= 0:
            return 0.0
        if n > limit:
            return float("inf")
        return self.stamps[excess - 1] + self.span_s - now


@dataclass(frozen=True, slots=True)
class RateUsage:
    per_second: int  # the busiest exchange of the venue
    per_minute: int
    per_day: int


class OrderRateLimiter:
    """Counts order requests (new orders, slices and modifications)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._monotonic = monotonic
        self._clock_ns = clock_ns
        self._seconds: dict[tuple[Venue, str], _Window] = {}
        self._minutes: dict[Venue, _Window] = {}
        self._days: dict[Venue, tuple[int, int]] = {}  # venue -> (UTC day number, orders that day)

    def problem(self, venue: Venue, exchange: str, n: int, per_second: int | None, per_minute: int | None,
                per_day: int | None) -> str | None:
        """Return why n more orders would exceed a rate limit, or None if they fit."""
        now = self._monotonic()
        used = self._second(venue, exchange).count(now)
        if per_second is not None and used + n > per_second:
            return f"{used + n} orders in 1 s on {exchange} > limit {per_second}/s"
        used = self._minute(venue).count(now)
        if per_minute is not None and used + n > per_minute:
            return f"{used + n} orders in 1 min on {venue.value} > limit {per_minute}/min"
        used = self._day_count(venue)
        if per_day is not None and used + n > per_day:
            return f"{used + n} orders today on {venue.value} > limit {per_day}/day"
        return None

    def record(self, venue: Venue, exchange: str, n: int = 1) -> None:
        """Count n orders sent now."""
        now = self._monotonic()
        self._second(venue, exchange).stamps.extend([now] * n)
        self._minute(venue).stamps.extend([now] * n)
        self._days[venue] = (self._today(), self._day_count(venue) + n)

    def wait_s(self, venue: Venue, exchange: str, per_second: int | None, per_minute: int | None, n: int = 1) -> float:
        """Seconds until n more orders fit the per-second and per-minute windows (inf if they never will)."""
        now = self._monotonic()
        waits = [0.0]
        if per_second is not None:
            waits.append(self._second(venue, exchange).wait_s(per_second, n, now))
        if per_minute is not None:
            waits.append(self._minute(venue).wait_s(per_minute, n, now))
        return max(waits)

    def usage(self, venue: Venue) -> RateUsage:
        """Current counts for the risk panel."""
        now = self._monotonic()
        busiest = max((w.count(now) for (v, _), w in self._seconds.items() if v is venue), default=0)
        return RateUsage(busiest, self._minute(venue).count(now), self._day_count(venue))

    def _second(self, venue: Venue, exchange: str) -> _Window:
        window = self._seconds.get((venue, exchange))
        if window is None:
            window = self._seconds[(venue, exchange)] = _Window(1.0)
        return window

    def _minute(self, venue: Venue) -> _Window:
        window = self._minutes.get(venue)
        if window is None:
            window = self._minutes[venue] = _Window(60.0)
        return window

    def _today(self) -> int:
        """Days since the epoch, UTC (integer arithmetic: this runs three times on each order's way out)."""
        return self._clock_ns() // NS_PER_DAY

    def _day_count(self, venue: Venue) -> int:
        day, count = self._days.get(venue, (-1, 0))
        return count if day == self._today() else 0
