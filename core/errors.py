"""The error tree. Connectors translate venue and transport errors into these at their boundary.

    ShrivenQuantError
    ├── ValidationError          bad input caught before anything is sent (off tick, below lot ...)
    │   └── UnknownInstrument
    ├── RiskRejected             a pre-trade rule said no (rule name and numbers in the message)
    ├── VenueError               the venue answered with an error
    │   ├── OrderRejected        the venue refused this order
    │   ├── AuthError            bad key, bad signature, expired token: log in again
    │   ├── RateLimited          too many requests; retry_after seconds
    │   └── VenueUnavailable     5xx / maintenance, with the request known not to have taken effect
    ├── TransportError           could not reach the venue (connect failed, socket dropped)
    └── OrderOutcomeUnknown      sent, but no answer (timeout, 5xx after send): stays in flight until
                                 a stream update, a query or reconciliation settles it; never resent
"""
from __future__ import annotations


class ShrivenQuantError(Exception):
    """Base of every error the terminal raises on purpose."""


class ValidationError(ShrivenQuantError, ValueError):
    pass


class UnknownInstrument(ValidationError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown instrument"


class RiskRejected(ShrivenQuantError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message


class VenueError(ShrivenQuantError):
    def __init__(self, message: str, code: int | str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class OrderRejected(VenueError):
    pass


class AuthError(VenueError):
    pass


class RateLimited(VenueError):
    def __init__(self, message: str, retry_after: float = 1.0, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class VenueUnavailable(VenueError):
    pass


class TransportError(ShrivenQuantError):
    pass


class OrderOutcomeUnknown(ShrivenQuantError):
    pass
