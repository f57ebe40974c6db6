"""Redaction: secrets never reach a log line, an exception text in a log, or the audit log.

Two nets, applied together by redact():
1. Registered secrets: every exact string given to register_secret() (the vault registers each value it
   reveals; at least MIN_SECRET_LENGTH characters, shorter ones would redact ordinary words).
2. Patterns: the value after api_key=, access_token=, request_token=, secret=, signature=, checksum=,
   X-MBX-APIKEY:, "Authorization: token k:t" and the like, for secrets that were never registered
   (a token the venue just issued, a signature of this request).

install() puts RedactingFilter on every handler of the root logger and wraps the log record factory,
so handlers added later (pytest's caplog, a crash reporter) see redacted records too. A clean record is
left as it is; a record with a secret gets its message formatted and redacted (args dropped) and its
exception text redacted (exc_info dropped, so no handler can format the live exception again).
"""
from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable
from typing import Any

from .secret import Secret

MASK = "***"
MIN_SECRET_LENGTH = 6

_NAMES = (r"api[_-]?key|apikey|api[_-]?secret|secret[_-]?key|secret|access[_-]?token|request[_-]?token|refresh[_-]?token"
          r"|enctoken|signature|checksum|passphrase|password|private[_-]?key|listen[_-]?key")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: token api_key:access_token  /  Bearer xyz  (the whole credential, scheme kept)
    (re.compile(r"(?i)(\bauthorization['\"]?\s*[:=]\s*['\"]?(?:token|bearer|basic)?\s*)[^\s'\",;}]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bx-mbx-apikey['\"]?\s*[:=]\s*['\"]?)[^\s'\",;}]+"), r"\1" + MASK),
    # key=value (query strings, forms), key: value, 'key': 'value', "key": "value"
    (re.compile(rf"(?i)((?<![A-Za-z0-9])(?:{_NAMES})['\"]?\s*[:=]\s*['\"]?)(?!\*\*\*)[^\s&'\",;}}\])]+"), r"\1" + MASK),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_rx: re.Pattern[str] | None = None


def register_secret(secret: str | Secret) -> None:
    """Redact this exact text from now on (ignored if shorter than MIN_SECRET_LENGTH)."""
    global _secret_rx
    text = secret.reveal() if isinstance(secret, Secret) else secret
    if len(text) < MIN_SECRET_LENGTH or text in _secrets:
        return
    with _lock:
        _secrets.add(text)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: a secret containing another goes whole
        _secret_rx = re.compile("|".join(re.escape(s) for s in ordered))


def forget_secrets() -> None:
    """Clear the registry (tests; a real process keeps every secret it ever revealed)."""
    global _secret_rx
    with _lock:
        _secrets.clear()
        _secret_rx = None


def redact(text: str) -> str:
    """Return text with every registered secret and every credential-looking value replaced by ***."""
    rx = _secret_rx
    if rx is not None:
        while True:  # a replacement can join pieces into a secret again; each pass shortens the text
            replaced = rx.sub(MASK, text)
            if replaced == text:
                break
            text = replaced
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """Redact the strings inside a JSON-like value (dicts, lists, tuples); other values unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {redact(str(k)) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Redact a record in place (message, args, exception and stack text); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place and return it (see the module docstring)."""
    if getattr(record, "_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw parts, redacted
        message = f"{record.msg} {record.args!r}"
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = record.exc_text or "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean_exc = redact(text)
        if clean_exc != text:
            record.exc_text, record.exc_info = clean_exc, None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._redacted = True  # type: ignore[attr-defined]
    return record


_previous_factory: Callable[..., logging.LogRecord] | None = None
_filter = RedactingFilter()


def install() -> None:
    """Redact every record: a filter on each root handler and a record factory wrapper. Idempotent."""
    global _previous_factory
    for handler in logging.getLogger().handlers:
        if _filter not in handler.filters:
            handler.addFilter(_filter)
    if _previous_factory is None:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return scrub(previous(*args, **kwargs))

        _previous_factory = previous
        logging.setLogRecordFactory(factory)


def uninstall() -> None:
    """Undo install() (tests)."""
    global _previous_factory
    for handler in logging.getLogger().handlers:
        handler.removeFilter(_filter)
    if _previous_factory is not None:
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None
