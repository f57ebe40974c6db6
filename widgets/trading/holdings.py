"""Holdings panel: demat holdings as the broker reports them (Kite), with P&L and day change."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from widgets.table import Align, Column, DataTable, RowTableModel, fmt_number, signed_color


def _d(row: dict[str, Any], key: str) -> Decimal | None:
    value = row.get(key)
    return None if value is None else Decimal(str(value))


def _money(key: str, title: str, colour: bool = False) -> Column[dict[str, Any]]:
    return Column(title, lambda r: _d(r, key), lambda r: fmt_number(_d(r, key), 2), Align.RIGHT,
                  (lambda r: signed_color(_d(r, key))) if colour else None)


COLUMNS: list[Column[dict[str, Any]]] = [
    Column("Instrument", lambda r: r.get("tradingsymbol", ""), width=150),
    Column("Exchange", lambda r: r.get("exchange", "")),
    Column("Qty", lambda r: _d(r, "quantity"), lambda r: fmt_number(_d(r, "quantity"), 0), Align.RIGHT),
    Column("T1 qty", lambda r: _d(r, "t1_quantity"), lambda r: fmt_number(_d(r, "t1_quantity"), 0), Align.RIGHT),
    _money("average_price", "Avg"),
    _money("last_price", "LTP"),
    _money("pnl", "P&L", colour=True),
    Column("Day chg %", lambda r: _d(r, "day_change_percentage"), lambda r: fmt_number(_d(r, "day_change_percentage"), 2, sign=True),
           Align.RIGHT, lambda r: signed_color(_d(r, "day_change_percentage"))),
]


class HoldingsPanel(QWidget):
    def __init__(self, holdings: Callable[[], list[dict[str, Any]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._holdings = holdings
        self.model: RowTableModel[dict[str, Any]] = RowTableModel(COLUMNS, key=lambda r: (r.get("exchange"), r.get("tradingsymbol")))
        self.table = DataTable(self.model)
        self.totals = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.totals)
        layout.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def refresh(self) -> None:
        rows = self._holdings()
        self.model.set_rows(rows)
        invested = sum(((_d(r, "average_price") or Decimal(0)) * (_d(r, "quantity") or Decimal(0)) for r in rows), Decimal(0))
        value = sum(((_d(r, "last_price") or Decimal(0)) * (_d(r, "quantity") or Decimal(0)) for r in rows), Decimal(0))
        self.totals.setText(f"Invested {fmt_number(invested, 2)}   Current {fmt_number(value, 2)}   P&L "
                            f"{fmt_number(value - invested, 2, sign=True)}" if rows else "No holdings")
