"""Backtest test fixtures; the shared helpers live next to this file in sqbt_helpers.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqbt_helpers import BTC, spot  # noqa: E402

from core.domain import Instrument  # noqa: E402


@pytest.fixture
def btc() -> Instrument:
    return spot(BTC)
