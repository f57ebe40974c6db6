"""Orders panel (open and completed, cancel / modify / cancel-all) and the trades (fills) panel."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from core.bus import EventBus
from core.domain import Fill, FillEvent, Order, OrderStatus, Side
from widgets.frame_timer import frame_timer
from widgets.order_entry import OrderEntry, run_async
from widgets.style import BUY, SELL
from widgets.table import Align, Column, DataTable, RowTableModel, fmt_price


def _side_colour(side: Side):  # type: ignore[no-untyped-def]
    return BUY if side is Side.BUY else SELL


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).astimezone().strftime("%H:%M:%S") if ns else ""


ORDER_COLUMNS: list[Column[Order]] = [
    Column("Time", lambda o: o.created_ns, lambda o: _time(o.created_ns), width=70),
    Column("Instrument", lambda o: o.instrument_id.symbol, width=150),
    Column("Side", lambda o: o.side.value, color=lambda o: _side_colour(o.side), width=50),
    Column("Type", lambda o: o.request.order_type.value, width=90),
    Column("Qty", lambda o: o.quantity, lambda o: f"{o.quantity.normalize():f}", Align.RIGHT),
    Column("Filled", lambda o: o.filled_quantity, lambda o: f"{o.filled_quantity.normalize():f}", Align.RIGHT),
    Column("Price", lambda o: o.price, lambda o: "MKT" if o.price is None else fmt_price(o.price), Align.RIGHT),
    Column("Trigger", lambda o: o.trigger_price, lambda o: fmt_price(o.trigger_price), Align.RIGHT),
    Column("Avg", lambda o: o.average_price, lambda o: fmt_price(o.average_price), Align.RIGHT),
    Column("Status", lambda o: o.status.value, width=120),
    Column("Product", lambda o: o.request.product.value),
    Column("Source", lambda o: o.request.source),
    Column("Order id", lambda o: o.client_order_id, width=120),
    Column("Reason", lambda o: o.reject_reason, width=200),
]


class OrdersPanel(QWidget):
    """Two tabs: open orders (cancel, modify, cancel all) and completed orders.

    Keyboard: on an open order, Delete cancels it and Enter or M opens the modify box (new price, Enter
    sends, Esc leaves the order alone). The box is not modal, so feeds keep running while it is open.
    """

    def __init__(self, orders: Callable[[], list[Order]], entry: OrderEntry, cancel_all: Callable[[], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._orders = orders
        self.entry = entry
        self._cancel_all = cancel_all
        self.open_model: RowTableModel[Order] = RowTableModel(ORDER_COLUMNS, key=lambda o: o.client_order_id)
        self.done_model: RowTableModel[Order] = RowTableModel(ORDER_COLUMNS, key=lambda o: o.client_order_id)
        self.open_table, self.done_table = DataTable(self.open_model), DataTable(self.done_model)
        self.open_table.view.installEventFilter(self)
        self.modify_box: QInputDialog | None = None
        self.tabs = QTabWidget()
        self.tabs.addTab(self.open_table, "Open")
        self.tabs.addTab(self.done_table, "Completed")
        self.status = QLabel()
        bar = QHBoxLayout()
        for label, slot, role in (("Cancel", self.cancel_selected, None), ("Modify…", self.modify_selected, None),
                                  ("Cancel all", self.cancel_everything, "danger")):
            button = QPushButton(label)
            if role:
                button.setProperty("role", role)
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        self._timer = frame_timer(self, 5, self.refresh)

    def refresh(self) -> None:
        orders = sorted(self._orders(), key=lambda o: o.created_ns, reverse=True)
        self.open_model.set_rows([o for o in orders if o.status.is_working])
        self.done_model.set_rows([o for o in orders if o.status.is_terminal])
        self.tabs.setTabText(0, f"Open ({self.open_model.rowCount()})")
        self.tabs.setTabText(1, f"Completed ({self.done_model.rowCount()})")

    def cancel_selected(self) -> None:
        for order in self.open_table.selected_rows():
            run_async(self.entry.cancel(order.client_order_id), self._error)

    def modify_selected(self) -> None:
        """Ask for the selected open order's new price (the box sends on Enter)."""
        order = self.open_table.current_row()
        if order is None or order.status is OrderStatus.CANCEL_PENDING:
            return
        box = QInputDialog(self)
        box.setWindowTitle("Modify order")
        box.setLabelText(f"New price for {order.instrument_id.symbol} {order.side.value} {(order.quantity or 0):f}:")
        box.setTextValue(f"{order.price:f}" if order.price is not None else "")
        box.textValueSelected.connect(lambda text: self._send_modify(order, text))
        box.finished.connect(box.deleteLater)
        self.modify_box = box
        box.open()

    def _send_modify(self, order: Order, text: str) -> None:
        self.modify_box = None
        try:
            price = Decimal(text.strip())
        except InvalidOperation:
            self._error(ValueError(f"{text!r} is not a price"))
            return
        run_async(self.entry.modify(order.client_order_id, price=price), self._error)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.open_table.view and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.cancel_selected()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_M):
                self.modify_selected()
                return True
        return False

    def cancel_everything(self) -> None:
        result = self._cancel_all()
        if hasattr(result, "__await__"):
            run_async(result, self._error)  # type: ignore[arg-type]

    def _error(self, exc: BaseException) -> None:
        self.status.setText(f"⚠ {exc}")


FILL_COLUMNS: list[Column[Fill]] = [
    Column("Time", lambda f: f.ts_ns, lambda f: _time(f.ts_ns), width=70),
    Column("Instrument", lambda f: f.instrument_id.symbol, width=150),
    Column("Side", lambda f: f.side.value, color=lambda f: _side_colour(f.side)),
    Column("Qty", lambda f: f.quantity, lambda f: f"{f.quantity.normalize():f}", Align.RIGHT),
    Column("Price", lambda f: f.price, lambda f: fmt_price(f.price), Align.RIGHT),
    Column("Fee", lambda f: f.fee, lambda f: f"{f.fee.normalize():f} {f.fee_currency}", Align.RIGHT),
    Column("Maker", lambda f: f.is_maker, lambda f: "maker" if f.is_maker else "taker"),
    Column("Order id", lambda f: f.client_order_id, width=120),
    Column("Trade id", lambda f: f.trade_id, width=120),
]


class TradesPanel(QWidget):
    """Fills of the day, newest first (kept from FillEvent on the bus; seeded from the journal)."""

    def __init__(self, bus: EventBus, initial: list[Fill] | None = None, keep: int = 5000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fills: deque[Fill] = deque(initial or [], maxlen=keep)
        self._ids = {f.trade_id for f in self.fills}
        self.model: RowTableModel[Fill] = RowTableModel(FILL_COLUMNS, key=lambda f: (f.instrument_id, f.trade_id))
        self.table = DataTable(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        bus.subscribe(FillEvent, self._on_fill)
        self._dirty = True
        self._timer = frame_timer(self, 4, self.refresh)

    def _on_fill(self, event: FillEvent) -> None:
        if event.fill.trade_id not in self._ids:
            self._ids.add(event.fill.trade_id)
            self.fills.append(event.fill)
            self._dirty = True

    def refresh(self) -> None:
        if self._dirty:
            self._dirty = False
            self.model.set_rows(sorted(self.fills, key=lambda f: f.ts_ns, reverse=True))
