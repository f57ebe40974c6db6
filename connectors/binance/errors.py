"""Translate Binance error answers into core.errors at the connector's boundary.

Binance answers errors as HTTP 4xx/5xx with {"code": <negative int>, "msg": "..."} (binance.md A6).
"""
from __future__ import annotations

from typing import Any

from core.errors import AuthError, OrderRejected, RateLimited, VenueError, VenueUnavailable

AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
RATE_CODES = frozenset({-1003, -1015})
UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})  # "execution status unknown"
BUSY_CODES = frozenset({-1001, -1008})
TIMESTAMP_CODE = -1021
NO_SUCH_ORDER = -2013
UNKNOWN_ORDER = -2011
REPLACE_CODES = frozenset({-2021, -2022})


class BinanceApiError(VenueError):
    """A Binance error answer with no more specific core meaning; carries the venue's code and message."""


class ReplaceFailed(OrderRejected):
    """cancelReplace failed (-2022) or half failed (-2021); `data` says which part (binance.md A7)."""

    def __init__(self, message: str, data: dict[str, Any], code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.data = data

    @property
    def cancelled(self) -> bool:
        """True if the order to replace was cancelled (whatever happened to the new one)."""
        return self.data.get("cancelResult") == "SUCCESS"


def translate(status: int, code: int | None, msg: str, retry_after: float = 1.0, is_order: bool = False,
              data: Any = None) -> VenueError:
    """Map an HTTP status and Binance error code to the matching core error."""
    text = f"Binance {code}: {msg}" if code is not None else f"Binance HTTP {status}: {msg}"
    if code in REPLACE_CODES and isinstance(data, dict):
        return ReplaceFailed(text, data, code=code, http_status=status)
    if status in (418, 429) or code in RATE_CODES:
        return RateLimited(text, retry_after=retry_after, code=code, http_status=status)
    if code in AUTH_CODES or status == 401:
        return AuthError(text, code=code, http_status=status)
    if status >= 500 or code in BUSY_CODES:
        return VenueUnavailable(text, code=code, http_status=status)
    if is_order:
        return OrderRejected(text, code=code, http_status=status)
    return BinanceApiError(text, code=code, http_status=status)
