"""Event-loop lag on the qasync loop while the real window shows 4 live books and the option chain.

Each phase runs in its own process: the demo terminal (window offscreen, engine, emulator process) is
started in-process as the e2e tests do, three more order-book panels are docked next to the default
one (BTCUSDT spot, ETHUSDT, SOLUSDT, BTCUSDT USD-M) and the option chain is brought to the front.
After a warm-up, core.loop_monitor.LoopLagMonitor (the status bar's sampler) with a 5 ms interval
measures how late its timer fires, while every event published on the engine bus is counted by type
and asyncio callbacks slower than 20 ms are counted by name. Phases: the window at the emulator's
default flow; the window at the emulator's --flow-rate 10 (ten staggered simulation loops, the Kite
ticker pushing ten times as often) aiming at about 5,000 bus messages/s (~6,000 measured), the achieved
rate being what the table reports; and the engine alone (no window, same subscriptions) at the same
rate, which shows what the UI costs and whether the emulator can produce the flow. `--flow-rate N`
picks another rate for those two phases (rate 6 gave ~3,600 msgs/s). CPU is user+system time of each
process over the measurement. Goal: p99 < 10 ms.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

WARMUP_S = 2.0
MEASURE_S = 8.0
SAMPLE_S = 0.005
SLOW_MS = 20.0
# mode: "layout" = the window as shipped (a chart, one ladder, tape, watchlist, orders on screen);
# "busy" = 4 ladders and the option chain on screen; "engine" = no window
FAST_RATE = 10  # the emulator's --flow-rate for the load phases: about 6,000 bus messages/s


def phases(fast: int) -> tuple[tuple[str, int, str], ...]:
    return (("window as shipped, default flow", 1, "layout"), ("window busy, default flow", 1, "busy"),
            (f"window busy, --flow-rate {fast}", fast, "busy"), (f"engine only, --flow-rate {fast}", fast, "engine"))


def _label(handle: asyncio.Handle) -> str:
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        return getattr(owner.get_coro(), "__qualname__", "task")
    return getattr(callback, "__qualname__", repr(callback))


def watch_slow_callbacks(threshold_ms: float) -> Counter[str]:
    """Count asyncio callbacks (timers, socket reads, task steps) slower than threshold_ms, by name."""
    slow: Counter[str] = Counter()
    run = asyncio.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        started = time.perf_counter()
        run(handle)
        if (time.perf_counter() - started) * 1000 > threshold_ms:
            slow[_label(handle)] += 1

    asyncio.Handle._run = timed  # type: ignore[method-assign]
    return slow


def run_phase(flow_rate: int, mode: str) -> dict[str, object]:
    """Start the terminal (with its window, or the engine alone) at this flow rate, measure, shut down."""
    import numpy as np
    import psutil
    import qasync
    from PySide6.QtWidgets import QApplication

    import terminal.engine as engine_module
    from core.domain import InstrumentId, Venue
    from core.loop_monitor import LoopLagMonitor
    from terminal.app import GC_FREEZE_AFTER_S, Terminal, freeze_start_up_heap
    from terminal.emulator_process import EmulatorProcess
    from terminal.layout import default_watchlists, size_default_layout
    from terminal.settings import Settings
    from widgets.ladder.panel import OrderBookPanel
    from widgets.log_panel import QtLogHandler

    if flow_rate > 1:
        engine_module.EmulatorProcess = partial(EmulatorProcess, extra_args=("--flow-rate", str(flow_rate)))  # type: ignore[misc]
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    books = [InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentId(Venue.BINANCE, "ETHUSDT"),
             InstrumentId(Venue.BINANCE, "SOLUSDT"), InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")]
    result: dict[str, object] = {}

    async def main(root: Path) -> None:
        settings = Settings.load(root / "settings.toml", root / "data")
        term = Terminal(settings, settings.profile("demo"), QtLogHandler())
        panels: list[OrderBookPanel] = []
        if mode != "engine":
            window = term.window = term.build_window()
            assert term.panels is not None
            panels.append(term.panels.book)
            for n, _ in enumerate(books[1:] if mode == "busy" else [], start=2):
                panel = OrderBookPanel(term.engine.market, term.engine.entry, [], frame_hz=settings.frame_rate_hz)
                window.add_panel(f"bench_book{n}", f"Order book {n}", panel)
                panels.append(panel)
            window.resize(1920, 1080)
            window.show()
            size_default_layout(window)
        counts: Counter[str] = Counter()
        publish = term.bus.publish

        def counting_publish(event: object) -> None:
            counts[type(event).__name__] += 1
            publish(event)

        term.bus.publish = counting_publish  # type: ignore[method-assign]
        ready: list[bool] = []
        term.engine.on_ready.append(lambda: ready.append(True))
        try:
            watchlists = [iid for ids in default_watchlists().values() for iid in ids]
            await term.engine.start(subscribe=books + watchlists)
            asyncio.get_running_loop().call_later(GC_FREEZE_AFTER_S, freeze_start_up_heap)  # as Terminal does
            if mode == "engine":  # what the window's on_ready asks for: the option chains' derivatives
                await term.engine.subscribe([i.id for i in term.engine.catalog if i.underlying in ("NIFTY", "BANKNIFTY")
                                             and i.kind.value in ("option", "future")])
            deadline = time.monotonic() + 30
            while not (ready and all(term.engine.market.book(b).view(1).best_bid is not None for b in books)):
                if time.monotonic() > deadline:
                    raise RuntimeError("books did not fill within 30 s")
                await asyncio.sleep(0.05)
            instruments = list(term.engine.catalog)
            for panel, iid in zip(panels, books):
                panel.set_instruments(instruments)
                panel.show_instrument(iid)
            if term.window is not None and mode == "busy":
                term.window.focus_panel("chain")
            await asyncio.sleep(WARMUP_S)
            sampler = LoopLagMonitor(SAMPLE_S, history=int(MEASURE_S / SAMPLE_S) * 2)
            slow = watch_slow_callbacks(SLOW_MS)
            counts.clear()
            assert term.engine.emulator is not None and term.engine.emulator._proc is not None
            emulator = psutil.Process(term.engine.emulator._proc.pid)
            started, cpu, emulator_cpu = time.perf_counter(), time.process_time(), sum(emulator.cpu_times()[:2])
            sampler.start()
            await asyncio.sleep(MEASURE_S)
            sampler.stop()
            elapsed = time.perf_counter() - started
            cpu = (time.process_time() - cpu) / elapsed
            emulator_cpu = (sum(emulator.cpu_times()[:2]) - emulator_cpu) / elapsed
            lag = np.fromiter(sampler.samples, float)
            result.update(samples=len(lag), p50=float(np.percentile(lag, 50)), p99=float(np.percentile(lag, 99)),
                          max=float(lag.max()), msgs_per_s=sum(counts.values()) / elapsed, cpu=cpu, emulator_cpu=emulator_cpu,
                          by_type={k: round(v / elapsed) for k, v in counts.most_common(6)}, slow=dict(slow.most_common(4)))
        finally:
            if term.window is not None:
                term.window.close()
            await term.shutdown()

    with tempfile.TemporaryDirectory(prefix="sq-bench-lag-") as tmp:
        try:
            loop.run_until_complete(main(Path(tmp)))
        finally:
            loop.close()
    return result


def main(fast: int = FAST_RATE) -> None:
    rows = []
    for label, rate, mode in phases(fast):
        proc = subprocess.run([sys.executable, __file__, "--phase", str(rate), mode], capture_output=True,
                              text=True, timeout=90,
                              env=dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen")))
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            print(f"{label}: phase failed (exit {proc.returncode})\n{proc.stderr[-3000:]}", file=sys.stderr)
            sys.exit(1)
        r = json.loads(lines[-1])
        kinds = ", ".join(f"{k} {v}" for k, v in r["by_type"].items())
        slow = ", ".join(f"{k} x{v}" for k, v in r["slow"].items()) or "none"
        rows.append([label, f"{r['msgs_per_s']:,.0f}", r["samples"], f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['max']:.1f}",
                     "yes" if r["p99"] < 10 else "NO", f"{r['cpu'] * 100:.0f}% / {r['emulator_cpu'] * 100:.0f}%", kinds, slow])
    print_table(["phase", "bus msgs/s", "samples", "lag p50 ms", "lag p99 ms", "max ms", "p99 < 10 ms", "CPU terminal / emulator",
                 "msgs/s by type", f"asyncio callbacks > {SLOW_MS:.0f} ms"], rows)
    print(f"\nBusy: 4 ladders (BTCUSDT, ETHUSDT, SOLUSDT, BTCUSDT USD-M) + option chain visible; as shipped: the default "
          f"layout (BTCUSDT chart, ladder, tape, watchlist, orders); offscreen 1920x1080; "
          f"{MEASURE_S:.0f} s after {WARMUP_S:.0f} s warm-up; lag = overshoot of a {SAMPLE_S * 1000:.0f} ms call_later timer.")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        print(json.dumps(run_phase(int(sys.argv[2]), sys.argv[3])), flush=True)
        os._exit(0)  # as terminal.__main__: skip Qt teardown during interpreter finalization
    main(int(sys.argv[2]) if len(sys.argv) == 3 and sys.argv[1] == "--flow-rate" else FAST_RATE)
