"""Option chain panel refresh (the 4 Hz frame tick) under a busy tape, with the emulator's NSE universe.

The catalog is the emulator's (NIFTY: two weekly expiries and the monthly, BANKNIFTY: the monthly,
+-15 strikes, futures). Between refreshes the clock moves 250 ms, the index and futures take a random
step and every option gets a new quote, as at the emulator's --flow-rate 10 (each option requoted ten
times a second): a Black-76 fair value times the market maker's mispricing (AR(1), sd 0.3 %,
correlation time 2 s, as connectors/emulator/markets/flow.py), bid and ask 0.5 % apart on the 0.05
tick, a trade (last price, volume) half the time, OI drifting. The panel (+-10 strikes, as shipped) is
shown offscreen at 1300x700. Reported: median and max ms of refresh(), of refresh_term_structure(), of
the parts of a refresh (snapshot, set_snapshot), of the repaint that follows, and of its chain table part
(the paint events of the table's viewport).
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parents[2]))
sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QAbstractScrollArea, QApplication  # noqa: E402

from connectors.emulator.markets.universe import nse_specs  # noqa: E402
from core import options  # noqa: E402
from core.bus import EventBus  # noqa: E402
from core.chain.model import OptionChainModel  # noqa: E402
from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Tick, Venue  # noqa: E402
from core.instruments import InstrumentCatalog  # noqa: E402
from core.marketdata.state import MarketState  # noqa: E402

FRAME_S = 0.25
FRAMES = 400


class Tape:
    """Synthetic NSE quotes on a fake clock."""

    def __init__(self, instruments: list[Instrument], seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.now = datetime(2025, 12, 1, 10, 0, tzinfo=timezone.utc)
        self.spot = {"NIFTY": 25000.0, "BANKNIFTY": 55000.0}
        self.index_id = {"NIFTY": InstrumentId(Venue.ZERODHA, "NIFTY 50"), "BANKNIFTY": InstrumentId(Venue.ZERODHA, "NIFTY BANK")}
        self.futures = [i for i in instruments if i.kind is InstrumentKind.FUTURE]
        self.options = [i for i in instruments if i.kind is InstrumentKind.OPTION]
        self.volume = {i.id: float(self.rng.integers(1_000, 500_000)) for i in self.options}
        self.oi = {i.id: float(self.rng.integers(10_000, 5_000_000)) for i in self.options}
        self.close = {i.id: 0.0 for i in self.options}
        self.noise = {i.id: float(self.rng.normal(0, 0.003)) for i in self.options}
        self.last = {i.id: 0.0 for i in self.options}
        self.seq = 0

    def years(self, expiry: datetime) -> float:
        return options.years_to_expiry(expiry, self.now)

    def step(self, market: MarketState, dt: float) -> None:
        self.now += timedelta(seconds=dt)
        self.seq += 1
        ticks = market.ticks
        for name in self.spot:
            self.spot[name] *= float(np.exp(self.rng.normal(0, 0.13 * np.sqrt(dt / (252 * 6.25 * 3600)))))
            px = D(str(round(self.spot[name] / 0.05) * 0.05)).quantize(D("0.05"))
            ticks[self.index_id[name]] = Tick(self.index_id[name], self.seq, last_price=px)
        for fut in self.futures:
            f = self.spot[fut.underlying or ""] * (1 + 0.065 * self.years(fut.expiry))  # type: ignore[arg-type]
            px = D(str(round(f / 0.1) * 0.1)).quantize(D("0.1"))
            ticks[fut.id] = Tick(fut.id, self.seq, last_price=px, bid=px - D("0.1"), ask=px + D("0.1"))
        for opt in self.options:
            t = self.years(opt.expiry)  # type: ignore[arg-type]
            f = self.spot[opt.underlying or ""] * (1 + 0.065 * t)
            fair = float(options.price("black76", opt.right is OptionRight.CALL, f, float(opt.strike), t, 0.14, rate=0.065))  # type: ignore[arg-type]
            rho = float(np.exp(-dt / 2.0))
            self.noise[opt.id] = self.noise[opt.id] * rho + 0.003 * float(np.sqrt(1 - rho * rho)) * self.rng.normal()
            fair = max(0.1, fair * (1 + self.noise[opt.id]))
            half = max(0.05, fair * 0.0025)
            bid = max(0.05, np.floor((fair - half) / 0.05) * 0.05)
            ask = bid + max(0.05, np.floor(2 * half / 0.05) * 0.05)
            if self.close[opt.id] == 0.0:
                self.close[opt.id] = self.last[opt.id] = bid
            if self.rng.random() < 0.5:
                self.last[opt.id] = bid if self.rng.random() < 0.5 else ask
                self.volume[opt.id] += float(self.rng.integers(1, 4)) * 75
            self.oi[opt.id] = max(0.0, self.oi[opt.id] + int(self.rng.normal(0.3, 2.0) * 2.5) * 75)
            q = D("0.05")
            ticks[opt.id] = Tick(opt.id, self.seq, last_price=D(str(self.last[opt.id])).quantize(q), bid=D(str(bid)).quantize(q),
                                 ask=D(str(ask)).quantize(q), volume=D(int(self.volume[opt.id])),
                                 open_interest=D(int(self.oi[opt.id])), close=D(str(self.close[opt.id])).quantize(q))


class PaintTimer(QObject):
    """Time the paint events of a scroll area's viewport by delivering them to the view itself."""

    def __init__(self, view: QAbstractScrollArea) -> None:
        super().__init__()
        self.view = view
        self.ms: list[float] = []
        view.viewport().installEventFilter(self)  # after the view's own filter, so it runs first

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.Paint:
            return False
        t0 = time.perf_counter()
        self.view.viewportEvent(event)
        self.ms.append((time.perf_counter() - t0) * 1e3)
        return True


def main() -> None:
    from widgets.chain.panel import OptionChainPanel

    app = QApplication.instance() or QApplication(sys.argv)
    instruments = [spec.instrument for spec in nse_specs(date(2025, 12, 1))]
    catalog = InstrumentCatalog(instruments)
    market = MarketState(EventBus())
    tape = Tape(instruments)
    chains = {name: OptionChainModel(catalog, name, InstrumentId(Venue.ZERODHA, index), tape.years)
              for name, index in (("NIFTY", "NIFTY 50"), ("BANKNIFTY", "NIFTY BANK"))}
    tape.step(market, FRAME_S)
    panel = OptionChainPanel(chains, market)
    panel._timer.stop()  # type: ignore[attr-defined]  # the benchmark drives the refreshes
    panel._term_timer.stop()  # type: ignore[attr-defined]
    panel.resize(1300, 700)
    panel.show()
    app.processEvents()
    parts: dict[str, list[float]] = {"snapshot": [], "set_snapshot": []}
    chain, model = panel.chain, panel.model
    assert chain is not None
    snap_fn, set_fn = chain.snapshot, model.set_snapshot

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def run(*a):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            out = fn(*a)
            parts[name].append((time.perf_counter() - t0) * 1e3)
            return out
        return run

    chain.snapshot = timed("snapshot", snap_fn)  # type: ignore[method-assign]
    model.set_snapshot = timed("set_snapshot", set_fn)  # type: ignore[method-assign]
    refresh, term, paint = [], [], []
    table = PaintTimer(panel.table)
    for frame in range(FRAMES):
        tape.step(market, FRAME_S)
        t0 = time.perf_counter()
        panel.refresh()
        refresh.append((time.perf_counter() - t0) * 1e3)
        if frame % 4 == 0:
            t0 = time.perf_counter()
            panel.refresh_term_structure()
            term.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        app.processEvents()  # the repaint the refresh asked for
        paint.append((time.perf_counter() - t0) * 1e3)
    rows = [[name, f"{statistics.median(v):.2f}", f"{max(v):.2f}", len(v)] for name, v in (
        ("refresh()", refresh), ("  chain.snapshot", parts["snapshot"]), ("  model.set_snapshot", parts["set_snapshot"]),
        ("refresh_term_structure()", term), ("repaint (processEvents)", paint), ("  chain table paint", table.ms))]
    print_table(["what", "median ms", "max ms", "n"], rows)


if __name__ == "__main__":
    main()
