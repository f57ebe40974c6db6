"""Suite-wide fixtures: headless Qt, user dirs redirected so no test touches the real ones, and a qasync
loop for tests that drive widgets and async work together, as the terminal does."""
from __future__ import annotations

import asyncio
import gc
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
_HOME = Path(tempfile.mkdtemp(prefix="sq-test-home-"))
os.environ["XDG_CONFIG_HOME"] = str(_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_HOME / "cache")


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


@pytest.fixture(autouse=True)
def _qt_garbage_between_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a Qt test, delete its leftover widgets and timers now, between tests.

    Left to the garbage collector they die at a random moment, possibly while the next test's event
    loop is dispatching timers, and Qt then touches freed objects (a segfault, not a failure)."""
    yield
    if not {"qapp", "qtbot", "qloop"} & set(request.fixturenames):
        return
    gc.collect()
    app = QApplication.instance()
    if app is not None:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
