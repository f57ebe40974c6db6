from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import BookDelta, Side, TradePrint
from core.marketdata.state import MarketState
from widgets.chart.depth_chart import DepthChart, cumulative, step_outline
from widgets.chart.time_axis import IST
from widgets.chart.time_sales import TapeModel, TimeAndSalesPanel, print_time
from widgets.style import mono_font

from ..test_table import CELL_TEXT_ROOM
from .conftest import BTC, NIFTY

SNAPSHOT = BookDelta(BTC.id, 1, ((D("100.00"), D("1")), (D("99.50"), D("2")), (D("99.00"), D("0.5"))),
                     ((D("100.50"), D("3")), (D("101.00"), D("1"))), update_id=10, is_snapshot=True)


def test_cumulative_depth_of_a_known_book() -> None:
    prices, totals = cumulative(SNAPSHOT.bids)
    assert prices.tolist() == [100.0, 99.5, 99.0] and totals.tolist() == [1.0, 3.0, 3.5]
    x, y = step_outline(prices, totals)
    assert x.tolist() == [100.0, 100.0, 99.5, 99.5, 99.0, 99.0, 99.0]
    assert y.tolist() == [0.0, 1.0, 1.0, 3.0, 3.0, 3.5, 3.5]
    assert [a.size for a in step_outline(np.empty(0), np.empty(0))] == [0, 0]


def test_depth_chart_draws_the_book_and_redraws_only_on_change(qtbot: QtBot) -> None:
    bus = EventBus()
    market = MarketState(bus)
    chart = DepthChart(market, BTC.id)
    qtbot.addWidget(chart)
    chart.show()  # refreshes only run on screen
    chart.refresh()
    assert not chart.mid_line.isVisible()
    bus.publish(SNAPSHOT)
    chart.refresh()
    chart.refresh()
    assert chart.redraws == 2  # the empty book, then the snapshot once
    x, y = chart.ask_curve.getData()
    assert x.tolist()[:3] == [100.5, 100.5, 101.0] and y.max() == 4.0
    assert chart.mid_line.value() == 100.25
    bus.publish(BookDelta(BTC.id, 2, ((D("99.50"), D("0")),), (), update_id=11))
    chart.refresh()
    assert chart.redraws == 3 and chart.bid_curve.getData()[1].max() == 1.5


def trade(i: int, qty: str = "1", side: Side | None = Side.BUY) -> TradePrint:
    return TradePrint(NIFTY.id, 1_714_535_100 * 10**9 + i * 1_500_000, D("22500.05") + i, D(qty), side, str(i))


def test_tape_is_newest_first_and_bounded(qtbot: QtBot) -> None:
    model = TapeModel(NIFTY, IST, capacity=5)
    model.add_trades([trade(i) for i in range(3)])
    model.add_trades([trade(i) for i in range(3, 9)])
    assert [t.trade_id for t in model.prints()] == ["8", "7", "6", "5", "4"]
    assert model.rowCount() == 5
    assert model.data(model.index(0, 0)) == "09:15:00.012" and model.data(model.index(0, 1)) == "22,508.05"
    assert model.data(model.index(0, 3)) == "Buy"


def test_print_time_has_milliseconds_in_the_zone() -> None:
    ts = int(datetime(2024, 5, 2, 9, 15, 1, tzinfo=IST).timestamp()) * 10**9 + 234_999_999
    assert print_time(ts, IST) == "09:15:01.234"


def test_panel_reads_only_new_prints_and_highlights_big_ones(qtbot: QtBot) -> None:
    bus = EventBus()
    market = MarketState(bus)
    panel = TimeAndSalesPanel(market, NIFTY, IST, capacity=100, big_quantity=D("500"))
    qtbot.addWidget(panel)
    panel.show()  # refreshes only run on screen
    for i in range(3):
        bus.publish(trade(i, qty="50", side=Side.SELL))
    panel.refresh()
    bus.publish(trade(3, qty="750"))
    panel.refresh()
    panel.refresh()
    model = panel.model
    assert [t.trade_id for t in model.prints()] == ["3", "2", "1", "0"]
    assert model.data(model.index(0, 1), Qt.ItemDataRole.BackgroundRole) is not None
    assert model.data(model.index(1, 1), Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(model.index(1, 3), Qt.ItemDataRole.ForegroundRole).name() == "#ef5350"
    panel.big_edit.setText("40")
    panel.big_edit.editingFinished.emit()
    assert model.data(model.index(1, 1), Qt.ItemDataRole.BackgroundRole) is not None


def test_the_time_column_shows_whole_times_in_a_narrow_dock(qtbot: QtBot) -> None:
    """The column had been sized while the tape was empty, to its title: times read '12:2…'."""
    bus = EventBus()
    market = MarketState(bus)
    panel = TimeAndSalesPanel(market, NIFTY, IST, capacity=100, big_quantity=D("500"))
    qtbot.addWidget(panel)
    panel.view.setFont(mono_font(14))  # a larger font than the column's default width allows for
    panel.resize(300, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh()  # nothing yet
    bus.publish(trade(1, qty="750"))  # a big print: bold
    panel.refresh()
    bold = QFont(panel.view.font())
    bold.setBold(True)
    needed = QFontMetrics(bold).horizontalAdvance(panel.model.data(panel.model.index(0, 0)))
    assert panel.view.columnWidth(0) >= needed + CELL_TEXT_ROOM
