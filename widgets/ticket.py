"""The order ticket: every field an order can have, checked as the user types, sent through OrderEntry.

Buy tickets are teal, sell tickets red, so the side is never in doubt. Quantity can be typed in units
or lots (F&O). The status line shows the order value, then the first validation or risk problem;
the send button is disabled while there is one. Esc closes a pop-up ticket; Enter sends.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from core.domain import Instrument, InstrumentKind, OrderRequest, OrderType, Product, Side, TimeInForce, Venue, order_problems
from core.marketdata.state import MarketState

from .order_entry import OrderEntry, run_async
from .table import fmt_number

TYPE_LABELS = {OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET", OrderType.STOP_LIMIT: "SL (stop-limit)",
               OrderType.STOP_MARKET: "SL-M (stop-market)"}
KITE_TIF = (TimeInForce.DAY, TimeInForce.IOC)
BINANCE_TIF = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTX)
TIF_LABELS = {TimeInForce.GTX: "Post-only"}


class OrderTicket(QWidget):
    sent = Signal(object)  # the core Order returned by the trading API
    failed = Signal(str)
    closed = Signal()

    def __init__(self, entry: OrderEntry, market: MarketState, confirm: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.market = market
        self.confirm = confirm
        self.instrument: Instrument | None = None
        self.side = Side.BUY
        self.title = QLabel("No instrument")
        self.title.setStyleSheet("font-size: 14px; font-weight: 700;")
        self.buy_button = QPushButton("BUY (F1)")
        self.buy_button.setProperty("role", "buy")
        self.sell_button = QPushButton("SELL (F2)")
        self.sell_button.setProperty("role", "sell")
        self.buy_button.clicked.connect(lambda: self.set_side(Side.BUY))
        self.sell_button.clicked.connect(lambda: self.set_side(Side.SELL))
        self.qty = QLineEdit()
        self.in_lots = QCheckBox("in lots")
        self.presets = QHBoxLayout()
        self.type_box = QComboBox()
        for otype, label in TYPE_LABELS.items():
            self.type_box.addItem(label, otype.value)
        self.price = QLineEdit()
        self.trigger = QLineEdit()
        self.product = QComboBox()
        self.validity = QComboBox()
        self.disclosed = QLineEdit()
        self.reduce_only = QCheckBox("Reduce only")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.send_button = QPushButton()
        self.send_button.clicked.connect(self.submit)
        sides = QHBoxLayout()
        sides.addWidget(self.buy_button)
        sides.addWidget(self.sell_button)
        qty_row = QHBoxLayout()
        qty_row.addWidget(self.qty, 1)
        qty_row.addWidget(self.in_lots)
        form = QFormLayout()
        form.addRow("Quantity", qty_row)
        form.addRow("", self.presets)
        form.addRow("Type", self.type_box)
        form.addRow("Price", self.price)
        form.addRow("Trigger", self.trigger)
        form.addRow("Product", self.product)
        form.addRow("Validity", self.validity)
        form.addRow("Disclosed qty", self.disclosed)
        form.addRow("", self.reduce_only)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(sides)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.send_button)
        layout.addStretch(1)
        for edit in (self.qty, self.price, self.trigger, self.disclosed):
            edit.textChanged.connect(self.revalidate)
        for box in (self.type_box, self.product, self.validity):
            box.currentIndexChanged.connect(self.revalidate)
        self.in_lots.toggled.connect(self.revalidate)
        self.reduce_only.toggled.connect(self.revalidate)
        self.set_side(Side.BUY)

    # set-up -----------------------------------------------------------------------------------------
    def load(self, instrument: Instrument, side: Side | None = None, price: Decimal | None = None,
             quantity: Decimal | None = None) -> None:
        """Fill the ticket for an instrument (price defaults to the touch on the side's passive side)."""
        self.instrument = instrument
        kite = instrument.venue is Venue.ZERODHA
        self.title.setText(f"{instrument.symbol}  ·  {instrument.exchange}")
        self.product.blockSignals(True)
        self.product.clear()
        products = ([Product.CNC, Product.MIS] if instrument.kind is InstrumentKind.EQUITY else [Product.NRML, Product.MIS]) if kite \
            else [instrument.default_product]
        for p in products:
            self.product.addItem(p.value, p.value)
        self.product.blockSignals(False)
        self.validity.blockSignals(True)
        self.validity.clear()
        for tif in KITE_TIF if kite else BINANCE_TIF:
            self.validity.addItem(TIF_LABELS.get(tif, tif.value), tif.value)
        self.validity.blockSignals(False)
        self.disclosed.setEnabled(kite)
        self.reduce_only.setVisible(instrument.venue is Venue.BINANCE_USDM)
        lots = instrument.lot_size > 1
        self.in_lots.setVisible(lots)
        self.in_lots.setChecked(lots)
        self._build_presets(instrument)
        if side is not None:
            self.set_side(side)
        if price is None:
            tick = self.market.ticks.get(instrument.id)
            book = self.market.book(instrument.id).view(1)
            price = (book.best_bid if self.side is Side.BUY else book.best_ask) or (tick.last_price if tick else None)
        if price is not None:
            price = instrument.round_limit_price(price, self.side)
        if quantity is None:
            quantity = instrument.minimum_order_quantity(price)
        self.qty.setText(f"{(quantity / instrument.lot_size if lots else quantity).normalize():f}")
        self.price.setText("" if price is None else f"{price:f}")
        self.trigger.clear()
        self.revalidate()

    def _build_presets(self, instrument: Instrument) -> None:
        while self.presets.count():
            item = self.presets.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        values = ["1", "2", "5", "10"] if instrument.lot_size >= 1 else \
            [f"{instrument.lot_size * m:f}".rstrip("0").rstrip(".") for m in (100, 1000, 10000)]
        for value in values:
            button = QPushButton(value)
            button.setMaximumWidth(70)
            button.clicked.connect(lambda _=False, v=value: self.qty.setText(v))
            self.presets.addWidget(button)

    def set_side(self, side: Side) -> None:
        self.side = side
        self.buy_button.setChecked(side is Side.BUY)
        self.send_button.setProperty("role", "buy" if side is Side.BUY else "sell")
        self.send_button.style().unpolish(self.send_button)
        self.send_button.style().polish(self.send_button)
        self.revalidate()

    # building the request ----------------------------------------------------------------------------
    def request(self) -> OrderRequest:
        """Build the OrderRequest the fields describe (ValueError says which field is wrong)."""
        inst = self.instrument
        if inst is None:
            raise ValueError("choose an instrument")
        otype = self.order_type
        qty = _number(self.qty.text(), "quantity")
        if not self.in_lots.isHidden() and self.in_lots.isChecked():
            qty *= inst.lot_size
        price = _number(self.price.text(), "price") if otype.has_price else None
        trigger = _number(self.trigger.text(), "trigger") if otype.has_trigger else None
        disclosed = _number(self.disclosed.text(), "disclosed quantity") if self.disclosed.isEnabled() and self.disclosed.text().strip() else None
        return OrderRequest(inst.id, self.side, qty, otype, price=price, trigger_price=trigger,
                            time_in_force=TimeInForce(self.validity.currentData()), product=Product(self.product.currentData()),
                            disclosed_quantity=disclosed, reduce_only=not self.reduce_only.isHidden() and self.reduce_only.isChecked(),
                            source="ticket")

    def problems(self) -> list[str]:
        """Every reason the order cannot be sent now: fields, instrument rules, then risk."""
        try:
            request = self.request()
        except ValueError as exc:
            return [str(exc)]
        assert self.instrument is not None
        reference = self.market.last_price(self.instrument.id)
        found = order_problems(self.instrument, request, reference)
        return found or list(self.entry.preview(request))

    @property
    def order_type(self) -> OrderType:
        return OrderType(self.type_box.currentData())

    def revalidate(self) -> None:
        self.price.setEnabled(self.order_type.has_price)
        self.trigger.setEnabled(self.order_type.has_trigger)
        problems = self.problems()
        value = self._value_text()
        self.status.setText(value + (f"\n⚠ {problems[0]}" if problems else ""))
        self.status.setProperty("state", "bad" if problems else "ok")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.send_button.setEnabled(not problems)
        verb = "BUY" if self.side is Side.BUY else "SELL"
        sym = self.instrument.symbol if self.instrument else ""
        self.send_button.setText(f"{verb} {sym}  (Enter)")

    def _value_text(self) -> str:
        try:
            request = self.request()
        except ValueError:
            return ""
        assert self.instrument is not None
        price = request.price or self.market.last_price(self.instrument.id)
        if price is None:
            return f"Qty {request.quantity.normalize():f}"
        value = price * request.quantity * self.instrument.multiplier
        return f"Qty {request.quantity.normalize():f}  ·  Value ≈ {fmt_number(value, 2)} {self.instrument.quote_currency}"

    # sending -----------------------------------------------------------------------------------------
    def submit(self) -> None:
        """Send the order if it has no problems (after a confirmation when the profile asks for one)."""
        problems = self.problems()
        if problems:
            self.failed.emit(problems[0])
            return
        request = self.request()
        if self.confirm:
            text = f"{request.side.value} {request.quantity.normalize():f} {request.instrument_id.symbol} " \
                   f"{request.order_type.value} {request.price or ''}"
            if QMessageBox.question(self, "Confirm order", text) != QMessageBox.StandardButton.Yes:
                return
        task = run_async(self.entry.place(request), lambda exc: self.failed.emit(str(exc)))
        task.add_done_callback(lambda t: self.sent.emit(t.result()) if not t.cancelled() and t.exception() is None else None)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
        elif key == Qt.Key.Key_Escape:
            self.closed.emit()
        elif key == Qt.Key.Key_F1:
            self.set_side(Side.BUY)
        elif key == Qt.Key.Key_F2:
            self.set_side(Side.SELL)
        else:
            super().keyPressEvent(event)


def _number(text: str, field: str) -> Decimal:
    cleaned = text.replace(",", "").strip()
    if not cleaned:
        raise ValueError(f"enter a {field}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{field} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{field} must be a positive number")
    return value

