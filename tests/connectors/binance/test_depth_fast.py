"""DepthSync.on_data (the fused parse + apply the connector runs) behaves exactly as
on_diff(parse_data(...)): same BookDelta, same Malformed, same book and sequencing state, on generated
spot and USD-M streams with stale diffs, gaps, snapshots at any point and malformed frames."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance.depth import DepthParser, DepthSync
from connectors.binance.wire_market import Malformed
from core.domain import BookDelta, InstrumentId, Venue

IID = InstrumentId(Venue.BINANCE, "BTCUSDT")

_price = st.sampled_from(["100.00", "100.01", "99.99", "100.1", "100.10", "1E+2", "0.00006421", "30000.12"])
_qty = st.sampled_from(["0.00000000", "0", "0.000", "1.50000000", "1.5", "0.00010000", "12", "3.14159265"])
_row = st.tuples(_price, _qty).map(list)
_bad_row = st.sampled_from([["0", "1"], ["-1", "1"], ["NaN", "1"], ["Infinity", "1"], ["1", "x"], ["1", " 1"],
                            ["1"], ["1", "2", "3"], "12", 5, None, [1.5, "1"], ["1", 2]])
_bad_field = st.sampled_from([("E", "1"), ("U", 1.0), ("u", None), ("pu", "3"), ("s", 5), ("u", True),
                              ("b", None), ("a", 7), ("E", None)])


@st.composite
def _stream(draw: Any) -> tuple[bool, list[tuple[str, Any]]]:
    """(futures, steps): diff objects (mostly chained, some stale, some gaps, some malformed) and snapshots."""
    futures = draw(st.booleans())
    steps: list[tuple[str, Any]] = []
    uid = draw(st.integers(1, 50))
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["diff"] * 8 + ["stale", "gap", "bad", "snapshot"]))
        if kind == "snapshot":
            steps.append(("snapshot", (uid + draw(st.integers(-3, 3)), draw(st.lists(_row, max_size=4)))))
            continue
        first = uid + 1
        if kind == "gap":
            first += draw(st.integers(1, 5))
        if kind == "stale":
            first = max(1, uid - draw(st.integers(0, 5)))
        last = first + draw(st.integers(0, 4))
        d: dict[str, Any] = {"e": "depthUpdate", "E": draw(st.integers(0, 2**41)), "s": "BTCUSDT", "U": first, "u": last,
                             "b": draw(st.lists(_row, max_size=6)), "a": draw(st.lists(_row, max_size=6))}
        if futures:
            d["pu"] = uid if kind != "gap" else uid - 1
        if kind == "bad":
            if draw(st.booleans()):
                key, value = draw(_bad_field)
                d[key] = value
            else:
                side = d[draw(st.sampled_from(["b", "a"]))]
                side.insert(draw(st.integers(0, len(side))), draw(_bad_row))
        elif kind != "stale":
            uid = max(uid, last)
        steps.append(("diff", orjson.loads(orjson.dumps(d))))  # fresh objects, as the connector has
    return futures, steps


def _form(delta: BookDelta | None) -> object:
    """Everything in a delta, numbers as sign/digits/exponent so that '1.5' and '1.50' differ."""
    if delta is None:
        return None
    return (delta.instrument_id, delta.ts_ns, [(p.as_tuple(), q.as_tuple()) for p, q in delta.bids],
            [(p.as_tuple(), q.as_tuple()) for p, q in delta.asks], delta.update_id, delta.is_snapshot)


def _state(sync: DepthSync) -> object:
    return (sync.synced, sync.update_id, sync.resyncs, sync._straddle, sync._purge_at, [m.u for m in sync._buffer],
            [(p.as_tuple(), q.as_tuple()) for p, q in sync.bids.items()],
            [(p.as_tuple(), q.as_tuple()) for p, q in sync.asks.items()])


def _outcome(call: Any) -> object:
    try:
        return _form(call())
    except Malformed as exc:
        return ("Malformed", str(exc))


@settings(max_examples=300, deadline=None)
@given(_stream())
def test_on_data_is_exactly_parse_data_then_on_diff(stream: tuple[bool, list[tuple[str, Any]]]) -> None:
    futures, steps = stream
    fused, plain = (DepthSync(IID, futures), DepthParser()), (DepthSync(IID, futures), DepthParser())
    for kind, item in steps:
        if kind == "snapshot":
            last_id, rows = item
            for sync, parser in (fused, plain):
                sync.on_snapshot(last_id, parser.parse_levels(rows), ())
        else:
            got = _outcome(lambda: fused[0].on_data(item, fused[1]))
            want = _outcome(lambda: plain[0].on_diff(plain[1].parse_data(item)))
            assert got == want
            if isinstance(got, tuple) and got[0] == "Malformed":
                assert got[1].startswith("bad depthUpdate: ")
        assert _state(fused[0]) == _state(plain[0])


def test_on_data_in_sync_applies_and_skips_stale_and_resyncs_on_a_gap() -> None:
    parser, sync = DepthParser(), DepthSync(IID, futures=False)
    sync.on_snapshot(10, parser.parse_levels([["100.0", "1.00000000"]]), ())

    def diff(first: int, last: int, bids: list[list[str]]) -> dict[str, Any]:
        return {"e": "depthUpdate", "E": 5, "s": "BTCUSDT", "U": first, "u": last, "b": bids, "a": []}

    delta = sync.on_data(diff(9, 12, [["100.0", "0.00000000"], ["99.9", "2.00000000"]]), parser)  # straddles 10
    assert delta is not None and delta.update_id == 12 and delta.ts_ns == 5_000_000
    delta = sync.on_data(diff(13, 14, [["99.8", "3.00000000"]]), parser)
    assert delta is not None and delta.bids == ((Decimal("99.8"), Decimal(3)),)
    assert sync.levels("bid") == ((Decimal("99.9"), Decimal(2)), (Decimal("99.8"), Decimal(3)))
    assert sync.on_data(diff(12, 14, [["1", "1"]]), parser) is None  # stale: nothing applied
    with pytest.raises(Malformed, match="bad depthUpdate"):
        sync.on_data(diff(15, 15, [["99.7", "1 "]]), parser)
    assert sync.update_id == 14 and sync.synced
    assert sync.on_data(diff(16, 17, []), parser) is None  # 15 missing: a gap
    assert sync.awaiting_snapshot and sync.resyncs == 1
