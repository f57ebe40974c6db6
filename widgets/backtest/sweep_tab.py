"""The sweep tab's view: the grid to try, the metric to rank by, how many processes, and the ranked
results table (one column per swept parameter; sortable; a double-click asks for that single run)."""
from __future__ import annotations

import math
import os
from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from core.backtest import SweepRow
from core.backtest.sweep import SORTABLE

from ..table import Align, Column, DataTable, RowTableModel, fmt_number, signed_color

_METRICS = ("total_return", "max_drawdown", "sharpe", "sortino", "win_rate", "exposure", "trades")


def _metric(name: str) -> Column[SweepRow]:
    def text(row: SweepRow) -> str:
        value = row.value(name)
        if math.isnan(value):
            return ""
        return f"{value:.0f}" if name == "trades" else f"{value:.4f}"

    return Column[SweepRow](name, lambda r: r.value(name), text=text, align=Align.RIGHT)


def sweep_columns(param_names: list[str]) -> list[Column[SweepRow]]:
    """One column per swept parameter, then the status, final equity and the metrics."""
    columns = [Column[SweepRow](n, lambda r, n=n: r.params.get(n), align=Align.RIGHT) for n in param_names]
    columns.append(Column[SweepRow]("status", lambda r: r.status, width=90))
    columns.append(Column[SweepRow]("final_equity", lambda r: r.final_equity, text=lambda r: fmt_number(r.final_equity, 2),
                                    align=Align.RIGHT, width=110,
                                    color=lambda r: None if r.final_equity is None else signed_color(r.value("total_return"))))
    columns.extend(_metric(m) for m in _METRICS)
    columns.append(Column[SweepRow]("error", lambda r: r.error, width=200))
    return columns


class SweepTab(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()
    point_requested = Signal(dict)  # the parameters of a double-clicked row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QLineEdit()
        self.grid.setPlaceholderText("parameter grid, e.g. fast=5,10,20 slow=50,100")
        self.rank_by = QComboBox()
        self.rank_by.addItems(sorted(SORTABLE))
        self.rank_by.setCurrentText("sharpe")
        self.processes = QSpinBox()
        self.processes.setRange(1, max(1, os.cpu_count() or 1))
        self.processes.setValue(max(1, os.cpu_count() or 1))
        self.processes.setToolTip("worker processes")
        self.run_button = QPushButton("Run sweep")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel()
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.grid, 1)
        top.addWidget(QLabel("rank by"))
        top.addWidget(self.rank_by)
        top.addWidget(QLabel("processes"))
        top.addWidget(self.processes)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addLayout(top)
        self._layout.addWidget(self.progress)
        self._layout.addWidget(self.status)
        self.model: RowTableModel[SweepRow] = RowTableModel(sweep_columns([]), key=id)
        self.table = DataTable(self.model, "Filter results…")
        self._layout.addWidget(self.table, 1)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)

    def show_rows(self, param_names: list[str], rows: list[SweepRow]) -> None:
        """Replace the table with these rows (ranked as given)."""
        model: RowTableModel[SweepRow] = RowTableModel(sweep_columns(param_names), key=id)
        model.flash_enabled = False
        model.set_rows(rows)
        table = DataTable(model, "Filter results…")
        table.view.doubleClicked.connect(self._double_clicked)
        self._layout.replaceWidget(self.table, table)
        self.table.deleteLater()
        self.model, self.table = model, table

    def _double_clicked(self, index: QModelIndex) -> None:
        row = self.model.row_at(self.table.proxy.mapToSource(index).row())
        self.request_point(row)

    def request_point(self, row: SweepRow) -> None:
        """Ask for the single backtest of a row's parameters."""
        params: dict[str, Any] = dict(row.params)
        self.point_requested.emit(params)
