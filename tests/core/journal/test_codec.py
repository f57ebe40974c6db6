"""codec.dumps (orjson) writes what json.dumps with sorted keys wrote before, byte for byte but for
non-ASCII text (now UTF-8, not escaped) and float spelling (the same numbers)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import InstrumentId, Side, Venue
from core.journal.codec import _default, dumps

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.sampled_from([InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentId(Venue.ZERODHA, "INFY"), Side.BUY, Side.SELL]),
    st.datetimes(timezones=st.just(timezone.utc)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner), st.frozensets(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)


def before(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=_default, ensure_ascii=False)


@settings(max_examples=300)
@given(VALUES)
def test_dumps_writes_what_json_dumps_wrote(value: object) -> None:
    if isinstance(value, frozenset) or any(isinstance(v, frozenset) for v in _walk(value)):
        assert json.loads(dumps(value)) == json.loads(before(value))  # a set's order is its own either way
    else:
        assert dumps(value) == before(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_the_same(number: float) -> None:
    assert json.loads(dumps({"x": number})) == json.loads(before({"x": number}))


def test_decimals_dates_and_enums_are_strings() -> None:
    stamp = datetime(2025, 12, 9, 12, tzinfo=timezone.utc)
    assert dumps({"p": Decimal("50000.10"), "at": stamp, "side": Side.BUY, "i": InstrumentId(Venue.BINANCE, "BTCUSDT")}) \
        == '{"at":"2025-12-09T12:00:00+00:00","i":"BTCUSDT.BINANCE","p":"50000.10","side":"BUY"}'


def _walk(value: object) -> list[object]:
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found += _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += _walk(item)
    return found
