"""Kite error answers translated into core.errors at the boundary (kite.md C4).

    HTTP 429 (any type)                     -> RateLimited
    TokenException (403)                    -> AuthError: log in again
    OrderException, MarginException,
    HoldingException, InputException,
    UserException on an order request       -> OrderRejected
    InputException elsewhere                -> ValidationError (our request was wrong)
    NetworkException, DataException,
    GeneralException, any 5xx               -> VenueUnavailable
    PermissionException, anything else      -> VenueError

For requests that change orders, a 5xx or a "timed out" message means the order may or may not
have been taken: the caller gets KiteOutcomeUnknown and resolves it from the order book.
"""
from __future__ import annotations

from typing import Any

from core.errors import AuthError, OrderOutcomeUnknown, OrderRejected, RateLimited, ValidationError, VenueError, VenueUnavailable

REJECTIONS = frozenset({"OrderException", "MarginException", "HoldingException", "InputException", "UserException"})
UNAVAILABLE = frozenset({"NetworkException", "DataException", "GeneralException"})


class KiteOutcomeUnknown(OrderOutcomeUnknown):
    """An order request went out and the answer does not say whether it took effect."""


def translate(http_status: int, body: Any, is_order: bool = False) -> Exception:
    """The core error for a Kite error answer (body: the decoded JSON, or None if it was not JSON)."""
    body = body if isinstance(body, dict) else {}
    error_type = str(body.get("error_type") or "")
    message = str(body.get("message") or f"HTTP {http_status}")
    text = f"Kite {error_type or 'error'}: {message}"
    if http_status == 429:
        return RateLimited(text, retry_after=1.0, code=error_type or None, http_status=http_status)
    if is_order and (http_status >= 500 or "timed out" in message.lower()):
        return KiteOutcomeUnknown(text)
    if error_type == "TokenException" or (http_status == 403 and not error_type):
        return AuthError(text, code=error_type or None, http_status=http_status)
    if error_type in REJECTIONS and is_order:
        return OrderRejected(text, code=error_type, http_status=http_status)
    if error_type == "InputException":
        return ValidationError(text)
    if error_type in UNAVAILABLE or http_status >= 500:
        return VenueUnavailable(text, code=error_type or None, http_status=http_status)
    return VenueError(text, code=error_type or None, http_status=http_status)
