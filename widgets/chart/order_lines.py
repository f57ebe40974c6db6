"""The user's trading on the chart: working orders as draggable dashed lines, the position average,
and fills as triangles. Lines only emit requests (modify, cancel); the chart turns them into calls on
OrderEntry, as the ladder does.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu

from core.domain import Fill, Instrument, Order, Rounding, Side, to_decimal
from widgets.style import ACCENT, BUY, SELL

LABEL_POSITION = 0.06  # labels sit near the left edge, clear of the live candles on the right


class OrderLine(pg.InfiniteLine):
    """One working order: a horizontal dashed line, labelled 'BUY 0.5 @ 100.00', movable by drag.

    Releasing a drag snaps the line to the nearest tick and emits modify_requested(cid, price); a
    right-click opens a menu whose Cancel emits cancel_requested(cid).
    """

    def __init__(self, order: Order, instrument: Instrument, relay: "OrderLineSignals") -> None:
        colour = QColor(BUY if order.side is Side.BUY else SELL)
        super().__init__(pos=float(order.price or 0), angle=0, movable=True,
                         pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine),
                         hoverPen=pg.mkPen(colour, width=3, style=Qt.PenStyle.DashLine),
                         label="", labelOpts={"position": LABEL_POSITION, "color": colour, "movable": False,
                                              "fill": QColor(18, 20, 23, 210), "anchors": [(0, 1), (0, 1)]})
        self.instrument = instrument
        self.relay = relay
        self.order = order
        self.menu: QMenu | None = None
        self.sigDragged.connect(self._dragging)
        self.sigPositionChangeFinished.connect(self.drag_finished)
        self.set_order(order)

    @property
    def client_order_id(self) -> str:
        return str(self.order.client_order_id)

    def set_order(self, order: Order) -> None:
        """Show the order's current price and leaves quantity (not while the user drags it)."""
        self.order = order
        if not self.moving:
            self.setValue(float(order.price or 0))
            self._label(order.price)

    def snapped_price(self) -> Decimal | None:
        """The line's position rounded to the nearest tick, or None if not a positive price."""
        value = float(self.value())  # type: ignore[arg-type]
        if not np.isfinite(value) or value <= 0:
            return None
        price = self.instrument.round_price(to_decimal(value), Rounding.NEAREST)
        return price if price > 0 else None

    def drag_finished(self, *_: object) -> None:
        """Snap to the tick; if the price moved, ask to modify the order to it."""
        price = self.snapped_price()
        if price is None or price == self.order.price:
            self.setValue(float(self.order.price or 0))
            self._label(self.order.price)
            return
        self.setValue(float(price))
        self._label(price)
        self.relay.modify_requested.emit(self.client_order_id, price)

    def context_menu(self) -> QMenu:
        """Build the right-click menu (kept on the line so tests and the user can reach it)."""
        menu = QMenu()
        order = self.order
        action = menu.addAction(f"Cancel {order.side.value} {_qty(order.leaves_quantity)} @ {self._fmt(order.price)}")
        action.triggered.connect(lambda: self.relay.cancel_requested.emit(self.client_order_id))
        self.menu = menu
        return menu

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.RightButton and not self.moving:
            ev.accept()
            self.context_menu().popup(QPointF(ev.screenPos()).toPoint())
            return
        super().mouseClickEvent(ev)

    def _dragging(self, *_: object) -> None:
        self._label(self.snapped_price())

    def _label(self, price: Decimal | None) -> None:
        order = self.order
        self.label.setFormat(f"{order.side.value} {_qty(order.leaves_quantity)} @ {self._fmt(price)}")

    def _fmt(self, price: Decimal | None) -> str:
        return "—" if price is None else f"{price:,.{self.instrument.price_decimals}f}"


class OrderLineSignals(QObject):
    """Requests from every order line of a chart, in one place."""

    modify_requested = Signal(str, object)  # client order id, Decimal price on the tick
    cancel_requested = Signal(str)  # client order id


class PositionLine(pg.InfiniteLine):
    """The position's average price, labelled with the signed quantity."""

    def __init__(self) -> None:
        super().__init__(angle=0, movable=False, pen=pg.mkPen(ACCENT, width=1.2, style=Qt.PenStyle.DotLine),
                         label="", labelOpts={"position": LABEL_POSITION + 0.25, "color": ACCENT,
                                              "fill": QColor(18, 20, 23, 210), "anchors": [(0, 1), (0, 1)]})
        self.setVisible(False)

    def show_position(self, average_price: Decimal | None, quantity: Decimal, decimals: int) -> None:
        """Show the average price line, or hide it when flat."""
        if average_price is None or quantity == 0:
            self.setVisible(False)
            return
        self.setVisible(True)  # first: a hidden line's label ignores new text
        self.setValue(float(average_price))
        side = "LONG" if quantity > 0 else "SHORT"
        self.label.setFormat(f"POS {side} {_qty(abs(quantity))} @ {average_price:,.{decimals}f}")


def fill_spots(fills: list[Fill], start_ns: np.ndarray) -> list[dict[str, object]]:
    """Scatter spots for fills: the bar containing the fill time, at the fill price; ▲ buys, ▼ sells.

    Fills before the first bar are left out.
    """
    if not fills or not len(start_ns):
        return []
    times = np.array([f.ts_ns for f in fills], dtype=np.int64)
    rows = np.searchsorted(start_ns, times, side="right") - 1
    spots = []
    for fill, row in zip(fills, rows.tolist()):
        if row < 0:
            continue
        buy = fill.side is Side.BUY
        spots.append({"pos": (row, float(fill.price)), "symbol": "t1" if buy else "t", "brush": BUY if buy else SELL,
                      "data": fill.trade_id})
    return spots


def _qty(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"
