"""DepthSync and DepthParser: the recorded Binance streams replay to exactly the expected books, and the
sequencing rules (stale, gap, straddle, pu chain) hold for generated streams."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance.depth import DepthParser, DepthSync, DepthUpdateMsg
from connectors.binance.wire_market import Malformed
from core.domain import BookDelta, InstrumentId, Venue

RECORDED = Path("/work/shared/data/binance-depth-recorded")
FOLDERS = sorted(p for p in RECORDED.iterdir() if p.is_dir()) if RECORDED.exists() else []
IID = InstrumentId(Venue.BINANCE, "BTCUSDT")


def _levels(rows: list[list[str]]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(p), Decimal(q)) for p, q in rows)


def _as_text(levels: tuple[tuple[Decimal, Decimal], ...]) -> list[list[Decimal]]:
    return [[p, q] for p, q in levels]


def _expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text())


def _check(sync: DepthSync, expected: dict) -> None:
    assert sync.update_id == expected["final_lastUpdateId"]
    assert _as_text(sync.levels("bid")) == [[Decimal(p), Decimal(q)] for p, q in expected["bids"]]
    assert _as_text(sync.levels("ask")) == [[Decimal(p), Decimal(q)] for p, q in expected["asks"]]


@pytest.mark.skipif(not FOLDERS, reason="recorded data not present")
@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_recorded_stream_replays_to_the_expected_book_in_arrival_order(folder: Path) -> None:
    expected = _expected(folder)
    sync = DepthSync(IID, futures=expected["rules"].startswith("futures"))
    parser = DepthParser()
    snapshots = deltas = 0
    for line in (folder / "timeline.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item["type"] == "rest":
            snap = json.loads(item["raw"])
            delta = sync.on_snapshot(snap["lastUpdateId"], parser.parse_levels(snap["bids"]), parser.parse_levels(snap["asks"]))
            assert delta is not None and delta.is_snapshot
            snapshots += 1
        elif "@depth" in json.loads(item["raw"])["stream"]:
            deltas += sync.on_diff(parser.parse(item["raw"])) is not None
    assert snapshots == 1 and sync.resyncs == 0
    assert deltas <= expected["events_applied"]
    _check(sync, expected)


@pytest.mark.skipif(not FOLDERS, reason="recorded data not present")
@pytest.mark.parametrize("folder", FOLDERS[:4] + FOLDERS[-4:], ids=[p.name for p in FOLDERS[:4] + FOLDERS[-4:]])
def test_recorded_stream_with_snapshot_first_gives_the_same_book(folder: Path) -> None:
    expected = _expected(folder)
    sync = DepthSync(IID, futures=expected["rules"].startswith("futures"))
    parser = DepthParser()
    snap = json.loads((folder / "snapshot.json").read_text())
    sync.on_snapshot(snap["lastUpdateId"], _levels(snap["bids"]), _levels(snap["asks"]))
    for line in (folder / "events.jsonl").read_text().splitlines():
        sync.on_diff(parser.parse(line))
    _check(sync, expected)


def _msg(first: int, last: int, bids=(), asks=(), pu: int = -1) -> DepthUpdateMsg:  # type: ignore[no-untyped-def]
    return DepthUpdateMsg(1, "BTCUSDT", first, last, pu, tuple(bids), tuple(asks))


D = Decimal


def test_spot_buffers_drops_covered_and_applies_the_straddling_diff() -> None:
    sync = DepthSync(IID, futures=False)
    assert sync.on_diff(_msg(8, 10, [(D(1), D(5))])) is None  # buffered
    assert sync.on_diff(_msg(11, 12, [(D(2), D(6))])) is None
    snap = sync.on_snapshot(10, ((D(1), D(5)),), ((D(3), D(1)),))
    assert isinstance(snap, BookDelta) and snap.is_snapshot and snap.update_id == 12
    assert dict(snap.bids) == {D(2): D(6), D(1): D(5)} and sync.levels("bid") == ((D(2), D(6)), (D(1), D(5)))
    delta = sync.on_diff(_msg(13, 13, asks=[(D(3), D(0))]))
    assert delta is not None and delta.asks == ((D(3), D(0)),) and sync.levels("ask") == ()
    assert sync.on_diff(_msg(13, 13)) is None  # duplicate: stale


def test_spot_snapshot_older_than_the_buffer_is_refused() -> None:
    sync = DepthSync(IID, futures=False)
    sync.on_diff(_msg(20, 25))
    assert sync.on_snapshot(19, (), ()) is None and sync.awaiting_snapshot
    assert sync.on_snapshot(22, (), ()) is not None and sync.update_id == 25


def test_spot_gap_discards_the_book_and_asks_for_a_snapshot() -> None:
    sync = DepthSync(IID, futures=False)
    sync.on_snapshot(10, ((D(1), D(1)),), ())
    assert sync.on_diff(_msg(11, 11)) is not None
    assert sync.on_diff(_msg(13, 14, [(D(9), D(9))])) is None
    assert sync.awaiting_snapshot and sync.resyncs == 1 and sync.levels("bid") == ()
    again = sync.on_snapshot(14, ((D(1), D(2)),), ())
    assert again is not None and sync.levels("bid") == ((D(1), D(2)),)


def test_futures_chain_uses_pu_and_the_first_diff_may_straddle() -> None:
    sync = DepthSync(IID, futures=True)
    sync.on_snapshot(100, (), ())
    assert sync.on_diff(_msg(90, 99, pu=80)) is None  # older than the snapshot
    assert sync.on_diff(_msg(95, 105, [(D(1), D(1))], pu=94)) is not None  # U <= L <= u
    assert sync.on_diff(_msg(110, 120, pu=105)) is not None  # pu chains, U jumps: fine on futures
    assert sync.on_diff(_msg(125, 130, pu=121)) is None and sync.awaiting_snapshot  # pu broken


def test_reordered_diffs_force_a_resync_instead_of_a_wrong_book() -> None:
    sync = DepthSync(IID, futures=False)
    sync.on_snapshot(10, (), ())
    assert sync.on_diff(_msg(12, 12, [(D(2), D(2))])) is None  # 11 missing
    assert sync.awaiting_snapshot


def test_parser_handles_raw_and_combined_frames_and_rejects_malformed() -> None:
    parser = DepthParser()
    data = {"e": "depthUpdate", "E": 5, "T": 4, "s": "BTCUSDT", "U": 1, "u": 2, "pu": 0, "b": [["1.10", "0"]], "a": [["2", "3.5"]]}
    for frame in (json.dumps(data), json.dumps({"stream": "btcusdt@depth", "data": data})):
        msg = parser.parse(frame)
        assert (msg.U, msg.u, msg.pu, msg.E) == (1, 2, 0, 5)
        assert msg.b == ((D("1.10"), D(0)),) and msg.a == ((D(2), D("3.5")),)
    for bad in ("{", json.dumps({**data, "b": [["1"]]}), json.dumps({**data, "u": "2"}), json.dumps({**data, "a": [["x", "1"]]}),
                json.dumps({**data, "a": [["1", "2", "3"]]}), json.dumps({**data, "a": [["-1", "2"]]}),
                json.dumps({**data, "b": [["NaN", "1"]]}),
                json.dumps({k: v for k, v in data.items() if k != "U"}), "[]"):
        with pytest.raises(Malformed):
            parser.parse(bad)
    for bad_rows in ([["1", "-1"]], [["NaN", "1"]], [["1"]], "x"):
        with pytest.raises(Malformed):
            parser.parse_levels(bad_rows)


_price = st.integers(1, 60).map(lambda i: Decimal(i) / 4)
_qty = st.integers(0, 5).map(Decimal)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(st.booleans(), _price, _qty), min_size=1, max_size=6), min_size=1, max_size=30),
       st.integers(0, 29), st.booleans())
def test_sync_book_equals_the_model_book(changes: list[list[tuple[bool, Decimal, Decimal]]], snap_at: int, futures: bool) -> None:
    """Generate a book's history; take the snapshot at some point; the synced book ends equal to the true one."""
    truth: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] = ({}, {})
    history = []
    uid = 0
    for step in changes:
        first = uid + 1
        uid += len(step)
        for is_bid, price, qty in step:
            side = truth[0 if is_bid else 1]
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
        bids = tuple((p, q) for b, p, q in step if b)
        asks = tuple((p, q) for b, p, q in step if not b)
        prev = history[-1].u if history else 0
        history.append(DepthUpdateMsg(1, "X", first, uid, prev, _dedupe(bids), _dedupe(asks)))
        if len(history) - 1 == min(snap_at, len(changes) - 1):
            snapshot = (uid, tuple(sorted(truth[0].items())), tuple(sorted(truth[1].items())))
    sync = DepthSync(IID, futures)
    for msg in history[: snap_at // 2]:
        sync.on_diff(msg)  # some diffs arrive before the snapshot
    delta = sync.on_snapshot(*snapshot)
    for msg in history[snap_at // 2:]:
        sync.on_diff(msg)
    assert delta is not None and sync.resyncs == 0
    assert dict(sync.levels("bid")) == truth[0] and dict(sync.levels("ask")) == truth[1]


def _dedupe(levels: tuple[tuple[Decimal, Decimal], ...]) -> tuple[tuple[Decimal, Decimal], ...]:
    last: dict[Decimal, Decimal] = {}
    for p, q in levels:
        last.pop(p, None)
        last[p] = q
    return tuple(last.items())
