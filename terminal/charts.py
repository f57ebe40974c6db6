"""Chart documents: a ChartWidget fed by the engine's BarService, with the user's orders, fills and position.

Each chart is a closable tab of the central area with its own instrument and timeframe. Switching
either reloads history (cache first, then the venue) joined with the live feed; the BarService writes
live bars into the series the chart holds, so the chart only syncs on its frame timer. The open charts
(instrument, timeframe, studies) are saved per profile in charts.json and reopened at start.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.bus import Subscription
from core.domain import Instrument, InstrumentId, OrderUpdated, Venue
from core.marketdata.bar_service import BarWatch
from core.marketdata.timeframes import Timeframe
from core.trading.events import FillApplied
from widgets.chart.chart_widget import ChartWidget
from widgets.chart.time_axis import venue_tz
from widgets.frame_timer import screen_timer
from widgets.instrument_search import InstrumentSearch
from widgets.order_entry import run_async

from .engine import Engine

log = logging.getLogger(__name__)
LOOKBACK_BARS = 1500
DEFAULT_CHARTS = ({"instrument": "BTCUSDT.BINANCE", "timeframe": "1m", "studies": ["ema20", "vwap"]},
                  {"instrument": "NIFTY 50.ZERODHA", "timeframe": "5m", "studies": ["sma20", "rsi14"]})


class ChartDocument(QWidget):
    """One chart tab: an instrument search over the chart; call show() to (re)load."""

    def __init__(self, engine: Engine, frame_hz: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.instrument: Instrument | None = None
        self.timeframe = Timeframe("1m")
        self.chart = ChartWidget(engine.entry, venue_tz(Venue.BINANCE))
        self.search = InstrumentSearch(engine.catalog, limit=15)
        self.search.edit.setPlaceholderText("Chart another instrument: e.g. nifty fut, infy, ethusdt")
        self.search.chosen.connect(lambda iid: self.spawn(self.show(iid, self.timeframe)))
        self.chart.timeframe_requested.connect(lambda tf: self.spawn(self.show(self.instrument.id, tf)) if self.instrument else None)
        self.chart.order_error.connect(lambda text: log.warning("chart: %s", text))
        self._watch: BarWatch | None = None
        self.on_title: Callable[[str], None] | None = None  # renames the tab after a switch
        self._subs: list[Subscription[Any]] = [engine.bus.subscribe(OrderUpdated, self._on_order),
                                               engine.bus.subscribe(FillApplied, self._on_fill)]
        self._tasks: set[asyncio.Task[None]] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.search)
        layout.addWidget(self.chart, 1)
        self._timer = screen_timer(self, frame_hz, self.chart.sync)  # a background chart catches up when shown

    @property
    def title(self) -> str:
        return f"{self.instrument.symbol} · {self.timeframe.value}" if self.instrument else "Chart"

    async def show(self, instrument_id: InstrumentId, timeframe: Timeframe | str) -> None:
        """Load the instrument's candles at a timeframe and follow them live."""
        bars = self.engine.bars
        inst = self.engine.catalog.find(instrument_id)
        if bars is None or inst is None:
            log.warning("cannot chart %s: %s", instrument_id, "unknown instrument" if inst is None else "engine not started")
            return
        tf = Timeframe(timeframe)
        if self._watch is not None:
            self._watch.close()
        self._watch = bars.watch(instrument_id, tf)  # before load(): the load joins into the live series
        self.instrument, self.timeframe = inst, tf
        self.chart.tz = venue_tz(instrument_id.venue)
        await self.engine.subscribe([instrument_id])  # idempotent: a venue streams each instrument once
        series = await bars.load(instrument_id, tf, LOOKBACK_BARS)
        self.chart.set_bars(series, inst, tf)
        self.chart.set_orders(self.engine.entry.working_orders(instrument_id))
        self._show_position()
        self.title_changed()

    def title_changed(self) -> None:
        if self.on_title is not None:
            self.on_title(self.title)

    def state(self) -> dict[str, Any]:
        return {"instrument": str(self.instrument.id) if self.instrument else "", "timeframe": self.timeframe.value,
                "studies": self.chart.state().get("studies", [])}

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a load off the Qt slot (failures are logged by run_async); closing the tab cancels it."""
        task = run_async(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_order(self, event: OrderUpdated) -> None:
        if self.instrument is not None and event.order.instrument_id == self.instrument.id:
            self.chart.set_orders(self.engine.entry.working_orders(self.instrument.id))

    def _on_fill(self, event: FillApplied) -> None:
        if self.instrument is not None and event.fill.instrument_id == self.instrument.id:
            self.chart.add_fills([event.fill])
            self._show_position()

    def _show_position(self) -> None:
        stack = self.engine.stack
        if stack is None or self.instrument is None:
            return
        for pos in stack.portfolio.positions():
            if pos.instrument_id == self.instrument.id and pos.quantity:
                self.chart.set_position(pos.average_price, pos.quantity)
                return
        self.chart.set_position(None, Decimal(0))

    def close_feeds(self) -> None:
        """Release the live feed and the bus subscriptions (the tab is closing)."""
        self._timer.stop()
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        for sub in self._subs:
            sub.close()
        self._subs.clear()
        for task in self._tasks:
            task.cancel()


def load_chart_specs(path: Path) -> list[dict[str, Any]]:
    """The saved charts of a profile, else the defaults (BTCUSDT 1m and NIFTY 50 5m)."""
    try:
        specs = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(specs, list) and all(isinstance(s, dict) for s in specs):
            return specs
        log.warning("ignoring malformed %s", path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
    return [dict(s) for s in DEFAULT_CHARTS]


def save_chart_specs(path: Path, documents: list[ChartDocument]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([d.state() for d in documents if d.instrument is not None], indent=1), encoding="utf-8")
    except OSError as exc:
        log.warning("could not save charts to %s: %s", path, exc)
