"""Client order ids that stay unique for the account's lifetime, across restarts.

An id is PREFIX + EPOCH + SEQ: PREFIX is short and alphanumeric; EPOCH is the journal's creation second in
base 36 (6 characters until 2038), so a fresh journal never reuses an old journal's ids; SEQ is a journal
sequence in base 36, reserved in the journal in blocks of ID_BLOCK before any id of the block is handed out
(one commit per block, not per order; a restart skips what is left of a block). Example: SQ1T9XK0A5 (10
characters). Every id is alphanumeric and at most 20 characters, which satisfies both Kite's tag (<= 20
alphanumerics) and Binance's newClientOrderId (<= 36 of [.A-Z:/a-z0-9_-]).
"""
from __future__ import annotations

import re
import string
import time
from typing import Protocol

from core.domain import ClientOrderId

_DIGITS = string.digits + string.ascii_uppercase
MAX_LENGTH = 20
_PREFIX = re.compile(r"[A-Za-z0-9]{1,4}")
KITE_TAG = re.compile(r"[A-Za-z0-9]{1,20}")
BINANCE_CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
ID_BLOCK = 64


class SequenceStore(Protocol):
    def get(self, key: str, default: str | None = None) -> str | None: ...
    def put(self, key: str, value: str, durable: bool = False) -> None: ...
    def next_sequence(self, name: str, count: int = 1) -> int: ...


def base36(value: int) -> str:
    """Encode a non-negative integer in base 36 (digits then upper-case letters)."""
    if value < 0:
        raise ValueError(f"base36 needs a non-negative integer, got {value}")
    out = ""
    while True:
        value, digit = divmod(value, 36)
        out = _DIGITS[digit] + out
        if value == 0:
            return out


class ClientOrderIdGenerator:
    """Hands out ids from a persistent journal sequence. See the module docstring for the format."""

    def __init__(self, store: SequenceStore, prefix: str = "SQ", now_s: int | None = None) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"client order id prefix must be 1-4 letters or digits, got {prefix!r}")
        self._store = store
        self.prefix = prefix
        self._now_s = now_s
        self._epoch: str | None = None
        self._next_seq = self._block_end = 0  # the reserved block not yet handed out: [_next_seq, _block_end)

    def _journal_epoch(self) -> str:
        if self._epoch is None:
            epoch = self._store.get("client_order_id_epoch")
            if epoch is None:
                epoch = base36(self._now_s if self._now_s is not None else int(time.time()))
                self._store.put("client_order_id_epoch", epoch, durable=True)
            self._epoch = epoch
        return self._epoch

    def next(self) -> ClientOrderId:
        """Return a new id, never returned before by this journal."""
        if self._next_seq == self._block_end:
            self._next_seq = self._store.next_sequence("client_order_id", ID_BLOCK)
            self._block_end = self._next_seq + ID_BLOCK
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        text = f"{self.prefix}{self._journal_epoch()}{base36(seq)}"
        if len(text) > MAX_LENGTH:
            raise OverflowError(f"client order id {text} exceeds {MAX_LENGTH} characters")
        return ClientOrderId(text)
