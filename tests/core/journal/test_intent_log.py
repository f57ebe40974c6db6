"""The intent log: an order intent is on file before its request leaves, and its rows reach the database
after it, before anything else is written or read, or at the next open after a crash."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import ClientOrderId, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, Side, Venue
from core.journal import Journal
from core.journal import journal as journal_module

NOON_NS = int(datetime(2025, 12, 9, 12, tzinfo=timezone.utc).timestamp()) * 10**9
REQUEST = OrderRequest(InstrumentId(Venue.BINANCE, "BTCUSDT"), Side.BUY, Decimal("0.5"), OrderType.LIMIT,
                       price=Decimal("50000.10"), tag="t1")


def order(cid: str) -> Order:
    return Order(ClientOrderId(cid), REQUEST, created_ns=NOON_NS, updated_ns=NOON_NS, extra={"k": "v"})


def rows(journal: Journal, table: str) -> int:
    return int(journal._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def crash(journal: Journal) -> None:
    """What a kill -9 leaves: the files as they are, nothing flushed or emptied."""
    journal.wal_sync.close()
    journal.intent_log.close()
    journal._db.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


def test_an_intent_is_in_the_log_at_once_and_in_the_database_after_a_flush(path: Path) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        journal.record_intent(order("A1"))
        assert [intent[0] for intent, _ in journal.intent_log.read()] == ["A1"]
        assert rows(journal, "order_intents") == 0
        journal.flush_intents()
        assert rows(journal, "order_intents") == 1 and rows(journal, "order_events") == 1
        journal.flush_intents()  # nothing pending: nothing twice
        assert rows(journal, "order_events") == 1
    finally:
        journal.close()


def test_reads_and_writes_see_the_pending_intents_first(path: Path) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        journal.record_intent(order("A1"))
        assert journal.order("A1") == order("A1")  # an order query inserts the pending rows first
        journal.record_intent(order("A2"))
        acked = order("A2").transition(OrderStatus.OPEN, venue_order_id="V2", updated_ns=NOON_NS + 1)
        journal.record_update(acked, "report")  # the intent's event must come before the report's
        kinds = journal._db.execute("SELECT kind FROM order_events WHERE client_order_id = 'A2' ORDER BY seq").fetchall()
        assert kinds == [("intent",), ("report",)]
        assert journal.order("A2") == acked
    finally:
        journal.close()


def test_a_second_intent_for_an_id_raises_pending_or_not(path: Path) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        journal.record_intent(order("A1"))
        with pytest.raises(journal_module.sqlite3.IntegrityError):
            journal.record_intent(order("A1"))
        journal.flush_intents()
        with pytest.raises(journal_module.sqlite3.IntegrityError):
            journal.record_intent(order("A1"))
        assert len(journal.intent_log.read()) == 1
    finally:
        journal.close()


def test_intents_left_only_in_the_log_by_a_crash_are_recovered_at_the_next_open(path: Path,
                                                                               caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    journal.record_intent(order("A1"))
    journal.flush_intents()
    journal.record_intent(order("A2"))
    journal.record_intent(order("A3"))
    crash(journal)
    with caplog.at_level(logging.WARNING):
        again = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        assert [o.client_order_id for o in again.open_orders()] == ["A1", "A2", "A3"]
        assert again.order("A3") == order("A3")
        assert rows(again, "order_events") == 3
        assert again.intent_log.read() == [] and again.intent_log.path.stat().st_size == 0
        assert "2 order intent(s) recovered" in caplog.text  # A1 was in the database already
    finally:
        again.close()


def test_recovery_twice_adds_nothing_and_a_torn_last_line_is_skipped(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    journal.record_intent(order("A1"))
    journal.record_intent(order("A2"))
    logged = journal.intent_log.path.read_bytes()
    crash(journal)
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)  # recovers A1 and A2, empties the log
    crash(journal)
    # as if the last open had crashed after inserting but before emptying the log, and a write was cut short
    journal.intent_log.path.write_bytes(logged + logged.splitlines()[0][:25])
    with caplog.at_level(logging.WARNING):
        again = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        assert [o.client_order_id for o in again.open_orders()] == ["A1", "A2"]
        assert rows(again, "order_events") == 2  # no second "intent" event
        assert "line 3 is not a whole intent" in caplog.text
    finally:
        again.close()


def test_close_inserts_the_pending_intents_and_empties_the_log(path: Path) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    journal.record_intent(order("A1"))
    journal.close()
    assert journal.intent_log.path.stat().st_size == 0
    again = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        assert again.order("A1") == order("A1")
    finally:
        again.close()


def test_the_log_is_emptied_once_its_intents_are_on_the_disk(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "INTENT_LOG_LIMIT", 1000)
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        fsyncs = journal.wal_sync.fsyncs
        for i in range(3):  # about 400 bytes each
            journal.record_intent(order(f"A{i}"))
            journal.flush_intents()
        assert journal.intent_log.size == 0 and journal.intent_log.path.stat().st_size == 0
        assert journal.wal_sync.fsyncs > fsyncs  # the rows were put on the disk before the log was emptied
        journal.record_intent(order("A9"))
        assert [intent[0] for intent, _ in journal.intent_log.read()] == ["A9"]
        assert len(journal.open_orders()) == 4
    finally:
        journal.close()


def test_a_failed_insert_keeps_the_intents_pending(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal.open(path, clock_ns=lambda: NOON_NS)
    try:
        journal.record_intent(order("A1"))
        real = journal._insert_intents

        def locked(*args: object, **kwargs: object) -> None:
            raise journal_module.sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(journal, "_insert_intents", locked)
        with pytest.raises(journal_module.sqlite3.OperationalError):
            journal.flush_intents()
        monkeypatch.setattr(journal, "_insert_intents", real)
        assert journal.order("A1") == order("A1")
    finally:
        journal.close()
