from __future__ import annotations

import pickle
import traceback

import pytest

from core.security.credentials import VenueCredentials
from core.security.secret import Secret


def test_secret_never_shows_its_text() -> None:
    s = Secret("hunter2-hunter2")
    for shown in (repr(s), str(s), f"{s}", f"{s!r}", "%s" % s, repr([s]), repr({"k": s})):
        assert "hunter2" not in shown
    assert repr(s) == "Secret('***')" and s.reveal() == "hunter2-hunter2" and len(s) == 15
    creds = VenueCredentials("binance", "binance", Secret("key-abcdef"), Secret("sec-abcdef"))
    assert "abcdef" not in repr(creds)
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_secret_in_a_traceback_stays_hidden() -> None:
    def fail(secret: Secret) -> None:
        raise ValueError(f"could not sign with {secret}")

    held = Secret("-".join(("deep", "secret", "value")))  # no literal, no plain local: the traceback shows both
    try:
        fail(held)
    except ValueError as exc:
        text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert held.reveal() not in text and "Secret('***')" in text


def test_equality_is_by_value_and_only_between_secrets() -> None:
    assert Secret("abcdef") == Secret("abcdef") and Secret("abcdef") != Secret("abcdeg")
    assert Secret("abcdef") != "abcdef"
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
