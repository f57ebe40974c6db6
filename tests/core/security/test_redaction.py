from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.security import redaction
from core.security.redaction import MASK, RedactingFilter, redact, redact_value, register_secret
from core.security.secret import Secret

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SECRET = st.text(st.characters(blacklist_categories=("Cs",)), min_size=6, max_size=30)
TOKEN = st.text("abcdefABCDEF0123456789-_.~+/", min_size=1, max_size=40)


@settings(max_examples=200)
@given(secret=SECRET, before=TEXT, after=TEXT)
def test_a_registered_secret_never_survives(secret: str, before: str, after: str) -> None:
    redaction.forget_secrets()
    register_secret(secret)
    assert secret not in redact(before + secret + after + secret)


@settings(max_examples=200)
@given(text=TEXT)
def test_text_without_secrets_or_credential_names_is_unchanged(text: str) -> None:
    redaction.forget_secrets()
    register_secret("zzzzzzzzzzzz")
    lowered = text.lower()
    if not any(w in lowered for w in ("key", "secret", "token", "signature", "checksum", "pass", "authorization", "z" * 12)):
        assert redact(text) == text


@settings(max_examples=200)
@given(value=TOKEN, name=st.sampled_from(["api_key", "apiKey", "access_token", "request_token", "secret", "api_secret",
                                          "signature", "checksum", "listenKey", "password"]),
       style=st.sampled_from(["{n}={v}&x=1", "{n}: {v} ok", "'{n}': '{v}'", '"{n}": "{v}"', "?{n}={v}"]))
def test_credential_shaped_values_are_masked(value: str, name: str, style: str) -> None:
    out = redact(style.format(n=name, v=value))
    assert out == style.format(n=name, v=MASK)


@pytest.mark.parametrize("line, expected", [
    ("X-MBX-APIKEY: vmPUZE6mv9SD5VNHk4HlWFsOr", "X-MBX-APIKEY: ***"),
    ("headers={'X-MBX-APIKEY': 'vmPUZE6mv9SD5'}", "headers={'X-MBX-APIKEY': '***'}"),
    ("Authorization: token abc123:tok456", "Authorization: token ***"),
    ("'authorization': 'token abc123:tok456'", "'authorization': 'token ***'"),
    ("GET /api/v3/order?symbol=BTCUSDT&timestamp=1&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
     "GET /api/v3/order?symbol=BTCUSDT&timestamp=1&signature=***"),
    ("wss://ws.kite.trade?api_key=xyz&access_token=abc", "wss://ws.kite.trade?api_key=***&access_token=***"),
    ("redirect ?request_token=Rt123&status=success", "redirect ?request_token=***&status=success"),
    ("nothing to see: BTCUSDT 65000.5", "nothing to see: BTCUSDT 65000.5"),
])
def test_the_venues_credential_shapes(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_redact_value_walks_json_like_values() -> None:
    register_secret("canary-123456")
    value = {"note": "key canary-123456 used", "n": 3, "list": ["canary-123456", Secret("x")], "nested": {"secret": "s3cr3t"}}
    assert redact_value(value) == {"note": "key *** used", "n": 3, "list": [MASK, MASK], "nested": {"secret": "s3cr3t"}}


def test_short_strings_are_not_registered() -> None:
    register_secret("abc")
    assert redact("abc abc") == "abc abc"


def _record(msg: str, args: tuple[object, ...] = (), exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_message_args_and_exception_text() -> None:
    register_secret("canary-filter-1")
    f = RedactingFilter()
    r = _record("signed with %s for %s", ("canary-filter-1", "BTCUSDT"))
    assert f.filter(r) and r.getMessage() == "signed with *** for BTCUSDT"
    try:
        raise RuntimeError("refused key canary-filter-1")
    except RuntimeError as exc:
        r = _record("failed", exc=exc)
    f.filter(r)
    text = logging.Formatter().format(r)
    assert "canary-filter-1" not in text and "RuntimeError: refused key ***" in text and r.exc_info is None
    clean = _record("price %s", ("65000",))
    f.filter(clean)
    assert clean.args == ("65000",)  # a clean record is left as it is


def test_install_reaches_handlers_added_later(caplog: pytest.LogCaptureFixture) -> None:
    redaction.install()
    redaction.install()  # idempotent
    register_secret("canary-install-9")
    logger = logging.getLogger("sq.test.redaction")
    with caplog.at_level(logging.DEBUG):
        logger.debug("key=%s", "canary-install-9")
        logger.warning("token canary-install-9 refused")
        try:
            raise ValueError("canary-install-9")
        except ValueError:
            logger.exception("boom")
    assert "canary-install-9" not in caplog.text
    assert all("canary-install-9" not in r.getMessage() for r in caplog.records)
    redaction.uninstall()
    with caplog.at_level(logging.DEBUG):
        logger.debug("after %s", "canary-install-9")
    assert "after canary-install-9" in caplog.text  # uninstall really removed it (this test can fail)
