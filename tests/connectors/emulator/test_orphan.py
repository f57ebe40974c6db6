"""An emulator whose parent dies (a crashed terminal) stops by itself instead of running forever."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "connectors.emulator", "--port", "0"], stdout=subprocess.PIPE)
print(child.pid, flush=True)
print(child.stdout.readline().decode().strip(), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has exited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timeout(60)
def test_emulator_stops_when_its_parent_is_killed() -> None:
    root = Path(__file__).resolve().parents[3]
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, cwd=root, text=True)
    try:
        emulator = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert parent.stdout.readline().startswith("{")  # type: ignore[union-attr]  # serving: endpoints printed
        assert _alive(emulator)
        os.kill(parent.pid, signal.SIGKILL)  # the terminal crashes: no orderly shutdown
        parent.wait()
        deadline = time.monotonic() + 15
        while _alive(emulator) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(emulator), "the orphaned emulator is still running"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()  # type: ignore[union-attr]
