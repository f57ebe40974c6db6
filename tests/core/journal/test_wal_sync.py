"""WalSync: each intent's commit is fsynced soon after, off the caller's thread, and requests coalesce."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import ClientOrderId, InstrumentId, Order, OrderRequest, OrderType, Side, Venue
from core.journal import Journal
from core.journal import wal_sync as wal_sync_module
from core.journal.wal_sync import WalSync

NOON_NS = int(datetime(2025, 12, 9, 12, tzinfo=timezone.utc).timestamp()) * 10**9


class SlowDisk:
    """Stands in for os.fsync: takes `seconds`, and notes how many requests had been made when each began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.requests = 0
        self.starts: list[int] = []  # requests made before each fsync began
        self.threads: set[str] = set()

    def fsync(self, fd: int) -> None:
        self.starts.append(self.requests)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.seconds)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    fake = SlowDisk(0.02)
    monkeypatch.setattr(wal_sync_module.os, "fsync", fake.fsync)
    return fake


def test_a_burst_costs_at_most_two_fsyncs_and_the_last_covers_every_request(tmp_path: Path, disk: SlowDisk) -> None:
    wal = tmp_path / "j.db-wal"
    wal.write_bytes(b"")
    sync = WalSync(wal)
    try:
        for _ in range(50):
            disk.requests += 1
            sync.request()
        started = time.perf_counter()
        sync.flush()
        assert time.perf_counter() - started < 1.0
        assert 1 <= len(disk.starts) <= 2, disk.starts
        assert disk.starts[-1] == 50  # the last fsync began after the last request: every commit is covered
        assert disk.threads == {t for t in disk.threads if t.startswith("journal-fsync")}
    finally:
        sync.close()


def test_request_returns_at_once_while_the_disk_is_slow(tmp_path: Path, disk: SlowDisk) -> None:
    wal = tmp_path / "j.db-wal"
    wal.write_bytes(b"")
    disk.seconds = 0.3
    sync = WalSync(wal)
    try:
        started = time.perf_counter()
        sync.request()
        sync.request()
        assert time.perf_counter() - started < 0.1
    finally:
        sync.close()  # waits for the pending fsync
    assert disk.starts == [0]


def test_each_order_intent_is_fsynced_after_its_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    journal = Journal.open(tmp_path / "journal.db", clock_ns=lambda: NOON_NS)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        # what another reader sees when the fsync starts: the intent is already committed
        reader = Journal.open(tmp_path / "journal.db")
        synced.append(len(reader.open_orders()))
        reader.close()
        real_fsync(fd)

    monkeypatch.setattr(wal_sync_module.os, "fsync", fsync)
    try:
        request = OrderRequest(InstrumentId(Venue.BINANCE, "BTCUSDT"), Side.BUY, Decimal("0.5"), OrderType.LIMIT,
                               price=Decimal("50000.10"))
        journal.record_intent(Order(ClientOrderId("W1"), request, created_ns=NOON_NS, updated_ns=NOON_NS))
        journal.wal_sync.flush()
        assert synced and synced[-1] == 1
        assert journal.wal_sync.fsyncs == len(synced)
    finally:
        journal.close()
