"""Trading test fixtures; the fakes live next to this file (see sq_fake_venue.py, sq_trading_env.py)."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sq_trading_env import Env, make_env  # noqa: E402


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    built = await make_env(tmp_path / "journal.db")
    yield built
    await built.stack.stop()
