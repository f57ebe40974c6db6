"""Positions (live P&L, exit button, totals) and funds/margins panels."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.domain import Balance, InstrumentId, Venue
from core.portfolio import PortfolioTotals
from core.portfolio.portfolio import PositionView
from widgets.frame_timer import frame_timer
from widgets.order_entry import run_async
from widgets.table import Align, Column, DataTable, RowTableModel, fmt_number, fmt_price, signed_color


class PositionSource(Protocol):
    def views(self, venue: Venue | None = None) -> list[PositionView]: ...
    def totals(self, venue: Venue) -> PortfolioTotals: ...


def _money(attr: str, title: str, flash: bool = False) -> Column[PositionView]:
    return Column(title, lambda v: getattr(v, attr), lambda v: fmt_number(getattr(v, attr), 2), Align.RIGHT,
                  lambda v: signed_color(getattr(v, attr)), flash=flash)


POSITION_COLUMNS: list[Column[PositionView]] = [
    Column("Instrument", lambda v: v.instrument_id.symbol, width=160),
    Column("Venue", lambda v: v.instrument_id.venue.value),
    Column("Product", lambda v: v.product.value),
    Column("Qty", lambda v: v.quantity, lambda v: f"{v.quantity.normalize():f}", Align.RIGHT, lambda v: signed_color(v.quantity)),
    Column("Avg", lambda v: v.average_price, lambda v: fmt_price(v.average_price), Align.RIGHT),
    Column("LTP", lambda v: v.mark, lambda v: fmt_price(v.mark), Align.RIGHT, flash=True),
    _money("unrealised_pnl", "Unrealised", flash=True),
    _money("realised_pnl", "Realised"),
    _money("day_pnl", "Day P&L"),
    Column("Net P&L", lambda v: v.net_pnl, lambda v: fmt_number(v.net_pnl, 2), Align.RIGHT, lambda v: signed_color(v.net_pnl)),
    Column("Delta", lambda v: v.greeks.delta if v.greeks else None, lambda v: fmt_number(v.greeks.delta, 1) if v.greeks else "", Align.RIGHT),
    Column("Theta/d", lambda v: v.greeks.theta if v.greeks else None, lambda v: fmt_number(v.greeks.theta, 1) if v.greeks else "", Align.RIGHT),
    Column("Vega/1%", lambda v: v.greeks.vega if v.greeks else None, lambda v: fmt_number(v.greeks.vega, 1) if v.greeks else "", Align.RIGHT),
]


class PositionsPanel(QWidget):
    def __init__(self, portfolio: PositionSource, venues: list[Venue], flatten: Callable[[InstrumentId | None], Awaitable[Any]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.portfolio = portfolio
        self.venues = venues
        self._flatten = flatten
        self.model: RowTableModel[PositionView] = RowTableModel(POSITION_COLUMNS, key=lambda v: (v.instrument_id, v.product))
        self.table = DataTable(self.model)
        self.totals = QLabel()
        self.totals.setWordWrap(True)  # one venue per line rather than a window-wide minimum
        self.status = QLabel()
        exit_one = QPushButton("Exit selected")
        exit_one.clicked.connect(self.exit_selected)
        exit_all = QPushButton("Exit all")
        exit_all.setProperty("role", "danger")
        exit_all.clicked.connect(lambda: run_async(self._flatten(None), self._error))
        bar = QHBoxLayout()
        bar.addWidget(self.totals, 1)
        bar.addWidget(self.status)
        bar.addWidget(exit_one)
        bar.addWidget(exit_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._timer = frame_timer(self, 4, self.refresh)

    def refresh(self) -> None:
        self.model.set_rows([v for v in self.portfolio.views() if v.quantity != 0 or v.realised_pnl != 0])
        parts = []
        for venue in self.venues:
            t = self.portfolio.totals(venue)
            net = t.realised_pnl + t.unrealised_pnl - t.fees
            line = (f"{venue.value}: net {fmt_number(net, 2, sign=True)}  day {fmt_number(t.day_pnl, 2, sign=True)}  "
                    f"exposure {fmt_number(t.gross_exposure, 0)}")
            g = t.greeks
            if g.delta or g.gamma or g.vega or g.theta:
                line += f"  Δ {g.delta:+,.1f}  Γ {g.gamma:+,.4f}  Θ/day {g.theta:+,.1f}  Vega/1% {g.vega:+,.1f}"
            parts.append(line)
        self.totals.setText("\n".join(parts))

    def exit_selected(self) -> None:
        for view in self.table.selected_rows():
            run_async(self._flatten(view.instrument_id), self._error)

    def _error(self, exc: BaseException) -> None:
        self.status.setText(f"⚠ {exc}")


BALANCE_COLUMNS: list[Column[Balance]] = [
    Column("Venue", lambda b: b.venue.value, width=120),
    Column("Asset", lambda b: b.asset),
    Column("Free", lambda b: b.free, lambda b: fmt_number(b.free, 4), Align.RIGHT),
    Column("Locked", lambda b: b.locked, lambda b: fmt_number(b.locked, 4), Align.RIGHT),
    Column("Total", lambda b: b.total, lambda b: fmt_number(b.total, 4), Align.RIGHT, flash=True),
]


class FundsPanel(QWidget):
    """Balances and margins per venue, from the latest account snapshot the terminal holds."""

    def __init__(self, balances: Callable[[], list[Balance]], margins: Callable[[], dict[Venue, Decimal | None]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._balances, self._margins = balances, margins
        self.model: RowTableModel[Balance] = RowTableModel(BALANCE_COLUMNS, key=lambda b: (b.venue, b.asset))
        self.table = DataTable(self.model)
        self.margin_label = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.margin_label)
        layout.addWidget(self.table, 1)
        self._timer = frame_timer(self, 1, self.refresh)

    def refresh(self) -> None:
        self.model.set_rows(sorted(self._balances(), key=lambda b: (b.venue.value, -float(b.total))))
        margins = self._margins()
        self.margin_label.setText("Margin used: " + ("   ".join(f"{v.value} {fmt_number(m, 2)}" for v, m in margins.items() if m is not None) or "–"))
