from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.journal import Journal
from core.trading.ids import BINANCE_CLIENT_ID, ID_BLOCK, KITE_TAG, ClientOrderIdGenerator, base36


@given(st.integers(min_value=0, max_value=36**12))
def test_base36_round_trips(value: int) -> None:
    assert int(base36(value), 36) == value


def test_base36_refuses_negatives() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        base36(-1)


def test_ids_are_unique_across_restarts_and_fit_both_venues(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    seen: list[str] = []
    for _ in range(3):
        journal = Journal.open(path)
        ids = ClientOrderIdGenerator(journal, "SQ", now_s=1_795_000_000)
        seen += [ids.next() for _ in range(50)]
        journal.close()
    assert len(set(seen)) == 150
    assert seen[0] == "SQ" + base36(1_795_000_000) + "1"
    assert all(KITE_TAG.fullmatch(i) and BINANCE_CLIENT_ID.fullmatch(i) for i in seen)


def test_the_sequence_is_reserved_in_blocks_one_commit_each(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    reservations: list[tuple[int, int]] = []
    reserve = journal.next_sequence

    def counted(name: str, count: int = 1) -> int:
        first = reserve(name, count)
        reservations.append((first, count))
        return first

    journal.next_sequence = counted  # type: ignore[method-assign]
    ids = ClientOrderIdGenerator(journal, "SQ", now_s=1_795_000_000)
    seqs = [int(ids.next()[len("SQ") + 6:], 36) for _ in range(ID_BLOCK + 1)]
    assert seqs == list(range(1, ID_BLOCK + 2))
    assert reservations == [(1, ID_BLOCK), (ID_BLOCK + 1, ID_BLOCK)]
    assert journal.get("seq:client_order_id") == str(2 * ID_BLOCK)  # reserved before any id of the block left
    journal.close()


def test_a_fresh_journal_gets_a_new_epoch(tmp_path: Path) -> None:
    a, b = Journal.open(tmp_path / "a.db"), Journal.open(tmp_path / "b.db")
    assert ClientOrderIdGenerator(a, now_s=1000).next() != ClientOrderIdGenerator(b, now_s=2000).next()
    a.close()
    b.close()


@pytest.mark.parametrize("prefix", ["", "S-Q", "TOOLONG"])
def test_bad_prefixes_are_refused(tmp_path: Path, prefix: str) -> None:
    journal = Journal.open(tmp_path / "j.db")
    with pytest.raises(ValueError, match="prefix"):
        ClientOrderIdGenerator(journal, prefix)
    journal.close()
