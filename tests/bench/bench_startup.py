"""Start-up: from launching a fresh Python process to the first painted order book on the emulator.

Each run is a new process (cold imports) that does what `python -m terminal --data-dir <tmp> --config
<tmp>/s.toml` does (terminal.app.main: settings, QApplication, qasync loop, Terminal.run()) with three
probes added in that process only: MainWindow.show returning (window shown), the emulator child
process printing its endpoints (EmulatorProcess.start returning; the child prints them once its sockets
are bound, and answers once its markets are built), the engine's on_ready
callbacks (venues connected, journal reconciled, bars and subscriptions up), and the first
LadderWidget.paintEvent that draws a non-empty book. Times are measured from just before the parent
starts the child (time.time(), shared clock). Median of 3 runs. Goal: first book < 2 s.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

RUNS = 3
STAGES = (("imports done", "imports"), ("window shown", "window"), ("emulator serving", "emulator"), ("engine ready", "ready"),
          ("first book painted", "book"))


def child(launched: float, root: Path) -> None:
    """One cold start; print the stage times (seconds since launch) as one JSON line."""
    marks: dict[str, float] = {}

    def mark(stage: str) -> None:
        marks.setdefault(stage, time.time() - launched)

    import asyncio

    from terminal.pyside_import_hook import skip_feature_scan

    skip_feature_scan()  # as terminal.__main__ does, before the terminal's imports
    import qasync
    from PySide6.QtWidgets import QApplication

    from terminal.app import Terminal, configure_logging, install_exception_hooks
    from terminal.emulator_process import EmulatorProcess
    from terminal.main_window import MainWindow
    from terminal.settings import Settings
    from widgets.ladder.ladder_widget import LadderWidget

    mark("imports")
    show, paint, serve = MainWindow.show, LadderWidget.paintEvent, EmulatorProcess.start

    def shown(self: MainWindow) -> None:
        show(self)
        mark("window")

    def painted(self: LadderWidget, event: object) -> None:
        paint(self, event)
        if "book" not in marks and self.model.centre is not None and (self.model.bids or self.model.asks):
            mark("book")
            assert terminal.window is not None
            terminal.window.close()  # the run is over: the terminal shuts down in order

    async def serving(self: EmulatorProcess) -> dict[str, str]:
        endpoints = await serve(self)
        mark("emulator")
        return endpoints

    EmulatorProcess.start = serving  # type: ignore[method-assign]
    MainWindow.show = shown  # type: ignore[method-assign]
    LadderWidget.paintEvent = painted  # type: ignore[method-assign]
    handler = configure_logging("WARNING")
    settings = Settings.load(root / "s.toml", root / "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_exception_hooks(loop)
    terminal = Terminal(settings, settings.profile("demo"), handler, exit_after=45.0)
    terminal.engine.on_ready.append(lambda: mark("ready"))
    with loop:
        loop.run_until_complete(terminal.run())
    print(json.dumps(marks), flush=True)


def main() -> None:
    runs: list[dict[str, float]] = []
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="sq-bench-start-") as tmp:
            (Path(tmp) / "s.toml").write_text("")
            launched = time.time()
            proc = subprocess.run([sys.executable, __file__, "--child", repr(launched), tmp], capture_output=True, text=True,
                                  timeout=60, env=env)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            print(f"start-up run failed (exit {proc.returncode})\n{proc.stderr[-3000:]}", file=sys.stderr)
            sys.exit(1)
        runs.append(json.loads(lines[-1]))
    rows = []
    for label, key in STAGES:
        values = [r[key] for r in runs if key in r]
        cell = f"{statistics.median(values):.2f}" if len(values) == len(runs) else f"missing in {len(runs) - len(values)} runs"
        rows.append([label, cell, " / ".join(f"{v:.2f}" for v in values),
                     ("yes" if statistics.median(values) < 2 else "NO") if key == "book" and values else ""])
    print_table(["stage (s since launch)", "median", "runs", "< 2 s"], rows)
    print(f"\n{RUNS} cold runs, each a fresh process with the demo profile, empty data dir (default layout), "
          "emulator child process started by the engine, offscreen.")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(float(sys.argv[2]), Path(sys.argv[3]))
        sys.stdout.flush()
        os._exit(0)
    main()
