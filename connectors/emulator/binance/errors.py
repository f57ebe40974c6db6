"""Binance error answers as the emulator raises them: HTTP status, code and message (binance.md A6)."""
from __future__ import annotations

from typing import Any


class BinanceError(Exception):
    """Raised inside a handler; rendered as {"code": ..., "msg": ...} with its HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400, data: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, value: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {name}")


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def bad_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def bad_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", status=401)


UNKNOWN_ORDER = (-2011, "Unknown order sent.")
NO_SUCH_ORDER = (-2013, "Order does not exist.")
