"""Order book panel: instrument picker, grouping and quantity, the ladder, spread and freshness."""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.domain import Instrument, InstrumentId, OrderRequest, OrderType, Side, TimeInForce
from core.marketdata.state import MarketState
from widgets.frame_timer import frame_timer
from widgets.instrument_label import instrument_label
from widgets.live_label import LiveLabel
from widgets.order_entry import OrderEntry, run_async

from .ladder_widget import LadderWidget
from .model import WorkingOrder

log = logging.getLogger(__name__)
GROUPINGS = (1, 5, 10, 50, 100, 500)
PICKER_MIN_WIDTH = 120  # px of the instrument picker at the least


class OrderBookPanel(QWidget):
    """Reads MarketState on a frame timer (never per message) and repaints only when something changed."""

    order_error = Signal(str)
    instrument_changed = Signal(object)  # the Instrument now shown (depth chart and tape follow it)

    def __init__(self, market: MarketState, entry: OrderEntry | None, instruments: list[Instrument],
                 frame_hz: float = 25.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.market = market
        self.entry = entry
        self.instruments = {i.id: i for i in instruments if i.tradable}
        self.instrument: Instrument | None = None
        self._picker_rows: dict[InstrumentId, int] = {}
        self._seen: tuple[int, int, int] | None = None
        self.auto_grouping = True
        self._last_trade: object | None = None
        self.ladder = LadderWidget()
        self.symbol_box = QComboBox()
        self.symbol_box.setMinimumWidth(PICKER_MIN_WIDTH)
        self.symbol_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "BTCUSDT · USD-M" whole
        self.symbol_box.currentIndexChanged.connect(self._symbol_changed)
        self.group_box = QComboBox()
        self.group_box.addItems([f"×{g}" for g in GROUPINGS])
        self.group_box.currentIndexChanged.connect(self._grouping_changed)
        self.qty_edit = QLineEdit()
        self.qty_edit.setMinimumWidth(72)  # "0.00006" must read whole, never as "006"
        self.qty_edit.setMaximumWidth(110)
        self.qty_edit.setToolTip("Quantity for ladder clicks (units; for F&O a multiple of the lot)")
        centre = QPushButton("Centre")
        centre.setToolTip("Centre the ladder on the last price (C)")
        centre.clicked.connect(self._centre)
        self.info = LiveLabel()  # bid/ask change every frame: repaint the line, not the dock's layout
        self.group_box.setToolTip("Price grouping: ticks per ladder row")
        # one row of controls, or two in a narrow dock: the picker above, so "BTCUSDT · USD-M" reads whole
        self._controls = QGridLayout()
        self._controls.setContentsMargins(0, 0, 0, 0)
        self._control_row = [self.group_box, QLabel("Qty"), self.qty_edit, centre]
        self._two_rows: bool | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._controls)
        layout.addWidget(self.info)
        layout.addWidget(self.ladder, 1)
        self.ladder.place_requested.connect(self.place)
        self.ladder.cancel_requested.connect(self.cancel)
        self.ladder.modify_requested.connect(self.modify)
        self.set_instruments(instruments)
        self._arrange_controls()
        self._timer = frame_timer(self, frame_hz, self.refresh)  # hidden too: the volume column counts every trade

    def _arrange_controls(self) -> None:
        """Lay the picker and the row of controls side by side if they fit the width, else one above the other."""
        spacing = max(self._controls.horizontalSpacing(), 0)
        box = self.symbol_box
        advance = box.fontMetrics().horizontalAdvance
        longest = max((advance(box.itemText(i)) for i in range(box.count())), default=0)
        picker = max(PICKER_MIN_WIDTH, box.sizeHint().width() - longest + advance(box.currentText()))  # this name whole
        controls = sum(max(w.minimumSizeHint().width(), w.minimumWidth()) for w in self._control_row)
        two_rows = self.width() < picker + controls + spacing * len(self._control_row) + 8  # 8: the panel's margins
        box.setMinimumWidth(PICKER_MIN_WIDTH if two_rows else picker)  # beside the controls, never squeezed below the name
        if two_rows == self._two_rows:
            return
        self._two_rows = two_rows
        for widget in (self.symbol_box, *self._control_row):
            self._controls.removeWidget(widget)
        last = len(self._control_row) + 1
        for col in range(last + 1):
            self._controls.setColumnStretch(col, 0)
        if two_rows:
            self._controls.addWidget(self.symbol_box, 0, 0, 1, last)
            for col, widget in enumerate(self._control_row):
                self._controls.addWidget(widget, 1, col)
        else:
            self._controls.addWidget(self.symbol_box, 0, 0)
            for col, widget in enumerate(self._control_row, start=1):
                self._controls.addWidget(widget, 0, col)
        self._controls.setColumnStretch(last, 1)  # spare width to the right, as before

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._arrange_controls()

    def set_instruments(self, instruments: list[Instrument]) -> None:
        """Replace the instruments offered in the picker (keeps the current one if still there)."""
        self.instruments = {i.id: i for i in instruments if i.tradable}
        current = self.instrument.id if self.instrument else None
        self._picker_rows = {iid: row for row, iid in enumerate(self.instruments)}  # findData compares by identity
        self.symbol_box.blockSignals(True)
        self.symbol_box.clear()
        for iid in self.instruments:
            self.symbol_box.addItem(instrument_label(iid), iid)
        self.symbol_box.blockSignals(False)
        if current in self.instruments:
            self.show_instrument(current)
        elif self.instruments:
            self.show_instrument(next(iter(self.instruments)))

    def show_instrument(self, instrument_id: InstrumentId) -> None:
        """Switch the ladder to an instrument."""
        inst = self.instruments[instrument_id]
        self.instrument = inst
        index = self._picker_rows.get(instrument_id, -1)
        if index >= 0 and index != self.symbol_box.currentIndex():
            self.symbol_box.blockSignals(True)
            self.symbol_box.setCurrentIndex(index)
            self.symbol_box.blockSignals(False)
        self._arrange_controls()  # a longer name may need the picker's own row
        m = self.ladder.model
        m.tick, m.centre, m.volume, m.last_price = inst.tick_size, None, {}, None
        self.auto_grouping = True
        self.ladder.price_decimals = inst.price_decimals
        self.ladder.qty_decimals = inst.quantity_decimals  # all of them: capped at 4, a 0.00006 BTC order read "0.0001"
        self.qty_edit.setText(f"{inst.minimum_order_quantity(self.market.last_price(inst.id)).normalize():f}")
        self.instrument_changed.emit(inst)
        self._seen = None
        self._last_trade = None
        self.refresh()

    @property
    def quantity(self) -> Decimal:
        try:
            qty = Decimal(self.qty_edit.text().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"quantity {self.qty_edit.text()!r} is not a number") from exc
        if qty <= 0:
            raise ValueError("quantity must be positive")
        return qty

    # refresh -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Pull the latest book, trades and orders; repaint if anything moved."""
        inst = self.instrument
        if inst is None:
            return
        book = self.market.book(inst.id)
        trades = self.market.trades.get(inst.id) or ()
        last = trades[-1] if trades else None
        orders = self.entry.working_orders(inst.id) if self.entry is not None else []
        stale = self.market.is_stale(inst.id)
        key = (book.update_id, id(last), hash(tuple((o.client_order_id, o.price, o.leaves_quantity) for o in orders)))
        if key == self._seen and stale == self.ladder.stale:
            return
        self._seen = key
        m = self.ladder.model
        view = book.view(200)
        m.set_book(view)
        if self.auto_grouping and m.bids and m.asks:
            grouping = m.auto_group(view, self.ladder.rows, GROUPINGS)
            if grouping != m.grouping:
                self.group_box.blockSignals(True)
                self.group_box.setCurrentIndex(GROUPINGS.index(grouping))
                self.group_box.blockSignals(False)
                m.grouping, m.volume = grouping, {}
                m.set_book(view)
        if not m.touch_visible(self.ladder.rows) and view.mid is not None:
            m.centre = view.mid  # never let the touch drift off screen
            m.set_book(view)
        fresh = []
        for trade in reversed(trades):
            if trade is self._last_trade:
                break
            fresh.append(trade)
        m.add_trades((t.price, t.quantity) for t in reversed(fresh))
        self._last_trade = last
        m.orders = [WorkingOrder(o.client_order_id, o.side, o.price, o.leaves_quantity)
                    for o in orders if o.price is not None]
        self.ladder.stale = stale
        d = inst.price_decimals
        self.info.setText(
            f"{inst.symbol}   bid {_px(view.best_bid, d)}   ask {_px(view.best_ask, d)}   spread {_px(view.spread, d)}"
            + ("   ● STALE" if stale else ""))
        self.ladder.update()

    # actions ---------------------------------------------------------------------------------------
    def place(self, side: Side, price: Decimal) -> None:
        """Place a limit order at a ladder price with the panel's quantity."""
        if self.entry is None or self.instrument is None:
            return
        try:
            request = OrderRequest(self.instrument.id, side, self.quantity, OrderType.LIMIT, price=price,
                                   time_in_force=TimeInForce.GTC if self.instrument.venue.value.startswith("BINANCE") else TimeInForce.DAY,
                                   product=self.instrument.default_product, source="ladder")
        except ValueError as exc:
            self._error(exc)
            return
        run_async(self.entry.place(request), self._error)

    def cancel(self, client_order_id: str) -> None:
        if self.entry is not None:
            run_async(self.entry.cancel(client_order_id), self._error)

    def modify(self, client_order_id: str, price: Decimal) -> None:
        if self.entry is not None:
            run_async(self.entry.modify(client_order_id, price=price), self._error)

    def _error(self, exc: BaseException) -> None:
        self.info.setText(f"⚠ {exc}")
        self.order_error.emit(str(exc))

    def _symbol_changed(self, index: int) -> None:
        iid = self.symbol_box.itemData(index)
        if iid is not None:
            self.show_instrument(iid)

    def _grouping_changed(self, index: int) -> None:
        self.auto_grouping = False  # the user chose: keep it
        self.ladder.model.grouping = GROUPINGS[index]
        self.ladder.model.volume = {}
        self._seen = None
        self.refresh()

    def _centre(self) -> None:
        self.ladder.model.recentre()
        self.ladder.update()


def _px(value: Decimal | None, decimals: int) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"
