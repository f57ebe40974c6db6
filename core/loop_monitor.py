"""Event-loop lag: how late a timer fires on the one loop. Shown in the status bar; kept in a ring."""
from __future__ import annotations

import asyncio
import time
from collections import deque

import numpy as np


class LoopLagMonitor:
    """Schedule a callback every interval and record how late it runs (milliseconds)."""

    def __init__(self, interval: float = 0.1, history: int = 600) -> None:
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=history)
        self._handle: asyncio.TimerHandle | None = None
        self._expected = 0.0

    def start(self) -> None:
        """Start sampling on the running loop."""
        loop = asyncio.get_running_loop()
        self._expected = time.perf_counter() + self.interval
        self._handle = loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        now = time.perf_counter()
        self.samples.append(max(0.0, (now - self._expected) * 1000.0))
        self._expected = now + self.interval
        self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)

    @property
    def last_ms(self) -> float:
        return self.samples[-1] if self.samples else 0.0

    def percentile(self, q: float, last: int | None = None) -> float:
        """Return the q-th percentile (0-100) of the lag in ms over the history, or its `last` samples."""
        samples = list(self.samples)[-last:] if last else self.samples
        return float(np.percentile(np.fromiter(samples, float), q)) if samples else 0.0
