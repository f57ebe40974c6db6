"""The journal's disk work on a worker thread: fsync of the write-ahead log, and checkpoints.

An order intent is written to the journal's intent log (in the OS page cache) before its request is sent,
which a crash of the terminal cannot undo; every commit is synchronous=NORMAL (in the WAL, in the page
cache). What a power cut could still take is the part of those files not yet on the disk; WalSync puts it
there on its own thread, woken by request() once the request is on its way (Journal.flush_intents). The
window a power cut could hit is that hand-off plus the fsync (about 2.5 ms here); what it loses is found
again by reconciliation, which reports the venue's order as one unknown to the journal and adopts the
position.

Why woken after the send, not before and not by polling: waking a thread costs a system call, and the
woken thread then wants the GIL, so a wake ahead of the send cost the order path 75 us at the median
(bench_tick_to_order.py). A worker polling every 5 ms took the GIL at random moments instead, and one
order in ten or so met it: the tick-to-order p99 went 0.86 -> 1.03 ms. Requests made while an fsync runs
are covered by one more fsync.

Checkpoints: the journal's own connection runs with wal_autocheckpoint=0 and a journal_size_limit, and the
worker copies the WAL back into the database (a PASSIVE checkpoint on its own connection, which never
blocks the writer) once the WAL file has grown past CHECKPOINT_BYTES. Left to SQLite, the commit that
crossed 1,000 WAL pages ran the checkpoint on the loop thread, with an fsync: 1-4 ms, every 140 or so
orders. The size is checked after each fsync and every CHECK_INTERVAL_S (commits of order reports request
no fsync), which keeps checkpoints as rare as SQLite's own: a commit that meets one in progress can still
wait for it.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0  # an idle worker's look at the WAL's size
CHECKPOINT_BYTES = 4 << 20  # also the journal's journal_size_limit: the WAL is cut back to this after a checkpoint


class WalSync:
    """Background fsync and checkpoints of one SQLite database in WAL mode.

    Call request() after a commit that must reach the disk soon; flush() to put it there now.
    """

    def __init__(self, db_path: Path, interval_s: float = CHECK_INTERVAL_S, checkpoint_bytes: int = CHECKPOINT_BYTES,
                 companions: tuple[Path, ...] = ()) -> None:
        self.db_path = db_path
        self.path = db_path.with_name(db_path.name + "-wal")
        self.companions = companions  # files fsynced with the WAL (the journal's intent log)
        self.interval_s = interval_s
        self.checkpoint_bytes = checkpoint_bytes
        self.fsyncs = 0
        self.checkpoints = 0
        self._requested = 0  # bumped by request(); an int increment needs no lock under the GIL
        self._synced = 0  # the request count covered by the last fsync
        self._wake = threading.Event()
        self._fds: list[int] = []  # the WAL's, then the companions'
        self._sync_lock = threading.Lock()  # one fsync at a time (the worker's, or a caller's flush)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Have everything committed so far reach the disk now, on the worker (returns at once).

        It wakes the worker, which then competes for the GIL: call it once latency no longer matters.
        """
        self._requested += 1
        self._wake.set()

    def flush(self) -> None:
        """Block until every commit made before this call is on the disk (fsync on the caller's thread)."""
        self._sync(self._requested)

    def close(self) -> None:
        """Stop the worker, then put what is pending on the disk and release the file (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        if self._requested != self._synced:
            self._sync(self._requested)
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def _run(self) -> None:
        checkpointer: sqlite3.Connection | None = None
        checkpointed_size = -1  # the WAL's size at the last checkpoint: unchanged means nothing new to copy
        try:
            while True:
                self._wake.wait(self.interval_s)
                if self._stop.is_set():
                    break
                self._wake.clear()  # before reading the count: a request after this wakes the next round
                target = self._requested
                if target != self._synced:
                    self._sync(target)
                size = self.wal_size()
                if size > self.checkpoint_bytes and size != checkpointed_size:
                    checkpointer = checkpointer or sqlite3.connect(self.db_path, isolation_level=None)
                    self._checkpoint(checkpointer)
                    checkpointed_size = size
        except Exception:
            log.critical("the journal's disk worker stopped: later orders reach the disk only at close",
                         exc_info=True)
        finally:
            if checkpointer is not None:
                checkpointer.close()

    def wal_size(self) -> int:
        """The WAL file's size in bytes (0 before the first commit)."""
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def _sync(self, target: int) -> None:
        with self._sync_lock:
            try:
                if not self._fds:  # Windows' fsync needs a writable handle
                    self._fds = [os.open(path, os.O_RDWR) for path in (self.path, *self.companions)]
                for fd in self._fds:
                    os.fsync(fd)
            except OSError:
                log.critical("fsync of the journal's WAL %s failed: the last orders may not survive a power cut",
                             self.path, exc_info=True)
                raise
            self.fsyncs += 1
            self._synced = max(self._synced, target)

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # e.g. locked by a long reader: the WAL's next growth tries again
            log.info("journal checkpoint deferred: %s", exc)

