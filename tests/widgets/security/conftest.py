"""Fast vaults for dialog tests, and a clean redaction registry."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.security import redaction
from core.security.vault import ScryptCost, Vault


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.create(tmp_path / "vault.json", "passphrase-1", ScryptCost(2**10))


@pytest.fixture(autouse=True)
def clean_redaction() -> Iterator[None]:
    redaction.forget_secrets()
    yield
    redaction.forget_secrets()
