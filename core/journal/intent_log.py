"""Order intents appended to a flat file before their request leaves; their SQLite rows follow it.

Why: committing an intent to SQLite before sending took 18 system calls (WAL locks, then a frame
header and a page for each b-tree page touched: two tables, their indexes, the sequence table). On this
VM a system call soon after the loop wakes costs 10-40 us, so the commit cost ~250 us at the median
ahead of every order (tests/bench/bench_tick_to_order.py). Appending one JSON line is one write(): it
puts the intent in the OS page cache, where a crash of the terminal cannot undo it, as the commit did.
The Journal inserts the rows once the request is on its way, or before any other journal call.
One journal is open per file at a time; a second open (a command-line tool while the terminal runs)
would insert the first's logged intents itself and empty the log, with INSERT OR IGNORE on both sides.

Each line holds the two rows as they go into order_intents and order_events, so writing them later, or
after a crash, is the same INSERT. Recovery (Journal.open) inserts the intents the database lacks and
then empties the file. A line cut short by a crash mid-write can only be the last one, and its order
was never sent (the write comes first); it is skipped with a warning. A power cut is covered as the
WAL is: WalSync fsyncs this file with it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

IntentRows = tuple[tuple[Any, ...], tuple[Any, ...]]  # the order_intents row, the order_events row


class IntentLog:
    """The append-only intent file of one journal (opened for appending, created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o600)
        self.size = os.fstat(self._fd).st_size  # bytes, kept here rather than asked of the system per order

    def append(self, rows: IntentRows) -> None:
        """Write one intent; raise OSError if it is not all written (then nothing may be sent)."""
        line = orjson.dumps(rows) + b"\n"
        if self._fd is None:
            raise OSError(f"the intent log {self.path} is closed")
        written = os.write(self._fd, line)
        self.size += written
        if written != len(line):  # a regular file takes all of it, unless the disk is full
            raise OSError(f"short write to the intent log {self.path}")

    def clear(self) -> None:
        """Empty the file: call only once every intent in it is committed and on the disk."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            self.size = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> list[IntentRows]:
        """Every whole intent in the file, in the order written."""
        records: list[IntentRows] = []
        for number, line in enumerate(self.path.read_bytes().splitlines(), start=1):
            try:
                intent, event = orjson.loads(line)
                records.append((tuple(intent), tuple(event)))
            except (ValueError, TypeError):
                log.warning("intent log %s: line %d is not a whole intent (cut short by a crash?); skipped",
                            self.path, number)
        return records
