"""Tell a caller the moment an HTTP request has been written to the socket, through httpcore's trace extension.

Why: the OMS defers its journal inserts (and the fsync they start), the order's first bus event and the
market-data readers' turn until the order's request has left, so that they run while the venue answers.
"Handed to httpx" is too early for that: httpcore yields to the event loop a few times before it writes
(its pool lock, then a checkpoint before each send), and work queued for that moment ran ahead of the
write, 0.5 ms and more. httpcore calls the trace callback with "<protocol>.send_request_body.complete"
once the last byte is written, before it waits for the answer.
"""
from __future__ import annotations

import logging
from typing import Any

from core.venue import RequestSent

log = logging.getLogger(__name__)

_BODY_WRITTEN = "send_request_body.complete"


def sent_extensions(sent: RequestSent | None) -> dict[str, Any] | None:
    """httpx request extensions that call sent() right after the request is written (None without a callback).

    A failing callback is logged, never raised: the request has left, and its answer must still be read.
    """
    if sent is None:
        return None

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(_BODY_WRITTEN):
            try:
                sent()
            except Exception:
                log.exception("the request-sent callback failed (the request itself is on its way)")

    return {"trace": trace}
