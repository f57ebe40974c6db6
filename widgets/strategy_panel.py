"""Strategy manager panel: load a script, set its parameters, start/pause/stop it, watch its state,
counts, position and P&L (realised, and unrealised at the last price) and log. It never imports a
user script itself (a script's module code could hang the UI): loading happens in the strategy host,
which reports back."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from core.strategy.pnl import StrategyPnlSummary

from .order_entry import run_async
from .style import mono_font
from .table import Align, Column, DataTable, RowTableModel, fmt_number, signed_color


class StrategyControl(Protocol):
    records: dict[str, Any]
    host_state: str
    restarts: int

    def pnl(self, sid: str) -> StrategyPnlSummary:
        """The strategy's positions and P&L, from the engine's fills of its orders."""
        ...

    async def load(self, path: Path, params: dict[str, Any] | None = None) -> Any: ...
    async def start_strategy(self, sid: str) -> None: ...
    async def stop_strategy(self, sid: str) -> None: ...
    async def pause_strategy(self, sid: str) -> None: ...
    async def resume_strategy(self, sid: str) -> None: ...


@dataclass(frozen=True)
class Row:
    sid: str
    script: str
    state: str
    orders: int
    fills: int
    errors: int
    error: str
    position: str = ""
    realised: Decimal | None = None
    unrealised: Decimal | None = None
    fees: Decimal | None = None


def position_text(pnl: StrategyPnlSummary) -> str:
    """'BTCUSDT +0.01 @ 97000.5' per open position; 'flat' once traded and closed; '' if never traded."""
    if not pnl.positions:
        return ""
    held = [f"{p.instrument_id.symbol} {p.quantity:+f} @ {p.average_price.normalize():f}" for p in pnl.open_positions]
    return ", ".join(held) or "flat"


_STATE_COLOURS = {"RUNNING": 1.0, "FAILED": -1.0}
COLUMNS = [
    Column[Row]("Strategy", lambda r: r.sid, width=130),
    Column[Row]("Script", lambda r: r.script, width=140),
    Column[Row]("State", lambda r: r.state, color=lambda r: signed_color(_STATE_COLOURS.get(r.state))),
    Column[Row]("Orders", lambda r: r.orders),
    Column[Row]("Fills", lambda r: r.fills),
    Column[Row]("Errors", lambda r: r.errors),
    Column[Row]("Position", lambda r: r.position, width=170),
    Column[Row]("Realised", lambda r: r.realised, text=lambda r: fmt_number(r.realised, 2, sign=True), align=Align.RIGHT,
                color=lambda r: signed_color(r.realised)),
    Column[Row]("Unrealised", lambda r: r.unrealised, text=lambda r: fmt_number(r.unrealised, 2, sign=True),
                align=Align.RIGHT, color=lambda r: signed_color(r.unrealised), flash=True),
    Column[Row]("Fees", lambda r: r.fees, text=lambda r: fmt_number(r.fees, 4), align=Align.RIGHT),
    Column[Row]("Last error", lambda r: r.error, width=260),
]


def parse_params(text: str) -> dict[str, str]:
    """'fast=12 slow=26 symbol="BTC USDT"' -> {'fast': '12', ...}; ValueError names a bad item."""
    params: dict[str, str] = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"parameter {item!r} is not name=value")
        params[key] = value
    return params


class StrategyPanel(QWidget):
    def __init__(self, control: StrategyControl, start_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.control = control
        self.start_dir = start_dir
        self.params = QLineEdit()
        self.params.setPlaceholderText("parameters for the next load, e.g. fast=12 slow=26")
        self.status = QLabel()
        buttons = QHBoxLayout()
        for label, slot in (("Load…", self.choose_file), ("Start", self._start), ("Pause", self._pause), ("Resume", self._resume),
                            ("Stop", self._stop)):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addWidget(self.params, 1)
        self.model: RowTableModel[Row] = RowTableModel(COLUMNS, key=lambda r: r.sid)
        self.table = DataTable(self.model)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setFont(mono_font(9))
        self.log.setPlaceholderText("Select a strategy to see its log here: its prints, orders and errors")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.log)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load strategy", str(self.start_dir), "Python (*.py)")
        if name:
            self.load(Path(name))

    def load(self, path: Path) -> None:
        """Load a script with the parameters typed in the box."""
        try:
            params = parse_params(self.params.text())
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            return
        run_async(self.control.load(path, params), lambda exc: self.status.setText(f"⚠ {exc}"))

    def selected(self) -> str | None:
        row = self.table.current_row()
        return row.sid if row is not None else None

    def _each(self, action: str) -> None:
        sid = self.selected()
        if sid is not None:
            run_async(getattr(self.control, action)(sid), lambda exc: self.status.setText(f"⚠ {exc}"))

    def _start(self) -> None:
        self._each("start_strategy")

    def _stop(self) -> None:
        self._each("stop_strategy")

    def _pause(self) -> None:
        self._each("pause_strategy")

    def _resume(self) -> None:
        self._each("resume_strategy")

    def refresh(self) -> None:
        records = list(self.control.records.values())
        rows = []
        for r in records:
            pnl = self.control.pnl(r.strategy_id)
            rows.append(Row(r.strategy_id, r.path.name, r.state, r.orders, r.fills, r.errors, r.error, position_text(pnl),
                            pnl.realised, pnl.unrealised, pnl.fees))
        self.model.set_rows(rows)
        self.status.setText(f"Strategy host: {self.control.host_state}" + (f" (restarted {self.control.restarts}×)" if self.control.restarts else ""))
        sid = self.selected()
        if sid is not None and sid in self.control.records:
            lines = "\n".join(self.control.records[sid].log)
            if lines != self.log.toPlainText():
                self.log.setPlainText(lines)
