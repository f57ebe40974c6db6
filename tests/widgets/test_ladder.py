from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontInfo, QFontMetrics
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, ConnectionChanged, ConnectionStatus, Instrument, InstrumentId, InstrumentKind,
                         Order, OrderRequest, OrderStatus, Side, TradePrint, Venue)
from core.marketdata.book import BookView
from core.marketdata.state import MarketState
from widgets.ladder.ladder_widget import COLUMNS, fitted_quantity
from widgets.ladder.model import LadderModel, WorkingOrder
from widgets.ladder.panel import OrderBookPanel

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
INST = Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.001"), quote_currency="USDT", min_quantity=D("0.001"))


class FakeEntry:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.orders: list[Order] = []

    async def place(self, request: OrderRequest) -> Order:
        self.calls.append(("place", request))
        order = Order(ClientOrderId(f"c{len(self.orders)}"), request, status=OrderStatus.OPEN)
        self.orders.append(order)
        return order

    async def cancel(self, client_order_id: str) -> None:
        self.calls.append(("cancel", client_order_id))

    async def modify(self, client_order_id: str, price: D | None = None, quantity: D | None = None,
                     trigger_price: D | None = None) -> None:
        self.calls.append(("modify", (client_order_id, price)))

    def working_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [o for o in self.orders if instrument_id in (None, o.instrument_id)]


@pytest.fixture
def panel(qtbot: QtBot, qloop: object) -> tuple[OrderBookPanel, EventBus, FakeEntry]:
    bus = EventBus()
    market = MarketState(bus)
    entry = FakeEntry()
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.CONNECTED))
    bus.publish(BookDelta(BTC, 0, ((D("100.00"), D("1")), (D("99.99"), D("2"))), ((D("100.01"), D("3")),), 1, True))
    p = OrderBookPanel(market, entry, [INST])
    qtbot.addWidget(p)
    p.resize(500, 600)
    p.show()
    p.refresh()
    return p, bus, entry


def click(qtbot: QtBot, widget: Any, row: int, col: int) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.cell_center(row, col))


def row_of(panel: OrderBookPanel, price: str) -> int:
    row = panel.ladder.model.row_of(D(price), panel.ladder.rows)
    assert row is not None
    return row


def test_model_maps_rows_and_groups_prices() -> None:
    m = LadderModel(tick=D("0.05"), centre=D("100.00"))
    assert m.price_at(10, 21) == D("100.00") and m.price_at(9, 21) == D("100.05")
    assert m.row_of(D("99.95"), 21) == 11 and m.row_of(D("200"), 21) is None
    m.grouping = 10
    assert m.bucket(D("100.49")) == D("100.00")


def test_auto_grouping_keeps_the_touch_readable_whatever_the_depth_beyond() -> None:
    """20 levels 9 ticks apart either side of a 1.93 spread, then 30 levels 48.50 apart: the deep ones had made
    the ladder group x500 (5.00 a row) and squeeze the touch into two rows."""
    bids = [(D("96990.00") - D("0.09") * i, D("0.1")) for i in range(20)]
    asks = [(D("96991.93") + D("0.09") * i, D("0.1")) for i in range(20)]
    bids += [(D("96940.00") - D("48.50") * i, D("1")) for i in range(30)]
    asks += [(D("97040.00") + D("48.50") * i, D("1")) for i in range(30)]
    view = BookView(BTC, tuple(bids), tuple(asks), 1, 0)
    model = LadderModel(tick=D("0.01"), centre=D("96991"))
    model.set_book(view)
    grouping = model.auto_group(view, 28, (1, 5, 10, 50, 100, 500))
    assert grouping == 50  # 0.50 a row: the spread over four rows, the ten best levels a side within the 28 rows
    assert model.auto_group(BookView(BTC, tuple(bids[:1]), tuple(asks[:1]), 1, 0), 28, (1, 5, 10, 50)) == 50


def test_click_bid_side_buys_and_ask_side_sells_at_that_price(qtbot: QtBot, panel: Any, spin: Any) -> None:
    p, _, entry = panel
    p.qty_edit.setText("0.005")
    click(qtbot, p.ladder, row_of(p, "99.99"), 1)
    click(qtbot, p.ladder, row_of(p, "100.05"), 3)
    spin()
    (kind1, buy), (kind2, sell) = entry.calls
    assert kind1 == kind2 == "place"
    assert (buy.side, buy.price, buy.quantity, buy.instrument_id) == (Side.BUY, D("99.99"), D("0.005"), BTC)
    assert (sell.side, sell.price) == (Side.SELL, D("100.05"))


def test_click_own_order_cancels_and_drag_modifies(qtbot: QtBot, panel: Any, spin: Any) -> None:
    p, _, entry = panel
    entry.orders.append(Order(ClientOrderId("mine"), OrderRequest(BTC, Side.BUY, D("0.01"), price=D("99.98")), status=OrderStatus.OPEN))
    p.refresh()
    row = row_of(p, "99.98")
    click(qtbot, p.ladder, row, 0)
    spin()
    assert entry.calls == [("cancel", "mine")]
    ladder = p.ladder
    qtbot.mousePress(ladder, Qt.MouseButton.LeftButton, pos=ladder.cell_center(row, 0))
    qtbot.mouseMove(ladder, ladder.cell_center(row - 2, 0))
    qtbot.mouseRelease(ladder, Qt.MouseButton.LeftButton, pos=ladder.cell_center(row - 2, 0))
    spin()
    assert entry.calls[1] == ("modify", ("mine", D("100.00")))


def test_bad_quantity_is_reported_and_sends_nothing(qtbot: QtBot, panel: Any) -> None:
    p, _, entry = panel
    p.qty_edit.setText("abc")
    with qtbot.waitSignal(p.order_error, timeout=1000) as blocker:
        click(qtbot, p.ladder, row_of(p, "99.99"), 1)
    assert "not a number" in blocker.args[0]
    assert entry.calls == []


def test_stale_feed_blocks_clicks_and_says_so(qtbot: QtBot, panel: Any) -> None:
    p, bus, entry = panel
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.STALE))
    p.refresh()
    assert p.ladder.stale and "STALE" in p.info.text()
    click(qtbot, p.ladder, 5, 1)
    assert entry.calls == []


def test_trades_build_volume_at_price_and_mark_last(panel: Any) -> None:
    p, bus, _ = panel
    bus.publish(TradePrint(BTC, 1, D("100.00"), D("0.5")))
    bus.publish(TradePrint(BTC, 2, D("100.00"), D("0.25")))
    p.refresh()
    bus.publish(TradePrint(BTC, 3, D("100.01"), D("1")))
    p.refresh()
    m = p.ladder.model
    assert m.volume == {D("100.00"): D("0.75"), D("100.01"): D("1")}
    assert m.last_price == D("100.01")


def test_the_picker_names_the_instrument_the_ladder_shows(qtbot: QtBot, panel: Any) -> None:
    p, _, _ = panel
    eth = InstrumentId(Venue.BINANCE, "ETHUSDT")
    p.set_instruments([INST, Instrument(eth, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.0001"), quote_currency="USDT")])
    p.show_instrument(InstrumentId(Venue.BINANCE, "ETHUSDT"))  # equal to the picker's entry, not the same object
    assert p.instrument is not None and p.instrument.id == eth
    assert p.symbol_box.currentData() == eth and "ETHUSDT" in p.symbol_box.currentText()


def test_picker_text_is_the_short_label_and_fits_the_box(qtbot: QtBot, panel: Any) -> None:
    p, _, _ = panel
    fut = InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")
    p.set_instruments([INST, Instrument(fut, InstrumentKind.FUTURE, "FUTURES", D("0.1"), D("0.001"), quote_currency="USDT")])
    assert [p.symbol_box.itemText(i) for i in range(p.symbol_box.count())] == ["BTCUSDT", "BTCUSDT · USD-M"]
    p.show_instrument(fut)
    text_width = p.symbol_box.fontMetrics().horizontalAdvance(p.symbol_box.currentText())
    qtbot.waitUntil(lambda: text_width < p.symbol_box.width() - 24, timeout=2000)  # the arrow and frame take the rest


@pytest.mark.parametrize("width", [340, 400, 500])  # 345 is the default dock; narrower elides
def test_every_column_title_fits_its_column(qtbot: QtBot, panel: Any, width: int) -> None:
    ladder = panel[0].ladder
    ladder.resize(width, 400)
    metrics = QFontMetrics(ladder.header_font())
    assert ladder.header_font().pointSizeF() <= QFontInfo(ladder.font()).pointSizeF()
    for title, (_, w) in zip(COLUMNS, ladder.column_rects()):
        assert metrics.horizontalAdvance(title) <= w - 4, (title, width)


@given(centre=st.decimals(min_value=D("0.05"), max_value=D("100000"), places=2),
       tick=st.sampled_from([D("0.01"), D("0.05"), D("0.5")]), grouping=st.sampled_from([1, 5, 50]),
       rows=st.integers(1, 80), order_prices=st.lists(st.decimals(min_value=D("0.05"), max_value=D("100000"), places=2),
                                                     max_size=6))
def test_whole_frame_helpers_agree_with_the_per_row_ones(centre: D, tick: D, grouping: int, rows: int,
                                                         order_prices: list[D]) -> None:
    m = LadderModel(tick=tick, grouping=grouping, centre=centre)
    m.orders = [WorkingOrder(f"c{i}", Side.BUY if i % 2 else Side.SELL, p, D(1)) for i, p in enumerate(order_prices)]
    prices = m.prices(rows)
    assert prices == [m.price_at(r, rows) for r in range(rows)]
    own = m.orders_by_price()
    for price in prices:
        for side in (Side.BUY, Side.SELL):
            assert own.get((side, price), []) == m.orders_at(price, side)


def test_sizes_show_every_decimal_of_the_lot(qtbot: QtBot, panel: Any) -> None:
    p, _, _ = panel
    btc = Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"), quote_currency="USDT")
    p.set_instruments([btc])
    p.show_instrument(BTC)
    assert p.ladder.qty_decimals == 5  # an order of 0.00006 must not read "0.0001"


@pytest.mark.parametrize(("symbol", "width", "rows"), [("BTCUSDT", 340, 1), ("BTCUSDT", 500, 1),
                                                     ("1000000MOGUSDTPERPETUAL", 400, 2), ("1000000MOGUSDTPERPETUAL", 700, 1)])
def test_a_long_name_in_a_narrow_dock_gets_the_picker_its_own_row(qtbot: QtBot, panel: Any, symbol: str, width: int,
                                                                 rows: int) -> None:
    """In a narrow side dock the controls' one row squeezed the picker: 'BTCUSDT · USD-M' read 'BTCUSDT · USD'."""
    p, _, _ = panel
    fut = InstrumentId(Venue.BINANCE_USDM, symbol)
    p.set_instruments([INST, Instrument(fut, InstrumentKind.FUTURE, "FUTURES", D("0.1"), D("0.001"), quote_currency="USDT")])
    p.show_instrument(fut)
    p.resize(width, 600)
    QApplication.processEvents()
    text_width = p.symbol_box.fontMetrics().horizontalAdvance(p.symbol_box.currentText())
    qtbot.waitUntil(lambda: text_width < p.symbol_box.width() - 24, timeout=2000)  # the arrow and frame take the rest
    assert p.qty_edit.width() >= 72 and p.qty_edit.geometry().right() <= p.width()
    assert (1 if p.symbol_box.y() == p.qty_edit.y() else 2) == rows
    p.symbol_box.setCurrentIndex(0)  # the trader picks spot: "BTCUSDT" fits beside the controls
    QApplication.processEvents()
    assert p.symbol_box.y() == p.qty_edit.y()


def read_back(text: str) -> tuple[D, D]:
    """The value a shown quantity reads as, and half a unit of its last digit (the rounding it may hide)."""
    scale = {"K": 3, "M": 6, "B": 9}.get(text[-1], 0)
    digits = text.rstrip("KMB").replace(",", "")
    places = len(digits.partition(".")[2])
    return D(digits).scaleb(scale), D(5).scaleb(scale - places - 1)


@given(value=st.decimals(min_value=D(0), max_value=D("1e12"), places=6, allow_nan=False, allow_infinity=False),
       decimals=st.integers(0, 6), max_chars=st.integers(1, 16))
def test_a_fitted_quantity_fits_and_reads_as_the_quantity(value: D, decimals: int, max_chars: int) -> None:
    text = fitted_quantity(value, decimals, max_chars)
    whole = f"{value:,.{decimals}f}"
    if len(whole) <= max_chars:
        assert text == whole  # every decimal of the lot when it fits
    if max_chars >= 6:
        assert len(text) <= max_chars
    shown, rounding = read_back(text)
    assert abs(shown - value) <= max(rounding, D(5).scaleb(-decimals - 1))  # never a digit lost off the front


def test_a_narrow_column_shows_sizes_in_thousands_rather_than_cut() -> None:
    assert fitted_quantity(D("1426.877"), 3, 9) == "1,426.877"
    assert fitted_quantity(D("1426.877"), 3, 7) == "1,426.9"
    assert fitted_quantity(D("1426.877"), 3, 4) == "1.4K"
    assert fitted_quantity(D("2500000"), 0, 5) == "2.50M"
