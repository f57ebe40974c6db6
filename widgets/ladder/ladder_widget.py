"""The painted DOM ladder. Columns: my buys | bid size | price | ask size | my sells | volume.

Mouse: click the bid side to place a buy limit at that row's price, the ask side to sell; click one of
your orders to cancel it; drag it to another row to modify its price. Keys: C centres on the last
price, Up/Down/PageUp/PageDown scroll. The widget emits signals; the panel turns them into orders.
"""
from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.domain import Side
from widgets.style import ACCENT, BUY, BUY_BG, MUTED, SELL, SELL_BG, WARN, mono_font

from .model import LadderModel, WorkingOrder

COLUMNS = ("My buys", "Bid", "Price", "Ask", "My sells", "Volume")
WEIGHTS = (1.0, 1.3, 1.3, 1.3, 1.0, 1.1)
HEADER_MIN_POINTS = 6.5
# made once: Qt flag arithmetic and QColor() cost microseconds in Python, and a frame paints ~40 rows
CENTRE = Qt.AlignmentFlag.AlignCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LAST_BG = QColor(240, 180, 41, 60)
VOLUME_BG = QColor(125, 135, 148, 60)
ORDER_TEXT = QColor("white")
BID_SIDE = (0, 1)
ASK_SIDE = (3, 4)


def fitted_quantity(value: Decimal, decimals: int, max_chars: int) -> str:
    """The quantity in at most max_chars characters if it can be: every decimal of the lot, else fewer (rounded),
    else in thousands (K), millions (M) or billions (B). A narrow column had cut the leading digits instead, and
    '1,426.877' read as '426.877'. Returns the shortest form when none fits (the cell then clips its left)."""
    text = ""
    for places in range(decimals, -1, -1):
        text = f"{value:,.{places}f}"
        if len(text) <= max_chars:
            return text
    for power, suffix in ((3, "K"), (6, "M"), (9, "B")):
        scaled = value.scaleb(-power)
        if abs(scaled) < 1:
            break
        for places in (2, 1, 0):
            text = f"{scaled:,.{places}f}{suffix}"
            if len(text) <= max_chars:
                return text
    return text


class LadderWidget(QWidget):
    place_requested = Signal(object, object)  # Side, Decimal price
    cancel_requested = Signal(str)  # client order id
    modify_requested = Signal(str, object)  # client order id, Decimal new price

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LadderModel()
        self.price_decimals = 2
        self.qty_decimals = 4
        self._digit_width = 1  # px of a digit in the (fixed-width) font, measured each frame
        self.stale = False
        self.row_height = 18
        self._drag: WorkingOrder | None = None
        self._drag_row: int | None = None
        self._header_font: tuple[int, QFont] | None = None  # (width it was fitted to, font)
        self.setFont(mono_font(9))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel: skip the parents' backgrounds
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 150)

    # geometry ----------------------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return max(1, (self.height() - self.row_height) // self.row_height)

    def column_rects(self) -> list[tuple[int, int]]:
        total = sum(WEIGHTS)
        xs, x = [], 0
        for w in WEIGHTS:
            width = int(self.width() * w / total)
            xs.append((x, width))
            x += width
        return xs

    def header_font(self) -> QFont:
        """The ladder's font, made smaller (down to HEADER_MIN_POINTS) until every title fits its column."""
        width = self.width()
        if self._header_font is None or self._header_font[0] != width:
            font = QFont(self.font())
            font.setPointSizeF(QFontInfo(font).pointSizeF())  # a style sheet may have set it in pixels
            widths = [w - 4 for _, w in self.column_rects()]
            while font.pointSizeF() > HEADER_MIN_POINTS and any(
                    QFontMetrics(font).horizontalAdvance(t) > w for t, w in zip(COLUMNS, widths)):
                font.setPointSizeF(font.pointSizeF() - 0.5)
            self._header_font = (width, font)
        return self._header_font[1]

    def hit(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, column) under a point, or None in the header."""
        if pos.y() < self.row_height:
            return None
        row = (pos.y() - self.row_height) // self.row_height
        for col, (x, w) in enumerate(self.column_rects()):
            if x <= pos.x() < x + w:
                return row, col
        return None

    def cell_center(self, row: int, col: int) -> QPoint:
        x, w = self.column_rects()[col]
        return QPoint(x + w // 2, self.row_height + row * self.row_height + self.row_height // 2)

    # painting ----------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        palette_bg = self.palette().color(self.backgroundRole())
        painter.fillRect(self.rect(), palette_bg)
        cols = self.column_rects()
        rh = self.row_height
        painter.setPen(MUTED)
        painter.setFont(self.header_font())
        metrics = painter.fontMetrics()
        for (x, w), title in zip(cols, COLUMNS):  # elided only if even the smallest font is too wide
            text = metrics.elidedText(title, Qt.TextElideMode.ElideRight, w - 4)
            painter.drawText(QRect(x, 0, w - 4, rh), Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(self.font())
        self._digit_width = max(1, painter.fontMetrics().horizontalAdvance("0"))  # once a frame: ~120 cells use it
        m = self.model
        rows = self.rows
        max_size = max([*m.bids.values(), *m.asks.values(), Decimal(1)])
        max_vol = max([*m.volume.values(), Decimal(1)])
        last_row = m.row_of(m.last_price, rows) if m.last_price is not None else None
        own = m.orders_by_price()
        text_pen = self.palette().color(self.foregroundRole())
        (x_price, w_price), (x_vol, w_vol) = cols[2], cols[5]
        for row, price in enumerate(m.prices(rows)):  # per row only what differs: ~40 rows, 25 frames a second
            y = rh + row * rh
            if row == last_row:
                painter.fillRect(QRect(x_price, y, w_price, rh), LAST_BG)
            self._size_cell(painter, cols[1], y, m.bids.get(price), max_size, BUY, BUY_BG, right=True)
            self._size_cell(painter, cols[3], y, m.asks.get(price), max_size, SELL, SELL_BG, right=False)
            painter.setPen(WARN if row == last_row else text_pen)
            painter.drawText(QRect(x_price, y, w_price, rh), CENTRE, f"{price:,.{self.price_decimals}f}")
            self._orders_cell(painter, cols[0], y, own.get((Side.BUY, price)), BUY)
            self._orders_cell(painter, cols[4], y, own.get((Side.SELL, price)), SELL)
            vol = m.volume.get(price)
            if vol:
                painter.fillRect(QRect(x_vol, y + 3, int(w_vol * float(vol / max_vol)), rh - 6), VOLUME_BG)
                painter.setPen(MUTED)
                painter.drawText(QRect(x_vol + 4, y, w_vol - 8, rh), LEFT, self._quantity(vol, w_vol - 8))
        if self._drag is not None and self._drag_row is not None:
            painter.setPen(ACCENT)
            painter.drawRect(QRect(0, rh + self._drag_row * rh, self.width() - 1, rh))
        if self.stale or m.centre is None:
            painter.fillRect(self.rect(), QColor(0, 0, 0, 150))
            painter.setPen(SELL if self.stale else MUTED)
            font = painter.font()
            font.setPointSize(16)
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "STALE — not live" if self.stale else "Waiting for book…")
        painter.end()

    def _size_cell(self, painter: QPainter, col: tuple[int, int], y: int, size: Decimal | None, max_size: Decimal,
                   fg: QColor, bg: QColor, right: bool) -> None:
        if not size:
            return
        x, w = col
        bar = int(w * float(size / max_size))
        painter.fillRect(QRect(x + w - bar if right else x, y + 1, bar, self.row_height - 2), bg)
        painter.setPen(fg)
        painter.drawText(QRect(x + 4, y, w - 8, self.row_height), RIGHT, self._quantity(size, w - 8))

    def _quantity(self, value: Decimal, width: int) -> str:
        """The quantity as it fits `width` px of this (fixed-width) font: see fitted_quantity."""
        return fitted_quantity(value, self.qty_decimals, width // self._digit_width)

    def _orders_cell(self, painter: QPainter, col: tuple[int, int], y: int, orders: list[WorkingOrder] | None,
                     color: QColor) -> None:
        if not orders:
            return
        x, w = col
        fill = QColor(color)
        fill.setAlpha(110)
        painter.fillRect(QRect(x + 2, y + 1, w - 4, self.row_height - 2), fill)
        painter.setPen(ORDER_TEXT)
        total = sum(o.leaves_quantity for o in orders)
        count = f" ×{len(orders)}" if len(orders) > 1 else ""
        label = self._quantity(total, w - 8 - len(count) * self._digit_width) + count
        painter.drawText(QRect(x + 4, y, w - 8, self.row_height), CENTRE, label)

    # interaction -------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self.hit(event.position().toPoint())
        if hit is None or self.stale or event.button() != Qt.MouseButton.LeftButton:
            return
        row, col = hit
        price = self.model.price_at(row, self.rows)
        if price is None:
            return
        if col in (0, 4):
            orders = self.model.orders_at(price, Side.BUY if col == 0 else Side.SELL)
            if orders:
                self._drag, self._drag_row = orders[0], row
                return
        if col in BID_SIDE:
            self.place_requested.emit(Side.BUY, price)
        elif col in ASK_SIDE:
            self.place_requested.emit(Side.SELL, price)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            hit = self.hit(event.position().toPoint())
            if hit is not None:
                self._drag_row = hit[0]
                self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        order, self._drag = self._drag, None
        if order is None:
            return
        hit = self.hit(event.position().toPoint())
        self._drag_row = None
        self.update()
        if hit is None:
            return
        price = self.model.price_at(hit[0], self.rows)
        if price is None:
            return
        if self.model.bucket(price) == self.model.bucket(order.price):
            self.cancel_requested.emit(order.client_order_id)  # a click without a move cancels
        else:
            self.modify_requested.emit(order.client_order_id, price)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        self.model.scroll(3 if event.angleDelta().y() > 0 else -3)
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        steps = {Qt.Key.Key_Up: 1, Qt.Key.Key_Down: -1, Qt.Key.Key_PageUp: self.rows // 2, Qt.Key.Key_PageDown: -(self.rows // 2)}
        if key == Qt.Key.Key_C:
            self.model.recentre()
        elif key in steps:
            self.model.scroll(steps[key])
        else:
            super().keyPressEvent(event)
            return
        self.update()
