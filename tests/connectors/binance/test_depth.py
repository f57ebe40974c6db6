"""DepthSync and DepthParser: the recorded Binance streams replay to exactly the expected books, and the
sequencing rules (stale, gap, straddle, pu chain) hold for generated streams."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance import depth
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


# The parser's fast paths (create_decimal, the learnt zero string, the bounded price cache) against
# json + Decimal(text), and the purge by growth.

def _fixed(units: int, places: int) -> str:
    return format(Decimal(units).scaleb(-places), "f")


_price_text = st.one_of(st.builds(_fixed, st.integers(1, 10**12), st.integers(0, 12)),
                        st.sampled_from(["1.10", "1.1", "1.100", "1E+2", "1e-3", "100", "0.00006421", "007.5"]))
_zero_text = st.sampled_from(["0", "0.0", "0.000", "0.00000000", "0E-8", "00.00", "-0", "0e5"])
_qty_text = st.one_of(st.builds(_fixed, st.integers(0, 10**15), st.integers(0, 12)), _zero_text)
_side = st.lists(st.tuples(_price_text, _qty_text), max_size=12)


def _written(levels: tuple[tuple[Decimal, Decimal], ...]) -> list[tuple[object, object]]:
    """Sign, digits and exponent of every number: equal values written differently ('1.10', '1.1') differ."""
    return [(p.as_tuple(), q.as_tuple()) for p, q in levels]


def _frame(i: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], combined: bool, futures: bool) -> str:
    data: dict[str, object] = {"e": "depthUpdate", "E": i, "s": "BTCUSDT", "U": i, "u": i, "b": bids, "a": asks}
    if futures:
        data["pu"] = i - 1
    return json.dumps({"stream": "btcusdt@depth", "data": data} if combined else data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_side, _side, st.booleans(), st.booleans()), min_size=1, max_size=10),
       st.one_of(st.none(), _side.filter(bool)), st.sampled_from([2, 100_000]))
def test_parsed_numbers_are_exactly_decimal_of_their_text(
        frames: list[tuple[list[tuple[str, str]], list[tuple[str, str]], bool, bool]],
        snapshot: list[tuple[str, str]] | None, cache_limit: int) -> None:
    """One parser over a stream (its price cache warm, and emptied when a tiny limit fills), after an
    optional snapshot that teaches it the zero string: every number is Decimal(text), written the same way."""
    parser = DepthParser()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(depth, "PRICE_CACHE_LIMIT", cache_limit)
        if snapshot is not None:
            rows = [list(row) for row in snapshot]
            assert _written(parser.parse_levels(rows)) == _written(_levels(rows))
        for i, (bids, asks, combined, futures) in enumerate(frames):
            msg = parser.parse(_frame(i, bids, asks, combined, futures))
            assert _written(msg.b) == _written(_levels(bids)) and _written(msg.a) == _written(_levels(asks))
            assert (msg.E, msg.U, msg.u, msg.pu) == (i, i, i, i - 1 if futures else -1)
            assert len(parser._prices) <= max(cache_limit, len(snapshot or ()))  # a snapshot goes in whole


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 9)), min_size=1, max_size=10, unique_by=lambda r: r[0]),
       st.lists(_zero_text, min_size=10, max_size=10), st.sampled_from(["1.500", "40", "0.12340000"]))
def test_a_zero_quantity_in_any_spelling_deletes_its_level(
        levels: list[tuple[int, int]], zeros: list[str], snapshot_qty: str) -> None:
    parser = DepthParser()
    snapshot = parser.parse_levels([[str(p), snapshot_qty] for p, _ in levels])  # teaches the zero string
    sync = DepthSync(IID, futures=False)
    sync.on_snapshot(1, snapshot, ())
    assert len(sync.levels("bid")) == len(levels)
    deletions = [[str(p), zero] for (p, _), zero in zip(levels, zeros)]
    delta = sync.on_diff(parser.parse(_frame(2, deletions, [], False, False)))  # type: ignore[arg-type]
    assert delta is not None and all(q == 0 for _, q in delta.bids)
    assert sync.levels("bid") == ()


# Unpacking is the pair check: it refuses lists of another length and scalars. Like the code before it,
# it lets through other two-item iterables (a two-key object, a two-character string).
_not_a_pair = st.one_of(st.lists(st.just("1"), max_size=1), st.lists(st.just("1"), min_size=3, max_size=5),
                        st.integers(), st.none(), st.just("1"), st.just({"1": "2"}))


@settings(max_examples=100, deadline=None)
@given(_side.filter(bool), _not_a_pair, st.integers(0, 12), st.booleans())
def test_rows_that_are_not_price_quantity_pairs_are_malformed(
        good: list[tuple[str, str]], bad: object, at: int, bid_side: bool) -> None:
    rows: list[object] = [list(row) for row in good]
    rows.insert(min(at, len(rows)), bad)
    frame = _frame(1, rows, [], False, False) if bid_side else _frame(1, [], rows, False, False)  # type: ignore[arg-type]
    with pytest.raises(Malformed):
        DepthParser().parse(frame)
    with pytest.raises(Malformed):
        DepthParser().parse_levels(rows)


def test_deletions_share_one_zero_written_as_the_symbol_writes_it() -> None:
    parser = DepthParser()
    spot = parser.parse(_frame(1, [("99.9", "0.00000000"), ("99.8", "0.00000000")], [], False, False))
    assert spot.b[0][1] is spot.b[1][1] and spot.b[0][1].as_tuple() == Decimal("0.00000000").as_tuple()
    parser.parse_levels([["100.0", "1.500"]])  # futures-style quantities: three decimals
    msg = parser.parse(_frame(2, [("99.9", "0.000"), ("99.8", "0.000")], [("100.1", "0"), ("100.2", "0.00000000")], False, True))
    (_, z1), (_, z2) = msg.b
    assert z1 is z2 and z1.as_tuple() == Decimal("0.000").as_tuple()
    assert [q.as_tuple() for _, q in msg.a] == [Decimal("0").as_tuple(), Decimal("0.00000000").as_tuple()]


def test_prices_are_shared_decimals_and_bad_numbers_are_malformed() -> None:
    parser = DepthParser()
    first, second = parser.parse(_frame(1, [("1.5", "2")], [("1.5", "3")], False, False)), \
        parser.parse(_frame(2, [("1.5", "2")], [], False, False))
    assert first.b[0][0] is first.a[0][0] is second.b[0][0]
    for price, qty in (("0", "1"), ("-1.5", "1"), ("Infinity", "1"), ("NaN", "1"), ("sNaN", "1"), ("1,5", "1"), ("", "1"),
                       (" 1.5", "1"), ("1_5", "1"), ("1.5", "x"), ("1.5", ""), ("1.5", "1 "), ("1.5", "1_0")):
        with pytest.raises(Malformed):
            parser.parse(_frame(3, [(price, qty)], [], False, False))


def test_zero_levels_are_purged_once_the_book_has_doubled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(depth, "PURGE_SLACK", 8)
    sync = DepthSync(IID, futures=False)
    sync.on_snapshot(0, ((D(1), D(1)),), ())
    for i in range(1, 200):  # a level appears, and the one before it goes
        assert sync.on_diff(_msg(i, i, [(D(i + 1), D(1)), (D(i), D(0))])) is not None
        assert len(sync.bids) <= 2 * 1 + 8 + 2  # one live level: purged once past twice that plus the slack
    assert sync.levels("bid") == ((D(200), D(1)),)
