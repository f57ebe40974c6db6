from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot

from core import indicators as ind
from core.domain import ClientOrderId, Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from core.marketdata.series import BarSeries
from core.marketdata.timeframes import Timeframe
from widgets.chart.chart_widget import Y_MARGIN, ChartWidget
from widgets.chart.time_axis import UTC

from .conftest import BTC, MINUTE, NIFTY, FakeEntry

Bar = SimpleNamespace


def make_chart(qtbot: QtBot, series: BarSeries, entry: FakeEntry | None = None, inst: Any = BTC) -> ChartWidget:
    chart = ChartWidget(entry, UTC)
    qtbot.addWidget(chart)
    chart.resize(900, 560)
    chart.set_bars(series, inst, Timeframe.M1)
    chart.show()
    return chart


def order(cid: str, side: Side, price: str, inst: Any = BTC, status: OrderStatus = OrderStatus.OPEN) -> Order:
    request = OrderRequest(inst.id, side, D("0.5"), OrderType.LIMIT, price=D(price))
    return Order(ClientOrderId(cid), request, status=status)


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text))


def test_a_million_bars_render_zoomed_out_with_lod_and_zoomed_in_in_full(qtbot: QtBot, million: BarSeries) -> None:
    chart = make_chart(qtbot, million)
    chart.show_range(0, len(million) - 1)
    assert not chart.graphics.grab().isNull()
    first, stop, bucket = chart.candles.history.window or (0, 0, 0)
    assert bucket >= 512 and first == 0 and stop == len(million) - 1  # ~1,000 groups for ~800 px
    chart.show_latest(200)
    assert not chart.graphics.grab().isNull()
    first, stop, bucket = chart.candles.history.window or (0, 0, 0)
    assert bucket == 1 and stop - first <= 400  # only the visible bars and half a view either side


def test_a_live_tick_rebuilds_only_the_last_candle(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(300)
    chart = make_chart(qtbot, series)
    chart.graphics.grab()
    history, tail = chart.candles.history.builds, chart.candles.tail.builds
    last = int(series.start_ns[-1])
    chart.update_last(Bar(start_ns=last, open=series.open[-1], high=150.0, low=series.low[-1], close=149.0, volume=5.0))
    chart.graphics.grab()
    assert chart.candles.history.builds == history and chart.candles.tail.builds == tail + 1
    assert chart.price_plot.getViewBox().viewRange()[1][1] > 150.0  # y refits to the live high
    with pytest.raises(ValueError):
        chart.update_last(Bar(start_ns=last + MINUTE, open=1, high=1, low=1, close=1, volume=1))


def test_a_new_bar_is_appended_and_followed(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(300)
    chart = make_chart(qtbot, series)
    chart.show_study("sma20")
    x0, x1 = chart.price_plot.getViewBox().viewRange()[0]
    start = int(series.start_ns[-1]) + MINUTE
    chart.append(Bar(start_ns=start, open=100.0, high=101.0, low=99.0, close=100.5, volume=3.0))
    assert len(series) == 301 and chart.candles.history.rows == (0, 300) and chart.candles.tail.rows == (300, 301)
    nx0, nx1 = chart.price_plot.getViewBox().viewRange()[0]
    assert nx0 == pytest.approx(x0 + 1) and nx1 == pytest.approx(x1 + 1)
    sma = chart.studies["sma20"].study.columns[0].values
    assert len(sma) == 301 and sma[-1] == pytest.approx(ind.sma(series.close, 20)[-1])
    chart.update_bar(Bar(start_ns=start, open=100.0, high=103.0, low=99.0, close=102.0, volume=4.0))
    assert sma[-1] == pytest.approx(ind.sma(series.close, 20)[-1])


def test_orders_are_lines_at_their_prices_for_this_instrument_only(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    chart = make_chart(qtbot, walk(200), FakeEntry())
    chart.set_orders([order("b1", Side.BUY, "99.50"), order("s1", Side.SELL, "101.25"),
                      order("x1", Side.BUY, "22000", inst=NIFTY), order("f1", Side.BUY, "99", status=OrderStatus.FILLED)])
    assert set(chart.order_lines) == {"b1", "s1"}
    assert chart.order_lines["b1"].value() == 99.5 and chart.order_lines["s1"].value() == 101.25
    assert chart.order_lines["b1"].label.format == "BUY 0.5 @ 99.50"
    assert chart.order_lines["b1"].pen.color().name() == "#26a69a" and chart.order_lines["s1"].pen.color().name() == "#ef5350"
    chart.set_orders([order("s1", Side.SELL, "101.50")])
    assert set(chart.order_lines) == {"s1"} and chart.order_lines["s1"].value() == 101.5


def test_dragging_an_order_line_modifies_to_the_nearest_tick(qtbot: QtBot, walk: Callable[..., BarSeries],
                                                             entry: FakeEntry, spin: Any) -> None:
    chart = make_chart(qtbot, walk(200), entry, inst=NIFTY)
    chart.set_orders([order("b1", Side.BUY, "99.50", inst=NIFTY)])
    line = chart.order_lines["b1"]
    line.setValue(99.5)
    line.sigPositionChangeFinished.emit(line)  # a click without a move
    line.setValue(98.6274)
    line.sigPositionChangeFinished.emit(line)
    spin()
    assert entry.calls == [("modify", ("b1", D("98.65")))]
    assert line.value() == pytest.approx(98.65) and line.label.format == "BUY 0.5 @ 98.65"


def test_right_click_on_an_order_line_offers_cancel(qtbot: QtBot, walk: Callable[..., BarSeries], entry: FakeEntry,
                                                   spin: Any) -> None:
    chart = make_chart(qtbot, walk(200), entry)
    chart.set_orders([order("s1", Side.SELL, "101.25")])
    line = chart.order_lines["s1"]
    accepted: list[bool] = []
    event = SimpleNamespace(button=lambda: Qt.MouseButton.RightButton, accept=lambda: accepted.append(True),
                            screenPos=lambda: QPointF(10, 10))
    line.mouseClickEvent(event)
    assert accepted and line.menu is not None
    action = line.menu.actions()[0]
    assert action.text() == "Cancel SELL 0.5 @ 101.25"
    line.menu.close()
    action.trigger()
    spin()
    assert entry.calls == [("cancel", "s1")]


def test_crosshair_readout_of_a_known_bar(qtbot: QtBot) -> None:
    series = BarSeries()
    series.append(1_714_521_600 * 10**9, 100.0, 102.0, 99.0, 101.0, 1234.0)
    series.append(1_714_521_660 * 10**9, 101.0, 103.5, 100.5, 99.99, 25_000.0)
    chart = make_chart(qtbot, series)
    chart.show_crosshair(1.2, 101.0)
    assert plain(chart.readout.text()) == "2024-05-01 00:01 UTC O 101.00 H 103.50 L 100.50 C 99.99 V 25.00K -1.00%"
    assert chart.cross_h.value() == 101.0 and all(line.value() == 1 for line in chart.cross_v.values())
    chart.show_crosshair(-3, None)
    assert plain(chart.readout.text()).startswith("2024-05-01 00:00 UTC O 100.00") and not chart.cross_h.isVisible()


def test_y_fits_the_visible_window(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(500)
    chart = make_chart(qtbot, series)
    chart.show_range(100, 149)
    low, high = series.low[100:150].min(), series.high[100:150].max()
    margin = (high - low) * Y_MARGIN
    assert chart.price_plot.getViewBox().viewRange()[1] == pytest.approx([low - margin, high + margin])
    assert chart.volume_plot.getViewBox().viewRange()[1][1] == pytest.approx(series.volume[100:150].max() * 1.1)


def test_keys_pan_zoom_and_jump(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(1000)
    chart = make_chart(qtbot, series)
    vb = chart.price_plot.getViewBox()
    span = chart.visible_span()
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    assert vb.viewRange()[0][1] == pytest.approx(999.5 + span * 0.06 - span / 8)
    qtbot.keyClick(chart, Qt.Key.Key_Minus)
    assert chart.visible_span() == pytest.approx(span * 1.25)
    qtbot.keyClick(chart, Qt.Key.Key_End)
    assert vb.viewRange()[0][0] == pytest.approx(-0.5)
    qtbot.keyClick(chart, Qt.Key.Key_Home)
    assert vb.viewRange()[0][1] > 999.5 and chart.visible_span() == pytest.approx(span * 1.25)


def test_studies_add_panes_and_the_time_axis_moves_to_the_bottom(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    chart = make_chart(qtbot, walk(400))
    chart.show_study("rsi14")
    chart.show_study("macd")
    assert list(chart.panes) == ["RSI", "MACD"]
    assert chart.panes["MACD"].getAxis("bottom").isVisible() and not chart.volume_plot.getAxis("bottom").isVisible()
    assert chart.panes["RSI"].getViewBox().viewRange()[1][0] < 0 < 100 < chart.panes["RSI"].getViewBox().viewRange()[1][1]
    chart.show_study("rsi14", False)
    assert list(chart.panes) == ["MACD"] and chart.state()["studies"] == ["macd"]
    assert not chart.graphics.grab().isNull()


def test_fills_are_marked_on_their_bars(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(100)
    chart = make_chart(qtbot, series)
    fill = Fill(ClientOrderId("c"), "v", "t9", BTC.id, Side.SELL, D("1"), D("100.10"), ts_ns=int(series.start_ns[42]) + 5)
    chart.add_fills([fill, fill])
    spots = chart.fill_markers.points()
    assert len(spots) == 1 and spots[0].pos().x() == 42 and spots[0].pos().y() == pytest.approx(100.1)
    assert spots[0].symbol() == "t"


def test_position_line_and_timeframe_request(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    chart = make_chart(qtbot, walk(50))
    chart.set_position(D("100.25"), D("-2"))
    assert chart.position_line.isVisible() and chart.position_line.value() == 100.25
    assert chart.position_line.label.format == "POS SHORT 2 @ 100.25"
    chart.set_position(None, D("0"))
    assert not chart.position_line.isVisible()
    with qtbot.waitSignal(chart.timeframe_requested) as blocker:
        chart.timeframe_box.setCurrentIndex(chart.timeframe_box.findData(Timeframe.H1))
    assert blocker.args == [Timeframe.H1]


def test_live_study_values_match_the_batch_functions(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    series = walk(2000)
    chart = make_chart(qtbot, series)
    for key in ("ema20", "bb20", "rsi14", "macd", "stoch", "vwap", "supertrend"):
        chart.show_study(key)
    start = int(series.start_ns[-1])
    for k in range(5):
        chart.update_bar(Bar(start_ns=start + k * MINUTE, open=100.0, high=101.0 + k, low=98.0, close=99.0 + k, volume=2.0))
    for view in chart.studies.values():
        expected = view.study.spec.batch(series, UTC)
        for column, batch in zip(view.study.columns, expected):
            assert np.allclose(column.values[-5:], batch[-5:], equal_nan=True, rtol=1e-9), view.study.spec.key


def test_the_vwap_line_breaks_where_a_session_opens(qtbot: QtBot, walk: Callable[..., BarSeries]) -> None:
    """VWAP jumps back to the price at each session open; a stroke across the jump would read as a spike."""
    series = walk(3000)  # 1m bars over three UTC days
    chart = make_chart(qtbot, series)
    chart.show_study("vwap")
    opens = np.flatnonzero(np.diff(series.start_ns // (86_400 * 10**9))) + 1  # the first bar of each new day
    assert len(opens) >= 2
    chart.show_range(int(opens[0]) - 100, int(opens[0]) + 100)
    chart.graphics.grab()
    line = chart.studies["vwap"].layers[0].items[0]
    path = line._path  # type: ignore[attr-defined]
    points = [path.elementAt(i) for i in range(path.elementCount())]
    strokes = [(round(a.x), round(b.x)) for a, b in zip(points, points[1:]) if b.type.value == 1]  # LineTo
    assert strokes and all(b == a + 1 for a, b in strokes)
    assert (int(opens[0]) - 1, int(opens[0])) not in strokes  # no stroke into the session's first bar
    assert (int(opens[0]), int(opens[0]) + 1) in strokes and (int(opens[0]) - 2, int(opens[0]) - 1) in strokes
    day = 86_400 * 10**9
    next_day = (int(series.start_ns[-1]) // day + 1) * day
    chart.update_bar(Bar(start_ns=next_day, open=100.0, high=101.0, low=99.0, close=100.0, volume=1.0))  # a live bar opens a day
    starts = chart.studies["vwap"].study.session_starts
    assert starts is not None and starts.values[-1] == 1.0 and starts.values[-2] == 0.0
    assert np.array_equal(np.flatnonzero(starts.values[:-1]), [0, *opens])
