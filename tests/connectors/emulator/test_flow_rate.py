"""--flow-rate N of the emulator process: N simulation loops and a faster Kite ticker, for load tests."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request


def recent_trades(rest: str) -> int:
    """BTCUSDT trades the emulator reports for the last 2 seconds."""
    with urllib.request.urlopen(f"{rest}/api/v3/trades?symbol=BTCUSDT&limit=1000", timeout=10) as answer:  # noqa: S310 (loopback)
        trades = json.loads(answer.read())
    now_ms = time.time() * 1000
    return sum(1 for t in trades if now_ms - t["time"] <= 2000)


def trades_at(rate: int) -> int:
    with subprocess.Popen([sys.executable, "-m", "connectors.emulator", "--seed", "3", "--flow-rate", str(rate)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            endpoints = json.loads(proc.stdout.readline())
            time.sleep(2.2)
            count = recent_trades(endpoints["binance_rest"])
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0  # the extra simulation loops stop with the server
            return count
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_higher_flow_rate_trades_more_and_still_stops_cleanly() -> None:
    normal, fast = trades_at(1), trades_at(8)
    assert fast > 2 * normal, (normal, fast)


def test_refuses_a_flow_rate_out_of_range() -> None:
    proc = subprocess.run([sys.executable, "-m", "connectors.emulator", "--flow-rate", "0"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "flow rate must be 1..50" in proc.stderr
