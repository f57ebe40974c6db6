"""A backtest's results: equity curve over drawdown (pyqtgraph, x-linked, UTC time axis), the metrics
table, the round-trip trades table and CSV export (trades, plus the equity curve beside them)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from core.backtest import BacktestResult, RoundTrip, drawdown

from ..style import ACCENT, DOWN
from ..table import Align, Column, DataTable, RowTableModel, fmt_number, signed_color

_MAX_POINTS = 20_000  # the curve is decimated to about this many points for drawing


@dataclass(frozen=True)
class MetricRow:
    name: str
    value: str


@dataclass(frozen=True)
class TradeRow:
    number: int
    trip: RoundTrip


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


METRIC_COLUMNS = [Column[MetricRow]("Metric", lambda r: r.name, width=150),
                  Column[MetricRow]("Value", lambda r: r.value, align=Align.RIGHT, width=140)]
TRADE_COLUMNS = [
    Column[TradeRow]("#", lambda r: r.number, align=Align.RIGHT, width=50),
    Column[TradeRow]("Instrument", lambda r: str(r.trip.instrument_id), width=140),
    Column[TradeRow]("Side", lambda r: "LONG" if r.trip.side.sign > 0 else "SHORT", width=60),
    Column[TradeRow]("Qty", lambda r: r.trip.quantity, align=Align.RIGHT),
    Column[TradeRow]("Entry time", lambda r: r.trip.entry_ns, text=lambda r: _time(r.trip.entry_ns), width=150),
    Column[TradeRow]("Exit time", lambda r: r.trip.exit_ns, text=lambda r: _time(r.trip.exit_ns), width=150),
    Column[TradeRow]("Entry", lambda r: r.trip.entry_price, align=Align.RIGHT),
    Column[TradeRow]("Exit", lambda r: r.trip.exit_price, align=Align.RIGHT),
    Column[TradeRow]("P&L", lambda r: r.trip.pnl, text=lambda r: fmt_number(r.trip.pnl, 2, sign=True), align=Align.RIGHT,
                     color=lambda r: signed_color(r.trip.pnl)),
    Column[TradeRow]("Fees", lambda r: r.trip.fees, text=lambda r: fmt_number(r.trip.fees, 4), align=Align.RIGHT),
    Column[TradeRow]("Net", lambda r: r.trip.net_pnl, text=lambda r: fmt_number(r.trip.net_pnl, 2, sign=True),
                     align=Align.RIGHT, color=lambda r: signed_color(r.trip.net_pnl)),
]


def metric_rows(result: BacktestResult) -> list[MetricRow]:
    """The headline numbers of a run as display rows."""
    m = result.metrics

    def pct(x: float) -> str:
        return f"{x * 100:+.2f} %" if math.isfinite(x) else str(x)

    def ratio(x: float) -> str:
        return f"{x:.3f}" if math.isfinite(x) else ("∞" if x > 0 else "-∞")

    return [MetricRow(n, v) for n, v in (
        ("Status", result.status.value + (f" ({result.error})" if result.error else "")),
        ("Final equity", fmt_number(result.final_equity, 2)),
        ("Net P&L", fmt_number(result.net_pnl, 2, sign=True)),
        ("Total return", pct(m.total_return)),
        ("Max drawdown", f"{m.max_drawdown * 100:.2f} % ({fmt_number(m.max_drawdown_abs, 2)})"),
        ("Sharpe", ratio(m.sharpe)),
        ("Sortino", ratio(m.sortino)),
        ("Win rate", f"{m.win_rate * 100:.1f} %"),
        ("Exposure", f"{m.exposure * 100:.1f} %"),
        ("Round trips", str(m.trades)),
        ("Orders / fills", f"{result.orders} / {len(result.fills)}"),
        ("Fees", fmt_number(result.total_fees, 4)),
        ("Bars replayed", f"{result.units:,}"),
        ("Run time", f"{result.elapsed_s:.2f} s"),
    )]


class ResultsView(QWidget):
    """Shows one BacktestResult; export_csv() writes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: BacktestResult | None = None
        self.plots = pg.GraphicsLayoutWidget()
        self.equity_plot = self.plots.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.drawdown_plot = self.plots.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 1)
        self.drawdown_plot.setXLink(self.equity_plot)
        self.equity_plot.setLabel("left", "Equity")
        self.drawdown_plot.setLabel("left", "Drawdown %")
        self.equity_curve = self.equity_plot.plot(pen=pg.mkPen(ACCENT, width=1.5))
        self.drawdown_curve = self.drawdown_plot.plot(pen=pg.mkPen(DOWN), fillLevel=0, brush=pg.mkBrush(DOWN.red(), DOWN.green(),
                                                                                                     DOWN.blue(), 60))
        self.metrics: RowTableModel[MetricRow] = RowTableModel(METRIC_COLUMNS, key=lambda r: r.name)
        self.metrics.flash_enabled = False
        self.trades: RowTableModel[TradeRow] = RowTableModel(TRADE_COLUMNS, key=lambda r: r.number)
        self.trades.flash_enabled = False
        self.metrics_table = DataTable(self.metrics)
        self.trades_table = DataTable(self.trades, "Filter trades…")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.note = QLabel()
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.metrics_table)
        bottom.addWidget(self.trades_table)
        bottom.setStretchFactor(1, 3)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plots)
        split.addWidget(bottom)
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split, 1)
        layout.addLayout(bar)

    def show_result(self, result: BacktestResult) -> None:
        """Plot the curves and fill the tables."""
        self.result = result
        x = result.equity_ns.astype(np.float64) / 1e9
        step = max(1, len(x) // _MAX_POINTS)
        self.equity_curve.setData(x[::step], result.equity[::step])
        self.drawdown_curve.setData(x[::step], -100.0 * drawdown(result.equity)[::step])
        self.metrics.set_rows(metric_rows(result))
        self.trades.set_rows([TradeRow(k, t) for k, t in enumerate(result.trades, 1)])
        self.export_button.setEnabled(True)
        self.note.setText(f"{len(result.trades)} round trips, {len(result.fills)} fills")

    def clear(self) -> None:
        self.result = None
        self.equity_curve.setData([], [])
        self.drawdown_curve.setData([], [])
        self.metrics.set_rows([])
        self.trades.set_rows([])
        self.export_button.setEnabled(False)
        self.note.setText("")

    def export_csv(self, path: Path | None = None) -> tuple[Path, Path] | None:
        """Write the trades to path and the equity curve next to it (asks for the path when none is given)."""
        if self.result is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "Export backtest", "backtest_trades.csv", "CSV (*.csv)")
            if not name:
                return None
            path = Path(name)
        written = self.result.to_csv(path)
        self.note.setText(f"Wrote {written[0].name} and {written[1].name}")
        return written
