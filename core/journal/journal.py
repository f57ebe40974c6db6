"""The SQLite journal: what the OMS intends, what the venue said, and every fill, in WAL mode.

Durability: an order intent is written to the intent log (core.journal.intent_log: one write(), in the
OS page cache) before the connector is called, so a crash of the terminal can never leave a venue order
without its journal row: the rows are inserted once the request is on its way (flush_intents), before
any other journal call, or, after a crash, when the journal is next opened. Every commit is
synchronous=NORMAL (in the WAL, safe from a process crash); once the rows are inserted, WalSync fsyncs the
intent log and the WAL on a worker thread (about 2 ms) while the order is on its way. A power cut in that
window can lose only what reconciliation fetches back from the venue. kv entries written with durable=True (the kill
switch, the id epoch) are fsynced before put() returns.

Threading: one connection, used on the loop thread only; the WAL fsync and the checkpoints run on
WalSync's thread (with its own connection). Writes are small single transactions (tens of microseconds).
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.domain import ClientOrderId, Fill, InstrumentId, Order, OrderStatus, Product, Side, Venue
from core.security.redaction import redact_value

from .cache import MarketCache
from .codec import dec, dumps, request_from_dict, request_to_dict, undec
from .intent_log import IntentLog, IntentRows
from .schema import SCHEMA, append_only_triggers
from .wal_sync import CHECKPOINT_BYTES, WalSync

log = logging.getLogger(__name__)

_TERMINAL = tuple(s.value for s in OrderStatus if s.is_terminal)
_ORDER_SELECT = """
SELECT i.client_order_id, i.request, i.extra, i.created_ns, e.status, e.venue_order_id, e.filled_quantity,
       e.average_price, e.price, e.quantity, e.trigger_price, e.reason, e.venue_seq, e.ts_ns
FROM order_intents i
JOIN order_events e ON e.seq = (SELECT MAX(seq) FROM order_events WHERE client_order_id = i.client_order_id)
"""
_INSERT_INTENT = ("INSERT OR IGNORE INTO order_intents(client_order_id, venue, instrument, request, extra, created_ns) "
                  "VALUES (?, ?, ?, ?, ?, ?)")
_INSERT_EVENT = ("INSERT INTO order_events(client_order_id, kind, status, venue_order_id, filled_quantity, average_price, "
                 "price, quantity, trigger_price, reason, venue_seq, ts_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INTENT_LOG_LIMIT = 1 << 20  # bytes (~3,000 intents): then the log is emptied once its rows are on the disk
_FILL_COLUMNS = ("venue, trade_id, client_order_id, venue_order_id, instrument, side, quantity, price, fee, "
                 "fee_currency, product, is_maker, ts_ns")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts_ns: int
    kind: str
    detail: dict[str, Any]


class Journal:
    """Append-only order journal, audit log and key-value settings in one SQLite file."""

    def __init__(self, connection: sqlite3.Connection, path: Path, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._db = connection
        self.path = path
        self._clock_ns = clock_ns
        self.cache = MarketCache(connection, clock_ns)
        self._pending: list[IntentRows] = []  # written to the intent log, not yet inserted
        self._intent_ids: set[str] = set()  # every intent recorded through this journal
        self.intent_log = IntentLog(path.with_name(path.name + "-intents"))
        self._recover_intents()
        self.wal_sync = WalSync(path, companions=(self.intent_log.path,))

    @classmethod
    def open(cls, path: str | Path, clock_ns: Callable[[], int] = time.time_ns) -> "Journal":
        """Open (creating if needed) the journal at path, in WAL mode."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on WalSync's thread, not in a commit
        db.execute(f"PRAGMA journal_size_limit={CHECKPOINT_BYTES}")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA + append_only_triggers())
        return cls(db, path, clock_ns)

    def close(self) -> None:
        """Insert the pending intents, put the WAL on the disk and close the connection (idempotent)."""
        try:
            self.flush_intents()
            self.wal_sync.close()
            self.intent_log.clear()  # every intent in it is now in the database, on the disk
        except (OSError, sqlite3.Error):
            log.exception("syncing the journal on close failed")
        self.intent_log.close()
        try:
            self._db.close()
        except sqlite3.Error:
            log.exception("closing the journal failed")

    @contextmanager
    def _tx(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        if self._pending:
            self.flush_intents()  # an intent's rows come before anything written after it
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")

    # settings and sequences

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return a kv setting."""
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def put(self, key: str, value: str, durable: bool = False) -> None:
        """Set a kv setting (durable=True fsyncs it, for state that must survive a power cut)."""
        with self._tx(durable) as db:
            db.execute("INSERT INTO kv(key, value, updated_ns) VALUES (?, ?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns",
                       (key, value, self._clock_ns()))

    def next_sequence(self, name: str, count: int = 1) -> int:
        """Reserve the next `count` values (1, 2, ...) of a persistent sequence and return the first.

        No value is ever returned twice; values reserved but not used by a run are simply skipped.
        """
        if count < 1:
            raise ValueError(f"a sequence reservation needs a positive count, got {count}")
        key = f"seq:{name}"
        with self._tx() as db:
            row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            first = (int(row[0]) if row else 0) + 1
            db.execute("INSERT INTO kv(key, value, updated_ns) VALUES (?, ?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns",
                       (key, str(first + count - 1), self._clock_ns()))
        return first

    # orders

    def record_intent(self, order: Order) -> None:
        """Write a new order to the intent log before anything is sent (fsynced by flush_intents, after the send).

        Its rows are inserted by flush_intents(), which the OMS calls once the request is on its way, and
        which any other write or order query runs first. A second intent for an id this journal has
        recorded raises sqlite3.IntegrityError; ids of earlier runs are the id generator's to keep unique
        (one there would be ignored, and logged, when inserted).
        """
        cid = order.client_order_id
        if cid in self._intent_ids:
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: order_intents.client_order_id ({cid})")
        rows = ((cid, order.instrument_id.venue.value, str(order.instrument_id), dumps(request_to_dict(order.request)),
                 dumps(order.extra), order.created_ns), self._event_row(order, "intent"))
        self.intent_log.append(rows)
        self._intent_ids.add(cid)
        self._pending.append(rows)

    def flush_intents(self) -> None:
        """Insert the intents written since the last flush and have them fsynced (a no-op when there are none)."""
        pending, self._pending = self._pending, []
        if pending:
            try:
                self._insert_intents(pending)
            except BaseException:
                self._pending = pending + self._pending  # still in the log; tried again by the next call
                raise
            finally:
                self.wal_sync.request()  # the log's lines, and the rows if they went in
        if self.intent_log.size > INTENT_LOG_LIMIT:
            self.wal_sync.flush()  # their rows on the disk: the log is no longer needed for them
            self.intent_log.clear()

    def _insert_intents(self, records: list[IntentRows], recovering: bool = False) -> int:
        """Insert intents and their first events; return how many were new. One already in the database is
        left as it is (after a crash: an intent recovered before; otherwise an id reused across runs, logged)."""
        inserted = 0
        with self._tx(durable=recovering) as db:
            for intent, event in records:
                if db.execute(_INSERT_INTENT, intent).rowcount:
                    db.execute(_INSERT_EVENT, event)
                    inserted += 1
                elif not recovering:
                    log.critical("order intent %s was already journaled by an earlier run; its id was reused", intent[0])
        return inserted

    def _recover_intents(self) -> None:
        """Insert the intents a crash left in the log only, fsync them, then empty the log."""
        records = self.intent_log.read()
        if records and (inserted := self._insert_intents(records, recovering=True)):
            log.warning("journal: %d order intent(s) recovered from %s", inserted, self.intent_log.path)
        self.intent_log.clear()

    def record_update(self, order: Order, kind: str) -> None:
        """Append the order's new state (after a report, fill, request or reconciliation)."""
        with self._tx() as db:
            db.execute(_INSERT_EVENT, self._event_row(order, kind))

    def _event_row(self, order: Order, kind: str) -> tuple[Any, ...]:
        return (order.client_order_id, kind, order.status.value, order.venue_order_id, str(order.filled_quantity),
                dec(order.average_price), dec(order.price), dec(order.quantity), dec(order.trigger_price),
                order.reject_reason, order.venue_seq, order.updated_ns or self._clock_ns())

    def link_venue_order(self, venue: Venue, venue_order_id: str, client_order_id: ClientOrderId) -> ClientOrderId:
        """Link a venue order id to our id, once; return the id it is linked to (an earlier link wins)."""
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO venue_orders(venue, venue_order_id, client_order_id) VALUES (?, ?, ?)",
                       (venue.value, venue_order_id, client_order_id))
            row = db.execute("SELECT client_order_id FROM venue_orders WHERE venue = ? AND venue_order_id = ?",
                             (venue.value, venue_order_id)).fetchone()
        return ClientOrderId(row[0])

    def client_order_id_for(self, venue: Venue, venue_order_id: str) -> ClientOrderId | None:
        """Return our id for a venue order id, if linked."""
        row = self._db.execute("SELECT client_order_id FROM venue_orders WHERE venue = ? AND venue_order_id = ?",
                               (venue.value, venue_order_id)).fetchone()
        return None if row is None else ClientOrderId(row[0])

    def order(self, client_order_id: str) -> Order | None:
        """Return the current state of one order."""
        rows = self._orders("WHERE i.client_order_id = ?", (client_order_id,))
        return rows[0] if rows else None

    def open_orders(self, venue: Venue | None = None) -> list[Order]:
        """Return every order not in a terminal state, oldest first."""
        marks = ",".join("?" * len(_TERMINAL))
        where, params = f"WHERE e.status NOT IN ({marks})", list(_TERMINAL)
        if venue is not None:
            where += " AND i.venue = ?"
            params.append(venue.value)
        return self._orders(where, tuple(params))

    def orders_between(self, start_ns: int, end_ns: int) -> list[Order]:
        """Return the orders created in [start_ns, end_ns), oldest first."""
        return self._orders("WHERE i.created_ns >= ? AND i.created_ns < ?", (start_ns, end_ns))

    def orders_on(self, day: date, tz: tzinfo = timezone.utc) -> list[Order]:
        """Return every order created on a calendar day in the given time zone."""
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        end = start + timedelta(days=1)
        return self.orders_between(int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9)

    def _orders(self, where: str, params: tuple[Any, ...]) -> list[Order]:
        if self._pending:
            self.flush_intents()
        rows = self._db.execute(f"{_ORDER_SELECT} {where} ORDER BY i.seq", params).fetchall()
        return [_order_from_row(row) for row in rows]

    # fills

    def record_fill(self, fill: Fill) -> bool:
        """Append a fill; False (and nothing written) if its trade id is already journaled."""
        with self._tx() as db:
            cur = db.execute(f"INSERT OR IGNORE INTO fills({_FILL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (fill.instrument_id.venue.value, fill.trade_id, fill.client_order_id, fill.venue_order_id,
                              str(fill.instrument_id), fill.side.value, str(fill.quantity), str(fill.price),
                              str(fill.fee), fill.fee_currency, fill.product.value, int(fill.is_maker), fill.ts_ns))
        return cur.rowcount == 1

    def has_fill(self, venue: Venue, trade_id: str) -> bool:
        """True if the trade id is journaled for the venue."""
        row = self._db.execute("SELECT 1 FROM fills WHERE venue = ? AND trade_id = ?", (venue.value, trade_id)).fetchone()
        return row is not None

    def fills(self, client_order_id: str | None = None, venue: Venue | None = None, since_ns: int = 0) -> list[Fill]:
        """Return journaled fills, oldest first, optionally of one order or venue and since a time."""
        clauses, params = ["ts_ns >= ?"], list[Any]([since_ns])
        if client_order_id is not None:
            clauses.append("client_order_id = ?")
            params.append(client_order_id)
        if venue is not None:
            clauses.append("venue = ?")
            params.append(venue.value)
        rows = self._db.execute(f"SELECT {_FILL_COLUMNS} FROM fills WHERE {' AND '.join(clauses)} ORDER BY seq",
                                tuple(params)).fetchall()
        return [_fill_from_row(row) for row in rows]

    def fill_totals(self, client_order_ids: Iterable[str]) -> dict[ClientOrderId, Decimal]:
        """Return the journaled filled quantity of each order that has fills."""
        totals: dict[ClientOrderId, Decimal] = {}
        for cid in client_order_ids:
            for (qty,) in self._db.execute("SELECT quantity FROM fills WHERE client_order_id = ?", (cid,)):
                totals[ClientOrderId(cid)] = totals.get(ClientOrderId(cid), Decimal(0)) + Decimal(qty)
        return totals

    # audit

    def audit(self, kind: str, detail: dict[str, Any]) -> int:
        """Append an audit entry (user action, risk decision, security event); return its seq.

        Every string in detail is redacted first (core.security.redaction): no secret reaches the file.
        """
        with self._tx() as db:
            cur = db.execute("INSERT INTO audit(ts_ns, kind, detail) VALUES (?, ?, ?)",
                             (self._clock_ns(), kind, dumps(redact_value(detail))))
        return int(cur.lastrowid or 0)

    def audit_entries(self, kind: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Return the newest audit entries first."""
        sql, params = "SELECT seq, ts_ns, kind, detail FROM audit", list[Any]()
        if kind is not None:
            sql, params = sql + " WHERE kind = ?", [kind]
        rows = self._db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [AuditEntry(int(r[0]), int(r[1]), str(r[2]), json.loads(r[3])) for r in rows]


def _order_from_row(row: tuple[Any, ...]) -> Order:
    (cid, request, extra, created_ns, status, venue_order_id, filled, average, price, quantity, trigger, reason,
     venue_seq, ts_ns) = row
    return Order(
        client_order_id=ClientOrderId(cid), request=request_from_dict(json.loads(request)), status=OrderStatus(status),
        venue_order_id=venue_order_id, filled_quantity=Decimal(filled), average_price=undec(average),
        price=undec(price), quantity=undec(quantity), trigger_price=undec(trigger), reject_reason=reason,
        created_ns=int(created_ns), updated_ns=int(ts_ns), venue_seq=int(venue_seq), extra=dict(json.loads(extra)),
    )


def _fill_from_row(row: tuple[Any, ...]) -> Fill:
    venue, trade_id, cid, voi, instrument, side, qty, price, fee, fee_ccy, product, maker, ts_ns = row
    return Fill(
        client_order_id=ClientOrderId(cid), venue_order_id=voi, trade_id=trade_id,
        instrument_id=InstrumentId.parse(instrument), side=Side(side), quantity=Decimal(qty), price=Decimal(price),
        fee=Decimal(fee), fee_currency=fee_ccy, ts_ns=int(ts_ns), is_maker=bool(maker), product=Product(product),
    )
