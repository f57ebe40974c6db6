"""Kite's error envelope: {"status": "error", "message", "error_type", "data"} with the HTTP status of its type."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

DEFAULT_STATUS = {"TokenException": 403, "PermissionException": 403, "UserException": 400, "InputException": 400,
                  "OrderException": 400, "MarginException": 400, "HoldingException": 400, "NetworkException": 503,
                  "DataException": 502, "GeneralException": 500}


class KiteError(Exception):
    """An error answer; the HTTP status defaults to the one Kite uses for the error type."""

    def __init__(self, error_type: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status if status is not None else DEFAULT_STATUS[error_type]

    def response(self) -> web.Response:
        """The error envelope with its HTTP status."""
        return json_response({"status": "error", "message": self.message, "data": None, "error_type": self.error_type},
                             status=self.status)


def input_error(message: str) -> KiteError:
    """An InputException (HTTP 400)."""
    return KiteError("InputException", message)


def ok(data: Any) -> web.Response:
    """The success envelope."""
    return json_response({"status": "success", "data": data})


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON answer written as Kite writes it."""
    return web.Response(text=dumps(body), status=status, content_type="application/json")


def dumps(body: Any) -> str:
    """JSON as Kite writes it: compact, Decimals as numbers (integral ones as integers)."""
    return json.dumps(body, default=_default, separators=(",", ":"))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
