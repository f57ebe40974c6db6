"""Option chain counts in Indian units: exact thresholds and the rounding a trader reads."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widgets.chain.table_model import indian_compact


def test_units_switch_at_thousand_lakh_and_crore() -> None:
    assert [indian_compact(v) for v in (0, 999, 1000, 7500, 99_999, 100_000, 253_800, 9_999_999, 10_000_000, 123_456_789)] == [
        "0", "1.0K", "1.0K", "7.5K", "1.00L", "1.00L", "2.54L", "1.00Cr", "1.00Cr", "12.35Cr"]


def test_signed_changes_show_their_sign() -> None:
    assert (indian_compact(525, signed=True), indian_compact(-450), indian_compact(-150_000, signed=True),
            indian_compact(0, signed=True)) == ("+525", "-450", "-1.50L", "0")


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_compact_text_reads_back_within_its_rounding(value: int) -> None:
    text = indian_compact(value)
    scale = {"Cr": 1e7, "L": 1e5, "K": 1e3}
    unit = next((u for u in scale if text.endswith(u)), "")
    number = float(text[: len(text) - len(unit)]) * scale.get(unit, 1)
    step = {"Cr": 1e5, "L": 1e3, "K": 100}.get(unit, 1)  # half a unit of the last digit shown, doubled for safety
    assert abs(number - value) <= step
