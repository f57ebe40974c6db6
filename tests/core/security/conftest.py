"""A cheap scrypt cost for tests (real vaults use OWASP's; two tests here do too) and a clean redaction state."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.security import redaction
from core.security.vault import ScryptCost

FAST = ScryptCost(n=2**10, r=8, p=1)


@pytest.fixture
def fast() -> ScryptCost:
    return FAST


@pytest.fixture(autouse=True)
def clean_redaction() -> Iterator[None]:
    redaction.forget_secrets()
    yield
    redaction.uninstall()
    redaction.forget_secrets()
