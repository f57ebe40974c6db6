"""The journal's tables. Read this to query the journal by hand (sqlite3 journal.db).

Append-only (triggers refuse UPDATE and DELETE), each with a monotonic `seq`:
  order_intents   one row per order, in the intent log before the venue is called; inserted, and fsynced by
                  WalSync, once the request is on its way:
                  client_order_id, venue, instrument, request (JSON of OrderRequest), extra (JSON), created_ns.
  order_events    every state of every order, oldest first; the row with the highest seq of an order is its
                  current state. kind says what caused it: intent | sent | report | fill | cancel_request |
                  modify_request | outcome_unknown | not_placed | reconcile.
  venue_orders    (venue, venue_order_id) -> client_order_id, so a venue id is linked to one order only.
  fills           one row per execution, unique on (venue, trade_id): replaying a fill is a no-op.
  audit           user actions, risk decisions, security events: kind, detail (JSON), ts_ns.
Mutable:
  kv              settings and state: the kill switch, the client-order-id sequence (key 'seq:<name>').
  instruments     an instrument cache for connectors: (venue, symbol) -> data (JSON of Instrument), updated_ns.
  candles         a candle cache: (venue, symbol, timeframe, start_ns) -> open/high/low/close/volume (text).
"""
from __future__ import annotations

APPEND_ONLY = ("order_intents", "order_events", "venue_orders", "fills", "audit")

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_intents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT NOT NULL UNIQUE,
    venue TEXT NOT NULL,
    instrument TEXT NOT NULL,
    request TEXT NOT NULL,
    extra TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS order_intents_by_time ON order_intents(created_ns);
CREATE TABLE IF NOT EXISTS order_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    venue_order_id TEXT NOT NULL,
    filled_quantity TEXT NOT NULL,
    average_price TEXT,
    price TEXT,
    quantity TEXT,
    trigger_price TEXT,
    reason TEXT NOT NULL,
    venue_seq INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_by_order ON order_events(client_order_id, seq);
CREATE TABLE IF NOT EXISTS venue_orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    venue TEXT NOT NULL,
    venue_order_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    UNIQUE (venue, venue_order_id)
);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    venue TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    venue_order_id TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    fee_currency TEXT NOT NULL,
    product TEXT NOT NULL,
    is_maker INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    UNIQUE (venue, trade_id)
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills(client_order_id);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS instruments (
    venue TEXT NOT NULL,
    symbol TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_ns INTEGER NOT NULL,
    PRIMARY KEY (venue, symbol)
);
CREATE TABLE IF NOT EXISTS candles (
    venue TEXT NOT NULL,
    symbol TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,
    PRIMARY KEY (venue, symbol, timeframe, start_ns)
) WITHOUT ROWID;
"""


def append_only_triggers() -> str:
    """Return the triggers that make the append-only tables refuse UPDATE and DELETE."""
    parts = []
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
            )
    return "\n".join(parts)
