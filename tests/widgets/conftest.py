"""Widget tests run their async work on a qasync loop, as the terminal does."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def spin(qloop: qasync.QEventLoop) -> Callable[[float], None]:
    """Run the loop for a while so scheduled tasks complete."""

    def run(seconds: float = 0.02) -> None:
        qloop.run_until_complete(asyncio.sleep(seconds))

    return run
