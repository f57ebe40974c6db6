"""The backtest panel end to end: it reads the sample strategy in a child process, runs a short synthetic
backtest in another, shows the metrics, the equity plot and the trades, exports them, cancels a long
run, sweeps a grid and runs a row on its own."""
from __future__ import annotations

import csv
import time
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from core.backtest import BarArrays, RunStatus
from core.domain import BarEvent, Instrument, InstrumentId, InstrumentKind, Venue
from widgets.backtest import BacktestPanel, to_bar_arrays
from widgets.backtest.forms import HISTORY

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "strategies"
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
INSTRUMENTS = {BTC: Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT",
                               base_currency="BTC")}


def wait(spin: Callable[[float], None], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the panel did not finish in time"
        spin(0.05)


@pytest.fixture
def panel(qtbot: QtBot, qloop: Any, spin: Callable[[float], None]) -> Any:
    async def history(iid: InstrumentId, timeframe: str, n: int) -> list[BarEvent]:
        return [BarEvent(iid, timeframe, 1_704_067_200 * 10**9 + k * 60 * 10**9, D(100 + k), D(101 + k), D(99 + k), D(100 + k),
                         D(1), True) for k in range(n)]

    widget = BacktestPanel(SAMPLES, INSTRUMENTS.get, load_bars=history)
    qtbot.addWidget(widget)
    assert widget._describing is None  # nothing spawned by the constructor
    assert widget.strategy.findText("ema_crossover") >= 0  # the samples are listed
    widget.select_strategy(SAMPLES / "ema_crossover.py")
    wait(spin, lambda: widget.info is not None and widget.info.class_name == "EmaCrossover")
    yield widget
    widget.shutdown()


def test_typed_parameters_input_errors_and_the_history_loader(panel: Any, qloop: Any) -> None:
    assert list(panel.params_form.editors) == ["fast", "slow", "size", "stop_pct", "tick"]
    assert panel.params_form.values() == {"fast": 9, "slow": 21, "size": D("0.01"), "stop_pct": 0.0, "tick": D("0.01")}
    assert panel.params_form.editors["fast"].minimum() == 2  # the Param's bound
    assert panel.data_form.instrument.text() == "BTCUSDT.BINANCE"
    panel.params_form.editors["size"].setText("abc")
    panel.run()
    assert "size" in panel.status.text() and panel._running is None
    panel.sweep_tab.grid.setText("fats=1,2")
    panel.run_sweep()
    assert "not a parameter" in panel.sweep_tab.status.text() and not panel.sweeping
    panel.data_form.source.setCurrentText(HISTORY)
    panel.data_form.bars.setValue(50)
    arrays = qloop.run_until_complete(panel.bars(panel.data_form.spec()))
    assert len(arrays) == 50 and arrays.close[-1] == 149.0


def test_showing_the_panel_reads_the_current_script(qtbot: QtBot, qloop: Any, spin: Callable[[float], None]) -> None:
    widget = BacktestPanel(SAMPLES, INSTRUMENTS.get)
    qtbot.addWidget(widget)
    widget.show()
    wait(spin, lambda: widget.info is not None or "⚠" in widget.status.text())
    assert widget.info is not None and widget.info.class_name and widget.data_form.source.count() == 1  # no history loader
    widget.shutdown()


def test_runs_a_synthetic_backtest_and_exports_the_trades(panel: Any, spin: Callable[[float], None], tmp_path: Path) -> None:
    panel.data_form.bars.setValue(3000)
    panel.params_form.editors["fast"].setValue(5)
    panel.params_form.editors["slow"].setValue(13)
    panel.run()
    wait(spin, lambda: panel.results.result is not None)
    result = panel.results.result
    assert result.status is RunStatus.COMPLETED and result.units == 3000 and result.trades
    assert panel.progress.value() == 1000 and panel.run_button.isEnabled()
    metrics = {r.name: r.value for r in panel.results.metrics.rows()}
    assert metrics["Round trips"] == str(len(result.trades)) and metrics["Status"] == "COMPLETED"
    xs, ys = panel.results.equity_curve.getData()
    assert len(xs) == len(result.equity) and ys[0] == pytest.approx(100_000.0)
    assert len(panel.results.trades.rows()) == len(result.trades)
    trades_path, equity_path = panel.results.export_csv(tmp_path / "trades.csv")
    with trades_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(result.trades)
    assert [D(r["entry_price"]) for r in rows] == [t.entry_price for t in result.trades]
    assert len(equity_path.read_text().splitlines()) == len(result.equity) + 1


def test_cancel_stops_a_long_run_with_what_it_replayed(panel: Any, spin: Callable[[float], None]) -> None:
    panel.data_form.bars.setValue(400_000)
    panel.run()
    wait(spin, lambda: panel._running is not None and panel._running.progress > 0)
    panel.cancel()
    wait(spin, lambda: panel._running is None)
    result = panel.results.result
    assert result is not None and result.status is RunStatus.CANCELLED and 0 < result.units < 400_000
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_sweep_ranks_the_grid_and_a_double_click_runs_that_point(panel: Any, spin: Callable[[float], None]) -> None:
    panel.data_form.bars.setValue(1500)
    panel.sweep_tab.processes.setValue(1)
    panel.sweep_tab.grid.setText("fast=4,6 slow=12")
    panel.sweep_tab.rank_by.setCurrentText("final_equity")
    panel.run_sweep()
    wait(spin, lambda: not panel.sweeping)
    rows = panel.sweep_tab.model.rows()
    assert sorted(r.params["fast"] for r in rows) == [4, 6] and all(r.status == "COMPLETED" for r in rows)
    assert rows[0].value("final_equity") >= rows[1].value("final_equity")
    assert [c.title for c in panel.sweep_tab.model.columns[:2]] == ["fast", "slow"]
    view = panel.sweep_tab.table.view
    view.doubleClicked.emit(panel.sweep_tab.table.proxy.index(1, 0))
    wait(spin, lambda: panel.results.result is not None)
    assert panel.params_form.values()["fast"] == rows[1].params["fast"]
    assert panel.results.result.final_equity == rows[1].final_equity


def test_to_bar_arrays_accepts_the_loader_shapes() -> None:
    bars = [BarEvent(BTC, "1m", k * 60 * 10**9, D(10), D(11), D(9), D(10), D(1), closed=k < 2) for k in range(3)]
    arrays = to_bar_arrays(bars, BTC, "1m")
    assert isinstance(arrays, BarArrays) and len(arrays) == 2
    assert to_bar_arrays(arrays, BTC, "1m") is arrays
    with pytest.raises(ValueError, match="no 1m bars"):
        to_bar_arrays([], BTC, "1m")
    with pytest.raises(ValueError, match="not bars"):
        to_bar_arrays({"close": 1}, BTC, "1m")
