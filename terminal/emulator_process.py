"""Runs the exchange emulator as a child process for the demo profile, and stops it on exit.

The emulator is its own process so its simulation never competes with the UI loop. It prints one
JSON line of endpoints on start; we wait for it (bounded), then leave it serving until stop().
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
START_TIMEOUT_S = 20.0


class EmulatorStartError(RuntimeError):
    """The emulator process did not start or did not print its endpoints in time."""


@dataclass
class EmulatorProcess:
    seed: int = 7
    host: str = "127.0.0.1"
    extra_args: tuple[str, ...] = ()
    endpoints: dict[str, str] = field(default_factory=dict)
    _proc: asyncio.subprocess.Process | None = None
    _drain: asyncio.Task[None] | None = None

    async def start(self) -> dict[str, str]:
        """Start the emulator and return its endpoints (keys binance_rest, kite_rest, ...)."""
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "connectors.emulator", "--host", self.host, "--port", "0", "--seed", str(self.seed),
            *self.extra_args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), START_TIMEOUT_S)
        except asyncio.TimeoutError:
            await self.stop()
            raise EmulatorStartError(f"emulator printed no endpoints within {START_TIMEOUT_S:.0f} s") from None
        if not line:
            err = (await self._proc.stderr.read()).decode(errors="replace")[-2000:] if self._proc.stderr else ""
            await self.stop()
            raise EmulatorStartError(f"emulator exited at start: {err.strip()}")
        try:
            self.endpoints = json.loads(line)
        except ValueError:
            await self.stop()
            raise EmulatorStartError(f"emulator printed {line[:200]!r}, not its endpoints") from None
        self._drain = asyncio.get_running_loop().create_task(self._log_stderr())
        log.info("exchange emulator running (pid %s)", self._proc.pid)
        return self.endpoints

    async def _log_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while line := await self._proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if " ERROR " in text or "Traceback" in text:
                log.warning("emulator: %s", text)

    async def stop(self, timeout: float = 5.0) -> None:
        """Terminate the emulator (SIGTERM, then SIGKILL after timeout)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._drain is not None:
            self._drain.cancel()
            await asyncio.gather(self._drain, return_exceptions=True)
        log.info("exchange emulator stopped")
