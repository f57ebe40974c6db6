"""WalSync: commits reach the disk soon after request(), off the caller's thread, requests made during an
fsync costing one more; flush() fsyncs at once; checkpoints run on the worker, never in the journal's own
commits."""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import ClientOrderId, InstrumentId, Order, OrderRequest, OrderType, Side, Venue
from core.journal import Journal
from core.journal import wal_sync as wal_sync_module
from core.journal.wal_sync import WalSync

NOON_NS = int(datetime(2025, 12, 9, 12, tzinfo=timezone.utc).timestamp()) * 10**9
REQUEST = OrderRequest(InstrumentId(Venue.BINANCE, "BTCUSDT"), Side.BUY, Decimal("0.5"), OrderType.LIMIT,
                       price=Decimal("50000.10"))


class SlowDisk:
    """Stands in for os.fsync: takes `seconds`, and notes how many requests had been made when each began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.requests = 0
        self.starts: list[int] = []  # requests made before each fsync began
        self.threads: list[str] = []

    def fsync(self, fd: int) -> None:
        self.starts.append(self.requests)
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    fake = SlowDisk(0.02)
    monkeypatch.setattr(wal_sync_module.os, "fsync", fake.fsync)
    return fake


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "j.db"
    path.with_name("j.db-wal").write_bytes(b"")
    return path


def test_a_request_is_fsynced_soon_on_the_worker_and_requests_during_an_fsync_cost_one_more(
        db_path: Path, disk: SlowDisk) -> None:
    sync = WalSync(db_path, interval_s=3600)  # no idle look: only requests wake the worker
    try:
        disk.requests += 1
        sync.request()
        wait_until(lambda: len(disk.starts) == 1)  # the worker is in the first (20 ms) fsync
        started = time.perf_counter()
        for _ in range(50):
            disk.requests += 1
            sync.request()
        assert time.perf_counter() - started < 0.005  # no waiting for the fsync in progress
        wait_until(lambda: sync.fsyncs == 2)
        time.sleep(0.05)
        assert disk.starts == [1, 51]  # one more fsync, begun after the last request: every commit covered
        assert disk.threads == ["journal-fsync"] * 2
    finally:
        sync.close()


def test_nothing_requested_means_no_fsync_and_close_syncs_what_is_pending(db_path: Path, disk: SlowDisk) -> None:
    sync = WalSync(db_path, interval_s=0.001)  # idle looks every millisecond find nothing to sync
    time.sleep(0.02)
    assert disk.starts == []
    sync._requested += 1  # a request the worker has not been woken for (it would be by request())
    sync.close()
    assert disk.starts == [0] and sync.fsyncs == 1 and not sync._thread.is_alive()
    sync.close()  # idempotent
    assert sync.fsyncs == 1


def test_flush_fsyncs_on_the_callers_thread_at_once(db_path: Path, disk: SlowDisk) -> None:
    sync = WalSync(db_path, interval_s=3600)
    try:
        sync._requested += 1  # committed, no worker woken
        sync.flush()
        assert disk.threads == [threading.current_thread().name]
    finally:
        sync.close()
    assert sync.fsyncs == 1  # the flush covered the request: close had nothing left to do


def test_each_order_intent_is_fsynced_with_the_wal_after_it_is_written(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, list[str]]] = []  # (file, the intent ids in the intent log) at each fsync
    journal = Journal.open(tmp_path / "journal.db", clock_ns=lambda: NOON_NS)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.path.basename(os.readlink(f"/proc/self/fd/{fd}")),
                       [intent[0] for intent, _ in journal.intent_log.read()]))
        real_fsync(fd)

    monkeypatch.setattr(wal_sync_module.os, "fsync", fsync)
    try:
        journal.record_intent(Order(ClientOrderId("W1"), REQUEST, created_ns=NOON_NS, updated_ns=NOON_NS))
        time.sleep(0.02)
        assert synced == []  # nothing wakes the worker before the request is sent
        journal.flush_intents()  # as the OMS does once the request is on its way
        wait_until(lambda: journal.wal_sync.fsyncs >= 1)
        assert synced == [("journal.db-wal", ["W1"]), ("journal.db-intents", ["W1"])]
    finally:
        journal.close()


def test_checkpoints_run_on_the_worker_and_not_in_the_journals_commits(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db", clock_ns=lambda: NOON_NS)
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    journal.wal_sync.close()
    journal.wal_sync = sync = WalSync(journal.path, checkpoint_bytes=1 << 40)  # a worker that never checkpoints
    try:
        schema_only = journal.path.stat().st_size
        for i in range(300):  # about 2,000 WAL pages: SQLite's own rule would have checkpointed twice
            journal.record_intent(Order(ClientOrderId(f"C{i}"), REQUEST, created_ns=NOON_NS, updated_ns=NOON_NS))
            journal.flush_intents()  # as the OMS does once each request is on its way
        assert journal.path.stat().st_size == schema_only  # the commits left everything in the WAL
        assert sync.wal_size() > wal_sync_module.CHECKPOINT_BYTES  # past the size at which a worker would copy it back
        sync.close()
        journal.wal_sync = sync = WalSync(journal.path, interval_s=0.005, checkpoint_bytes=sync.wal_size() - 1)
        wait_until(lambda: sync.checkpoints == 1)
        assert journal.path.stat().st_size > schema_only + 300 * 100  # the worker copied the rows back
        time.sleep(0.05)
        assert sync.checkpoints == 1  # the WAL did not grow again: no second checkpoint
        assert len(journal.open_orders()) == 300
    finally:
        journal.close()
