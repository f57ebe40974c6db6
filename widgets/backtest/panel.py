"""Backtest panel: pick a strategy script, set its parameters, the data and the costs; run it off the UI
loop with a progress bar and a Cancel button; see the equity curve, drawdown, metrics and trades;
export CSV; sweep a parameter grid across processes and run any row on its own.

Threading contract: the UI never imports a user script and never replays bars itself. A script's
declarations are read, and each backtest runs, in a fresh spawned process (core.backtest.ProcessTask)
that a timer polls; a sweep runs core.backtest.sweep (its own pool of spawned processes) from a worker
thread, which only waits on the pool. Bars come from the synthetic generator, computed here (numpy,
quick), or from the injected async `load_bars(instrument_id, timeframe, count)` awaited on the loop.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from core.backtest import BacktestJob, BacktestResult, BarArrays, ProcessTask, StrategyInfo, parse_grid, random_walk_bars, sweep
from core.domain import BarEvent, Instrument, InstrumentId
from core.marketdata.series import BarSeries

from ..order_entry import run_async
from .forms import HISTORY, CostForm, DataForm, DataSpec, ParamForm
from .results import ResultsView
from .sweep_tab import SweepTab

log = logging.getLogger(__name__)
LoadBars = Callable[[InstrumentId, str, int], Awaitable[Any]]  # -> BarSeries, BarArrays or closed BarEvents
FindInstrument = Callable[[InstrumentId], Instrument | None]
POLL_MS = 100


def to_bar_arrays(bars: Any, instrument_id: InstrumentId, timeframe: str) -> BarArrays:
    """Normalise what a bar loader returned (BarArrays, a BarSeries, or BarEvents) into columns."""
    empty = ValueError(f"no {timeframe} bars of {instrument_id} to replay")
    if isinstance(bars, BarArrays):
        arrays = bars
    elif isinstance(bars, BarSeries):
        arrays = BarArrays.from_series(instrument_id, timeframe, bars)
    elif isinstance(bars, Sequence) and all(isinstance(b, BarEvent) for b in bars):
        closed = [b for b in bars if b.closed]
        if not closed:
            raise empty
        arrays = BarArrays.from_events(closed)
    else:
        raise ValueError(f"the bar loader returned {type(bars).__name__}, not bars")
    if not len(arrays):
        raise empty
    return arrays


class BacktestPanel(QWidget):
    def __init__(self, strategy_dir: Path, find_instrument: FindInstrument, load_bars: LoadBars | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strategy_dir = strategy_dir
        self.find_instrument = find_instrument
        self.load_bars = load_bars
        self.info: StrategyInfo | None = None
        self.strategy_path: Path | None = None
        self._describing: ProcessTask | None = None
        self._running: ProcessTask | None = None
        self._sweep_cancel: threading.Event | None = None
        self._sweep_progress = 0.0
        self._sweep_names: list[str] = []

        self.strategy = QComboBox()
        self.strategy.setMinimumWidth(160)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_file)
        self.params_form = ParamForm()
        self.data_form = DataForm(has_history=load_bars is not None)
        self.cost_form = CostForm()
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.results = ResultsView()
        self.sweep_tab = SweepTab()
        self.sweep_tab.run_requested.connect(self.run_sweep)
        self.sweep_tab.cancel_requested.connect(self.cancel_sweep)
        self.sweep_tab.point_requested.connect(self.run_point)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.sweep_tab, "Sweep")
        self._build_layout(browse)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._fill_strategies()
        self.strategy.currentIndexChanged.connect(self._strategy_chosen)

    def _build_layout(self, browse: QPushButton) -> None:
        """Lay the panel out with every widget parented as it is created (an unparented widget held only
        by a layout not yet installed can be collected by Python, leaving Qt a dangling pointer)."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        split = QSplitter(self)
        layout.addWidget(split)
        side = QWidget(split)
        left = QVBoxLayout(side)
        left.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(side)
        holder = QWidget(scroll)
        form = QVBoxLayout(holder)
        pick = QHBoxLayout()
        form.addLayout(pick)
        pick.addWidget(self.strategy, 1)
        pick.addWidget(browse)
        for title, widget in (("Parameters", self.params_form), ("Data", self.data_form), ("Costs", self.cost_form)):
            box = QGroupBox(title, holder)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(4, 4, 4, 4)
            inner.addWidget(widget)
            form.addWidget(box)
        form.addStretch(1)
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        left.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        left.addLayout(buttons)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        split.addWidget(side)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 3)
        side.setMinimumWidth(300)  # the form's fields (instrument, dates, costs) stay readable
        split.setSizes([330, 700])

    # strategy ---------------------------------------------------------------------------------------
    def _fill_strategies(self) -> None:
        scripts = sorted(p for p in self.strategy_dir.glob("*.py") if not p.name.startswith("_"))
        for path in scripts:
            self.strategy.addItem(path.stem, str(path))

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Backtest strategy", str(self.strategy_dir), "Python (*.py)")
        if name:
            self.select_strategy(Path(name))

    def select_strategy(self, path: Path) -> None:
        """Choose a script (adding it to the list) and read its parameters."""
        index = self.strategy.findData(str(path))
        if index < 0:
            self.strategy.addItem(path.stem, str(path))
            index = self.strategy.count() - 1
        if index == self.strategy.currentIndex():
            self._strategy_chosen(index)
        else:
            self.strategy.setCurrentIndex(index)

    def _strategy_chosen(self, index: int) -> None:
        if index < 0:
            return
        self.strategy_path = Path(self.strategy.itemData(index))
        self.info = None
        self.params_form.set_params({})
        if self._describing is not None:
            self._describing.kill()
        self._describing = ProcessTask.describe(self.strategy_path).start()
        self.status.setText(f"Reading {self.strategy_path.name}…")
        self._timer.start()

    def _described(self, task: ProcessTask) -> None:
        if task.error:
            self.status.setText(f"⚠ {task.error.splitlines()[0]}")
            return
        info: StrategyInfo = task.result
        self.info = info
        self.params_form.set_params(info.params)
        if info.instruments:
            self.data_form.instrument.setText(info.instruments[0])
        if info.timeframes and self.data_form.timeframe.findText(info.timeframes[0]) >= 0:
            self.data_form.timeframe.setCurrentText(info.timeframes[0])
        self.status.setText(f"{info.class_name}: {len(info.params)} parameters")

    # single run -------------------------------------------------------------------------------------
    def run(self) -> None:
        """Start a backtest with the form's values (reported in the status line if a field is wrong)."""
        if self._running is not None or self.info is None or self.strategy_path is None:
            self.status.setText("⚠ a backtest is running" if self._running else "⚠ the strategy is not read yet")
            return
        try:
            params = self.params_form.values()
            options = self.cost_form.options()
            spec = self.data_form.spec()
            instrument = self._instrument(spec.instrument_id)
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText("Preparing data…")
        run_async(self._start(self.strategy_path, self.info.class_name, params, instrument, spec, options), self._failed)

    async def _start(self, path: Path, class_name: str, params: dict[str, Any], instrument: Instrument, spec: DataSpec,
                     options: dict[str, Any]) -> None:
        data = await self.bars(spec)
        job = BacktestJob(str(path), params, [instrument], data, class_name, options)
        self._running = ProcessTask.backtest(job).start()
        self.status.setText(f"Running {class_name} over {len(data):,} bars…")
        self._timer.start()

    def _failed(self, exc: BaseException) -> None:
        self._running = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(f"⚠ {exc}")

    def cancel(self) -> None:
        """Stop the running backtest; it reports what it replayed so far."""
        if self._running is not None:
            self._running.cancel()
            self.status.setText("Cancelling…")

    def run_point(self, params: dict[str, Any]) -> None:
        """Run a single backtest with these parameters (a sweep row's), showing the results tab."""
        self.params_form.set_values(params)
        self.tabs.setCurrentWidget(self.results)
        self.run()

    def _finished(self, task: ProcessTask) -> None:
        self._running = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if task.error:
            log.warning("backtest failed: %s", task.error)
            self.status.setText(f"⚠ {task.error.splitlines()[0]}")
            return
        result: BacktestResult = task.result
        self.progress.setValue(1000)
        self.results.show_result(result)
        self.status.setText(f"{result.status.value}: {result.units:,} bars in {result.elapsed_s:.2f} s, "
                            f"net P&L {result.net_pnl:,.2f}")

    # data -------------------------------------------------------------------------------------------
    def _instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self.find_instrument(instrument_id)
        if instrument is None:
            raise ValueError(f"unknown instrument {instrument_id} (is its venue connected?)")
        return instrument

    async def bars(self, spec: DataSpec) -> BarArrays:
        """The bars a spec asks for: venue history through the loader, or the seeded random walk."""
        if spec.source == HISTORY:
            if self.load_bars is None:
                raise ValueError("no venue history is available here")
            return to_bar_arrays(await self.load_bars(spec.instrument_id, spec.timeframe, spec.bars), spec.instrument_id,
                                 spec.timeframe)
        return random_walk_bars(spec.instrument_id, spec.timeframe, spec.bars, seed=spec.seed, start_ns=spec.start_ns,
                                start_price=spec.start_price)

    # sweep ------------------------------------------------------------------------------------------
    def run_sweep(self) -> None:
        """Backtest every point of the grid across processes (from a worker thread) and rank the rows."""
        if self._sweep_cancel is not None or self.info is None or self.strategy_path is None:
            return
        try:
            grid = parse_grid(self.sweep_tab.grid.text(), self.info.params)
            if not grid:
                raise ValueError("give at least one parameter to sweep, e.g. fast=5,10,20")
            base = self.params_form.values()
            options = self.cost_form.options()
            spec = self.data_form.spec()
            instrument = self._instrument(spec.instrument_id)
        except ValueError as exc:
            self.sweep_tab.status.setText(f"⚠ {exc}")
            return
        fixed = {k: [v] for k, v in base.items() if k not in grid}  # the other parameters as in the form
        self._sweep_cancel = threading.Event()
        self._sweep_progress = 0.0
        self._sweep_names = list(grid)
        self.sweep_tab.set_running(True)
        self.sweep_tab.status.setText("Preparing data…")
        run_async(self._sweep(self.strategy_path, self.info.class_name, {**grid, **fixed}, instrument, spec, options),
                  self._sweep_failed)
        self._timer.start()

    async def _sweep(self, path: Path, class_name: str, grid: dict[str, list[Any]], instrument: Instrument, spec: DataSpec,
                     options: dict[str, Any]) -> None:
        data = await self.bars(spec)
        count = 1
        for values in grid.values():
            count *= len(values)
        self.sweep_tab.status.setText(f"Running {count} backtests on {self.sweep_tab.processes.value()} processes…")
        work = functools.partial(sweep, str(path), grid, data, [instrument], class_name=class_name,
                                 metric=self.sweep_tab.rank_by.currentText(), processes=self.sweep_tab.processes.value(),
                                 progress=self._set_sweep_progress, cancel=self._sweep_cancel, **options)
        rows = await asyncio.get_running_loop().run_in_executor(None, work)
        cancelled = self._sweep_cancel is not None and self._sweep_cancel.is_set()
        self._sweep_cancel = None
        self.sweep_tab.set_running(False)
        self.sweep_tab.progress.setValue(1000)
        self.sweep_tab.show_rows(self._sweep_names, rows)
        self.sweep_tab.status.setText(f"{len(rows)} of {count} points{' (cancelled)' if cancelled else ''}; "
                                      "double-click a row to run it")

    def _set_sweep_progress(self, fraction: float) -> None:  # called from the sweep's thread: a float store only
        self._sweep_progress = fraction

    def _sweep_failed(self, exc: BaseException) -> None:
        self._sweep_cancel = None
        self.sweep_tab.set_running(False)
        self.sweep_tab.status.setText(f"⚠ {exc}")

    def cancel_sweep(self) -> None:
        if self._sweep_cancel is not None:
            self._sweep_cancel.set()
            self.sweep_tab.status.setText("Cancelling after the points in progress…")

    @property
    def sweeping(self) -> bool:
        return self._sweep_cancel is not None

    # polling ----------------------------------------------------------------------------------------
    def poll(self) -> None:
        """Collect progress and outcomes of the background work; stop the timer when there is none."""
        describing, running = self._describing, self._running
        if describing is not None and describing.poll():
            self._describing = None
            self._described(describing)
        if running is not None:
            done = running.poll()
            self.progress.setValue(int(running.progress * 1000))
            if done:
                self._finished(running)
        if self._sweep_cancel is not None:
            self.sweep_tab.progress.setValue(int(self._sweep_progress * 1000))
        if self._describing is None and self._running is None and self._sweep_cancel is None:
            self._timer.stop()

    def shutdown(self) -> None:
        """Stop everything in the background (the panel is closing)."""
        self._timer.stop()
        for task in (self._describing, self._running):
            if task is not None:
                task.kill()
        self._describing = self._running = None
        if self._sweep_cancel is not None:
            self._sweep_cancel.set()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Read the first script when the panel is first shown (not at construction: that spawns a process)."""
        super().showEvent(event)
        if self.info is None and self._describing is None and self.strategy.currentIndex() >= 0:
            self._strategy_chosen(self.strategy.currentIndex())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
