"""fsync of the journal's write-ahead log on a worker thread, so an order leaves without waiting for the disk.

An order intent is committed (synchronous=NORMAL: in the WAL, in the OS page cache) before its request is
sent, which a crash of the terminal cannot undo. What a power cut could still take is the part of the WAL
not yet on the disk; WalSync puts it there right after the commit, on its own thread, while the request is
on its way (an fsync here takes about 0.3 ms, a venue round trip several). The window a power cut could
hit is that fsync; what it loses is found again by reconciliation, which reports the venue's order as one
unknown to the journal and adopts the position.

Requests coalesce: one fsync covers every commit made before it started, so a burst of orders costs one
or two fsyncs, never a queue of them.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)


class WalSync:
    """Coalescing background fsync of one SQLite WAL file. Call request() after a commit; flush() to wait."""

    def __init__(self, wal_path: Path) -> None:
        self.path = wal_path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._queued: Future[None] | None = None  # an fsync that has not started yet: later requests share it
        self._last: Future[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-fsync")
        self.fsyncs = 0

    def request(self) -> None:
        """Have everything committed so far reach the disk soon (returns at once)."""
        with self._lock:
            if self._queued is None:
                self._queued = self._last = self._pool.submit(self._sync)

    def flush(self) -> None:
        """Block until every commit made before this call is on the disk."""
        self.request()
        with self._lock:
            last = self._last
        if last is not None:
            last.result()

    def close(self) -> None:
        """Finish the pending fsync and release the file (idempotent)."""
        self._pool.shutdown(wait=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _sync(self) -> None:
        with self._lock:
            self._queued = None  # commits from now on need the next fsync, not this one
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR)  # Windows' fsync needs a writable handle
            os.fsync(self._fd)
            self.fsyncs += 1
        except OSError:
            log.critical("fsync of the journal's WAL %s failed: the last orders may not survive a power cut",
                         self.path, exc_info=True)
            raise
