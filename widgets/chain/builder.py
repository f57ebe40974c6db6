"""Strategy builder: legs picked from the chain or a template, the payoff plotted at expiry and today,
breakevens, max profit/loss, net Greeks and the basket margin; "Place all legs" sends each leg through
OrderEntry (so through risk and the OMS) as a limit order at its premium.

The margin comes from the venue through an optional async margin_quote(legs) -> BasketMargin (Kite's
basket calculator); it is asked MARGIN_DEBOUNCE_MS after the legs last changed, only the latest
answer is shown, and a failure is shown in place of the figure. Without a margin_quote (Binance has
no options API) the builder says so."""
from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from core.chain.margin import BasketMargin, MarginLeg, MarginQuote
from core.chain.model import ChainSnapshot
from core.chain.payoff import UNLIMITED, Leg, Template, net_greeks, payoff_at_expiry, payoff_today, summarise, template_legs
from core.domain import InstrumentId, OptionRight, OrderRequest, OrderType, Side
from core.instruments import InstrumentCatalog
from widgets.order_entry import OrderEntry, run_async
from widgets.plot_grid import show_grid
from widgets.style import ACCENT, BUY, MUTED, SELL, mono_font

log = logging.getLogger(__name__)
MARGIN_DEBOUNCE_MS = 300


class StrategyBuilder(QWidget):
    placed = Signal(int)  # number of legs sent
    failed = Signal(str)

    def __init__(self, catalog: InstrumentCatalog, entry: OrderEntry | None, parent: QWidget | None = None,
                 margin_quote: MarginQuote | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.entry = entry
        self.margin_quote = margin_quote
        self._margin_request = 0  # generation of the latest margin request: older answers are dropped
        self._margin_timer = QTimer(self)
        self._margin_timer.setSingleShot(True)
        self._margin_timer.setInterval(MARGIN_DEBOUNCE_MS)
        self._margin_timer.timeout.connect(self._request_margin)
        self.margin_label = QLabel()
        self.margin_label.setFont(mono_font(9))
        self.snapshot: ChainSnapshot | None = None
        self.legs: list[tuple[InstrumentId, Leg]] = []
        self.template_box = QComboBox()
        self.template_box.addItem("Template…")
        self.template_box.addItems([t.value for t in Template])
        self.template_box.activated.connect(self._template_chosen)
        self.lots = QSpinBox()
        self.lots.setRange(1, 100)
        self.lots.setPrefix("lots ")
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.place_button = QPushButton("Place all legs")
        self.place_button.setProperty("role", "buy")
        self.place_button.clicked.connect(self.place_all)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Side", "Contract", "Qty", "Premium", "IV %"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setMaximumHeight(150)
        self.table.setFont(mono_font(9))
        self.summary = QLabel()
        self.summary.setFont(mono_font(9))
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget()
        show_grid(self.plot, 0.2)
        self.plot.setLabel("left", "P&L")
        self.plot.setLabel("bottom", "Underlying at expiry")
        self.plot.addLegend(offset=(10, 5))
        self.plot.addItem(pg.InfiniteLine(angle=0, pen=pg.mkPen(MUTED, style=Qt.PenStyle.DashLine)))
        self.expiry_curve = self.plot.plot([], [], pen=pg.mkPen(ACCENT, width=2), name="At expiry")
        self.today_curve = self.plot.plot([], [], pen=pg.mkPen("#f0b429", width=1.5, style=Qt.PenStyle.DashLine), name="Today (T+0)")
        self.spot_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(MUTED, width=1))
        self.plot.addItem(self.spot_line)
        top = QHBoxLayout()
        for w in (self.template_box, self.lots, clear):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.place_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        layout.addWidget(self.margin_label)
        layout.addWidget(self.plot, 1)
        self.redraw()
        self._legs_changed()

    def set_snapshot(self, snapshot: ChainSnapshot | None) -> None:
        """Use the chain's latest prices/IVs for new legs and the T+0 curve."""
        self.snapshot = snapshot
        self.redraw()

    def add_leg(self, instrument_id: InstrumentId, side: Side) -> None:
        """Add a leg for a contract at its current premium (ask to buy, bid to sell, else LTP)."""
        inst = self.catalog.get(instrument_id)
        if inst.strike is None or inst.right is None:
            raise ValueError(f"{inst.symbol} is not an option")
        premium, iv = self._quote(instrument_id, inst.right, float(inst.strike), side)
        qty = float(inst.lot_size) * self.lots.value()
        self.legs.append((instrument_id, Leg(float(inst.strike), inst.right, side, qty, premium, iv, inst.symbol)))
        self.redraw()
        self._legs_changed()

    def apply_template(self, template: Template, width: int = 2) -> None:
        """Replace the legs with a template around the chain's ATM strike."""
        snap = self.snapshot
        if snap is None or len(snap.strikes) < 2:
            raise ValueError("open a chain first")
        step = float(np.min(np.diff(snap.strikes)))
        atm = float(snap.strikes[snap.atm_index])
        self.clear()
        for strike, right, side in template_legs(template, atm, step, width):
            row = int(np.argmin(np.abs(snap.strikes - strike)))
            ids = snap.calls.ids if right is OptionRight.CALL else snap.puts.ids
            if ids[row] is None or abs(snap.strikes[row] - strike) > 1e-9:
                raise ValueError(f"no {right.value} at {strike:g} in this expiry")
            self.add_leg(ids[row], side)  # type: ignore[arg-type]

    def clear(self) -> None:
        self.legs.clear()
        self.redraw()
        self._legs_changed()

    def _quote(self, iid: InstrumentId, right: OptionRight, strike: float, side: Side) -> tuple[float, float]:
        snap = self.snapshot
        if snap is None:
            return 0.0, 0.2
        data = snap.calls if right is OptionRight.CALL else snap.puts
        row = int(np.argmin(np.abs(snap.strikes - strike)))
        if data.ids[row] != iid:
            return 0.0, 0.2
        field = "ask" if side is Side.BUY else "bid"
        price = data[field][row]
        if np.isnan(price):
            price = data["ltp"][row]
        iv = data["iv"][row]
        return (0.0 if np.isnan(price) else float(price)), (0.2 if np.isnan(iv) else float(iv))

    def redraw(self) -> None:
        legs = [leg for _, leg in self.legs]
        self.table.setRowCount(len(legs))
        for row, leg in enumerate(legs):
            cells = [leg.side.value, leg.instrument_symbol, f"{leg.quantity:g}", f"{leg.premium:,.2f}", f"{leg.iv * 100:.1f}"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setForeground(BUY if leg.side is Side.BUY else SELL)
                self.table.setItem(row, col, item)
        self.place_button.setEnabled(bool(legs) and self.entry is not None)
        if not legs:
            self.expiry_curve.setData([], [])
            self.today_curve.setData([], [])
            self.summary.setText("Pick legs: click a Bid/Ask in the chain, or choose a template.")
            return
        strikes = [leg.strike for leg in legs]
        lo, hi = min(strikes), max(strikes)
        pad = max((hi - lo) * 0.6, hi * 0.03)
        prices = np.linspace(lo - pad, hi + pad, 400)
        self.expiry_curve.setData(prices, payoff_at_expiry(legs, prices))
        s = summarise(legs)
        text = (f"Breakevens: {', '.join(f'{b:,.2f}' for b in s.breakevens) or '–'}    "
                f"Max profit: {_money(s.max_profit)}    Max loss: {_money(s.max_loss)}    "
                f"Net premium: {s.net_premium:+,.2f}")
        snap = self.snapshot
        if snap is not None and not np.isnan(snap.forward):
            self.today_curve.setData(prices, payoff_today(legs, prices, snap.t_years))
            self.spot_line.setValue(snap.forward)
            g = net_greeks(legs, snap.forward, snap.t_years)
            text += f"\nNet Δ {g['delta']:+,.1f}   Γ {g['gamma']:+,.4f}   Θ/day {g['theta']:+,.1f}   Vega/1% {g['vega']:+,.1f}"
        self.summary.setText(text)

    def place_all(self) -> None:
        """Send every leg as a limit order at its premium, buys first (margin benefit on Kite)."""
        if self.entry is None or not self.legs:
            return
        ordered = sorted(self.legs, key=lambda pair: pair[1].side is not Side.BUY)
        try:
            requests = [self._request(iid, leg) for iid, leg in ordered]
        except ValueError as exc:
            self.failed.emit(str(exc))
            return

        async def send() -> None:
            for request in requests:
                await self.entry.place(request)  # type: ignore[union-attr]
            self.placed.emit(len(requests))

        run_async(send(), lambda exc: self.failed.emit(str(exc)))

    def _request(self, iid: InstrumentId, leg: Leg) -> OrderRequest:
        inst = self.catalog.get(iid)
        price = self._limit_price(iid, leg)
        if price is None:
            raise ValueError(f"{inst.symbol}: no price to place at")
        return OrderRequest(iid, leg.side, Decimal(str(leg.quantity)), OrderType.LIMIT, price=price,
                            product=inst.default_product, source="builder")

    def _limit_price(self, iid: InstrumentId, leg: Leg) -> Decimal | None:
        """The leg's premium on the tick grid, rounded passively; None without a premium."""
        if leg.premium <= 0:
            return None
        return self.catalog.get(iid).round_limit_price(Decimal(str(leg.premium)), leg.side)

    def _template_chosen(self, index: int) -> None:
        if index <= 0:
            return
        try:
            self.apply_template(Template(self.template_box.itemText(index)))
        except ValueError as exc:
            self.failed.emit(str(exc))
        self.template_box.setCurrentIndex(0)

    def replace_leg_premium(self, index: int, premium: float) -> None:
        iid, leg = self.legs[index]
        self.legs[index] = (iid, replace(leg, premium=premium))
        self.redraw()
        self._legs_changed()

    def _legs_changed(self) -> None:
        self._margin_request += 1  # whatever is in flight is now stale
        if self.margin_quote is None:
            self.margin_label.setText("Margin: n/a for this venue")
        elif not self.legs:
            self._margin_timer.stop()
            self.margin_label.setText("Margin: –")
        else:
            self.margin_label.setText("Margin: …")
            self._margin_timer.start()

    def _request_margin(self) -> None:
        if self.margin_quote is None or not self.legs:
            return
        request = self._margin_request
        legs = [MarginLeg(iid, leg.side, Decimal(str(leg.quantity)), self._limit_price(iid, leg)) for iid, leg in self.legs]
        run_async(self._fetch_margin(self.margin_quote, legs, request))

    async def _fetch_margin(self, quote: MarginQuote, legs: list[MarginLeg], request: int) -> None:
        try:
            margin = await quote(legs)
        except Exception as exc:  # shown where the figure would be: a quote failure must not break the builder
            log.info("basket margin failed: %s", exc)
            if request == self._margin_request:
                self.margin_label.setText(f"Margin: unavailable ({exc})")
            return
        if request == self._margin_request:
            self.margin_label.setText(_margin_text(margin))


def _margin_text(margin: BasketMargin) -> str:
    return f"Margin: ₹{margin.final:,.2f} (initial {margin.initial:,.2f}, benefit {margin.benefit:,.2f})"


def _money(value: float) -> str:
    return "Unlimited" if value == UNLIMITED else f"{value:,.2f}"
