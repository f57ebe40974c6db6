from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal as D
from math import isnan
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (QApplication, QComboBox, QHeaderView, QStyle, QStyleOptionComboBox, QTableView, QTabWidget,
                               QToolTip, QWidget)
from pytestqt.qtbot import QtBot

from core import options
from core.bus import EventBus
from core.chain.margin import BasketMargin, MarginLeg
from core.chain.model import ChainSnapshot, OptionChainModel
from core.chain.payoff import Template
from core.domain import (ClientOrderId, Instrument, InstrumentId, InstrumentKind, OptionRight, Order, OrderRequest, Side, Tick,
                         Venue)
from core.errors import VenueUnavailable
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from widgets.chain.builder import StrategyBuilder
from widgets.chain.panel import OptionChainPanel
from widgets.cell_paint import CellLook
from widgets.chain.table_model import COMPACT, STRIKE_BG, indian_compact
from widgets.style import ATM_BG, DOWN, ITM_BG, UP, load_theme

from .test_cell_paint import painted, shown

Z = Venue.ZERODHA
EXPIRY = datetime(2025, 12, 30, 15, 30)
SPOT = InstrumentId(Z, "NIFTY 50")
T = 7 / 365


@pytest.fixture
def rig() -> tuple[OptionChainModel, MarketState, InstrumentCatalog]:
    instruments = [Instrument(SPOT, InstrumentKind.INDEX, "NSE", D("0.05"), D("1"))]
    bus = EventBus()
    market = MarketState(bus)
    bus.publish(Tick(SPOT, 0, last_price=D("25000")))
    for k in range(24500, 25550, 50):
        for right in OptionRight:
            iid = InstrumentId(Z, f"NIFTY25DEC{k}{right.value}")
            instruments.append(Instrument(iid, InstrumentKind.OPTION, "NFO", D("0.05"), D("75"), expiry=EXPIRY, strike=D(k),
                                          right=right, underlying="NIFTY"))
            px = float(options.price("black76", right is OptionRight.CALL, 25000.0, float(k), T, 0.14))
            mid = D(str(round(px, 1)))
            bus.publish(Tick(iid, 0, last_price=mid, bid=mid - D("0.5"), ask=mid + D("0.5"), open_interest=D(1000)))
    catalog = InstrumentCatalog(instruments)
    return OptionChainModel(catalog, "NIFTY", SPOT, lambda e: T, rate=0.0), market, catalog


def shown_chain(qtbot: QtBot, rig: Any) -> OptionChainPanel:
    """The NIFTY chain panel with 5 strikes each side, refreshed once."""
    model, market, _ = rig
    panel = OptionChainPanel({"NIFTY": model}, market)
    qtbot.addWidget(panel)
    panel.count_box.setValue(5)
    panel.refresh()
    return panel


def test_chain_panel_shows_strikes_and_opens_tickets_at_bid_and_ask(qtbot: QtBot, rig: Any) -> None:
    panel = shown_chain(qtbot, rig)
    snap = panel.snapshot
    assert snap is not None and len(snap.strikes) == 11 and snap.strikes[snap.atm_index] == 25000
    assert "PCR 1.00" in panel.summary.text() and "ATM IV 14." in panel.summary.text()
    atm = snap.atm_index
    call_ask = panel.model.column_of(OptionRight.CALL, "ask")
    put_bid = panel.model.column_of(OptionRight.PUT, "bid")
    with qtbot.waitSignal(panel.ticket_requested) as buy:
        assert panel.trade_cell(atm, call_ask)
    iid, side, price = buy.args
    assert iid.symbol == "NIFTY25DEC25000CE" and side is Side.BUY and price == D(str(round(snap.calls["ask"][atm], 2)))
    with qtbot.waitSignal(panel.ticket_requested) as sell:
        assert panel.trade_cell(atm, put_bid)
    assert sell.args[0].symbol == "NIFTY25DEC25000PE" and sell.args[1] is Side.SELL
    assert not panel.trade_cell(atm, panel.model.strike_column)  # the strike is not tradable
    panel.set_column_visible("gamma", True)
    assert not panel.table.isColumnHidden(panel.model.column_of(OptionRight.CALL, "gamma"))


def text_room(box: QComboBox) -> int:
    """The width a combo box leaves for its text, minus what its current text needs."""
    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    field = box.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, box)
    return field.width() - box.fontMetrics().horizontalAdvance(box.currentText())


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_chain_expiry_shows_its_whole_date_when_the_catalog_loads_behind_another_tab(
        qtbot: QtBot, rig: Any, theme: str) -> None:
    """As at start-up: the chain tab is shown before the venue's instruments load, and they load while another
    tab is in front. The expiry box kept the size of its empty first showing: '08 Dec 2' for '08 Dec 2026'."""
    model, market, catalog = rig
    empty = OptionChainModel(InstrumentCatalog([catalog.get(SPOT)]), "NIFTY", SPOT, lambda e: T, rate=0.0)
    panel = OptionChainPanel({"NIFTY": empty}, market)
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.setStyleSheet(load_theme(theme))
    tabs.addTab(panel, "Option chain")
    tabs.addTab(QWidget(), "Chart")
    tabs.resize(900, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    assert panel.expiry_box.count() == 0
    tabs.setCurrentIndex(1)
    empty.catalog.add(list(catalog))
    panel.reload_expiries()
    tabs.setCurrentIndex(0)
    QApplication.processEvents()
    assert panel.expiry_box.currentText() == "30 Dec 2025" and text_room(panel.expiry_box) >= 0
    assert panel.snapshot is not None and len(panel.snapshot.strikes) == 21


def test_chain_table_repaints_only_the_cells_whose_look_changed(qtbot: QtBot, rig: Any) -> None:
    _, market, _ = rig
    panel = shown_chain(qtbot, rig)
    snap = panel.snapshot
    assert snap is not None
    ranges: list[tuple[int, int, int, int]] = []
    panel.model.dataChanged.connect(lambda a, b, *_: ranges.append((a.row(), a.column(), b.row(), b.column())))
    panel.refresh()  # nothing moved: nothing to repaint
    assert ranges == []
    row = snap.atm_index + 2
    iid = snap.calls.ids[row]
    assert iid is not None
    old = market.ticks[iid]
    market.ticks[iid] = Tick(iid, 1, last_price=old.last_price, bid=old.bid - D("2"), ask=old.ask, open_interest=old.open_interest)
    panel.refresh()
    put_side = panel.model.strike_column
    assert ranges and all(r0 == r1 == row and c1 < put_side for r0, c0, r1, c1 in ranges)  # that call's row, calls only
    changed = {c for _, c0, _, c1 in ranges for c in range(c0, c1 + 1)}
    assert panel.model.column_of(OptionRight.CALL, "bid") in changed and panel.model.column_of(OptionRight.CALL, "ltp") not in changed
    fresh = type(panel.model)()
    fresh.set_snapshot(panel.snapshot)  # type: ignore[arg-type]
    cells = [(r, c) for r in range(fresh.rowCount()) for c in range(fresh.columnCount())]
    assert [panel.model.look(r, c) for r, c in cells] == [fresh.look(r, c) for r, c in cells]


def reference_look(snap: ChainSnapshot, spec: tuple[OptionRight | None, str, str, int], row: int) -> CellLook:
    """One cell formatted on its own from the snapshot: the model's cached looks must equal it."""
    right, field, _, decimals = spec
    atm = row == snap.atm_index
    if right is None:
        return CellLook(f"{snap.strikes[row]:,.0f}", Qt.AlignmentFlag.AlignCenter, ATM_BG if atm else STRIKE_BG, None, True)
    value = float((snap.calls if right is OptionRight.CALL else snap.puts)[field][row])
    if isnan(value):
        text = "–" if field in ("ltp", "bid", "ask") else ""
    elif field in COMPACT:
        text = indian_compact(value, signed=field == "oi_change")
    else:
        text = f"{value * (100 if field == 'iv' else 1):{'+' if field == 'change' else ''},.{decimals}f}"
    itm = snap.strikes[row] < snap.forward if right is OptionRight.CALL else snap.strikes[row] > snap.forward
    colour = None if field not in ("change", "oi_change") or isnan(value) or value == 0 else UP if value > 0 else DOWN
    return CellLook(text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, ATM_BG if atm else ITM_BG if itm else None,
                    colour, atm)


def test_chain_table_looks_and_repaints_follow_random_moves_exactly(qtbot: QtBot, rig: Any) -> None:
    """After each random move (quotes, missing quotes, OI, the spot moving or missing, which moves the ITM shading
    and the ATM row) every cached look is what reference_look formats from the snapshot, and the dataChanged rectangles
    cover exactly the cells whose look changed."""
    _, market, _ = rig
    panel = shown_chain(qtbot, rig)
    model = panel.model
    rng = np.random.default_rng(3)
    rects: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: rects.append((a.row(), a.column(), b.row(), b.column())))
    options_ids = [iid for iid in market.ticks if iid != SPOT]
    for _ in range(60):
        before = {(r, c): model.look(r, c) for r in range(model.rowCount()) for c in range(model.columnCount())}
        old = model.snapshot
        for iid in rng.choice(len(options_ids), 8, replace=False):
            tick = market.ticks.get(options_ids[iid])
            if tick is None or rng.random() < 0.1:
                market.ticks[options_ids[iid]] = Tick(options_ids[iid], 1, last_price=D(str(round(rng.uniform(1, 400), 1))))
            elif rng.random() < 0.1:
                del market.ticks[options_ids[iid]]
            else:
                step = D(str(round(float(rng.normal(0, 2)), 1)))
                market.ticks[options_ids[iid]] = Tick(tick.instrument_id, 1, last_price=tick.last_price, bid=(tick.bid or D(1)) + step,
                                                      ask=(tick.ask or D(2)) + step, open_interest=D(int(rng.integers(900, 1100))))
        spot = D(str(round(25000 + float(rng.normal(0, 20)), 1)))  # moves the shading and now and then the ATM row
        if rng.random() < 0.15:
            market.ticks.pop(SPOT, None)  # no forward: no strike shaded ITM, the middle strike marked ATM
        else:
            market.ticks[SPOT] = Tick(SPOT, 1, last_price=spot)
        rects.clear()
        panel.refresh()
        snap = model.snapshot
        assert snap is not None
        cells = [(r, c) for r in range(len(snap.strikes)) for c in range(len(model.column_specs))]
        assert [model.look(r, c) for r, c in cells] == [reference_look(snap, model.column_specs[c], r) for r, c in cells]
        if old is not None and np.array_equal(old.strikes, snap.strikes):
            covered = [(r, c) for r0, c0, r1, c1 in rects for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
            assert len(covered) == len(set(covered))  # no cell twice
            assert set(covered) == {cell for cell in cells if model.look(*cell) != before[cell]}


def standard_twin(view: QTableView, parent: QWidget) -> QTableView:
    """A plain QTableView (standard delegate, QTableView's own paintEvent) showing what view shows as view shows
    it: same model and selection, font, row and column sizes, hidden columns and scroll. In view's window, so the
    window's active state, which picks the palette's colours, is the same."""
    twin = QTableView(parent)
    twin.setStyleSheet(parent.styleSheet())
    twin.setModel(view.model())
    twin.setSelectionModel(view.selectionModel())
    twin.setFont(view.font())
    twin.verticalHeader().setVisible(False)
    twin.verticalHeader().setDefaultSectionSize(view.verticalHeader().defaultSectionSize())
    twin.horizontalHeader().setMinimumSectionSize(view.horizontalHeader().minimumSectionSize())
    for col in range(view.model().columnCount()):
        twin.setColumnHidden(col, view.isColumnHidden(col))
        twin.setColumnWidth(col, view.columnWidth(col))
    twin.resize(view.size())
    twin.show()
    QApplication.processEvents()  # lays the twin out, so its scroll range is the view's
    twin.horizontalScrollBar().setValue(view.horizontalScrollBar().value())
    twin.verticalScrollBar().setValue(view.verticalScrollBar().value())
    return twin


def test_look_table_view_paints_the_chain_as_the_standard_table_view_does(qtbot: QtBot, rig: Any) -> None:
    """Plain cells, a selected cell, the current cell, a column too narrow for its texts (elided), hidden
    columns, a view scrolled both ways: the chain's LookTableView puts the pixels the standard view puts."""
    model, market, _ = rig
    panel = OptionChainPanel({"NIFTY": model}, market)
    qtbot.addWidget(panel)
    panel.setStyleSheet(load_theme("dark"))
    panel.resize(520, 420)
    panel.show()
    panel.refresh()
    table, chain = panel.table, panel.model
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col in range(chain.columnCount()):
        table.setColumnWidth(col, 60)  # 21 strikes and 15 columns: the table scrolls both ways
    ltp = chain.column_of(OptionRight.CALL, "ltp")
    table.setColumnWidth(ltp, 40)  # OTM premiums (4.25) fit, ITM ones (512.40) elide
    panel.set_column_visible("iv", False)  # hidden: IV and the default four, each side
    selection = table.selectionModel()
    selection.select(chain.index(5, chain.column_of(OptionRight.PUT, "bid")), selection.SelectionFlag.Select)
    selection.setCurrentIndex(chain.index(6, chain.strike_column), selection.SelectionFlag.NoUpdate)
    table.verticalScrollBar().setValue(3)
    table.horizontalScrollBar().setValue(2)  # per item: two columns
    qtbot.wait(20)
    assert table.verticalScrollBar().value() == 3 and table.horizontalScrollBar().value() == 2
    twin = standard_twin(table, panel)
    qtbot.wait(20)
    assert twin.viewport().size() == table.viewport().size()
    assert twin.horizontalHeader().offset() == table.horizontalHeader().offset()
    assert painted(table) == painted(twin)


def test_chain_table_repaints_leave_the_screen_as_a_full_paint(qtbot: QtBot, rig: Any) -> None:
    """Quotes and the spot move (the ITM shading and the ATM row with it) frame after frame: after each repaint
    the screen shows what a full paint of the table shows, so no cell that changed was missed."""
    model, market, _ = rig
    panel = OptionChainPanel({"NIFTY": model}, market)
    qtbot.addWidget(panel)
    panel.setStyleSheet(load_theme("dark"))
    panel.resize(1300, 700)
    panel.show()
    panel.refresh()
    qtbot.wait(20)
    rng = np.random.default_rng(11)
    ids = [iid for iid in market.ticks if iid != SPOT]
    for frame in range(25):
        for i in rng.choice(len(ids), 12, replace=False):
            tick = market.ticks[ids[i]]
            step = D(str(round(float(rng.normal(0, 1)), 1)))
            market.ticks[ids[i]] = Tick(tick.instrument_id, 1, last_price=tick.last_price, bid=(tick.bid or D(1)) + step,
                                        ask=(tick.ask or D(2)) + step, open_interest=D(int(rng.integers(900, 1100))))
        market.ticks[SPOT] = Tick(SPOT, 1, last_price=D(str(round(25000 + float(rng.normal(0, 40)), 1))))
        panel.refresh()
        QApplication.processEvents()
        assert shown(panel.table) == painted(panel.table), f"frame {frame}"


def test_chain_table_click_and_enter_open_tickets_and_counts_show_their_full_value(qtbot: QtBot, rig: Any) -> None:
    """The view, not only trade_cell: a click on a call's Ask buys it, Enter on a put's Bid sells it, and the
    tooltip of an OI cell (shown in lakh and crore) reads the whole number."""
    panel = shown_chain(qtbot, rig)
    panel.resize(1300, 600)
    panel.show()
    qtbot.wait(20)
    table, chain, atm = panel.table, panel.model, panel.snapshot.atm_index  # type: ignore[union-attr]
    ask = chain.index(atm, chain.column_of(OptionRight.CALL, "ask"))
    with qtbot.waitSignal(panel.ticket_requested) as buy:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(ask).center())
    assert buy.args[0].symbol == "NIFTY25DEC25000CE" and buy.args[1] is Side.BUY
    table.setCurrentIndex(chain.index(atm, chain.column_of(OptionRight.PUT, "bid")))
    with qtbot.waitSignal(panel.ticket_requested) as sell:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert sell.args[0].symbol == "NIFTY25DEC25000PE" and sell.args[1] is Side.SELL
    oi = chain.index(atm, chain.column_of(OptionRight.CALL, "oi"))
    point = table.visualRect(oi).center()
    QApplication.sendEvent(table.viewport(), QHelpEvent(QEvent.Type.ToolTip, point, table.viewport().mapToGlobal(point)))
    assert QToolTip.text() == "1,000"


class Entry:
    def __init__(self) -> None:
        self.placed: list[OrderRequest] = []

    async def place(self, request: OrderRequest) -> Order:
        self.placed.append(request)
        return Order(ClientOrderId(str(len(self.placed))), request)


def test_builder_iron_condor_breakevens_and_basket(qtbot: QtBot, qloop: Any, spin: Any, rig: Any) -> None:
    model, market, catalog = rig
    entry = Entry()
    builder = StrategyBuilder(catalog, entry)  # type: ignore[arg-type]
    qtbot.addWidget(builder)
    snap = model.snapshot(EXPIRY, market.ticks)
    builder.set_snapshot(snap)
    builder.apply_template(Template.IRON_CONDOR, width=2)
    strikes = [leg.strike for _, leg in builder.legs]
    assert strikes == [24800, 24900, 25100, 25200]
    legs = [leg for _, leg in builder.legs]
    credit = sum(-leg.sign * leg.premium for leg in legs)
    text = builder.summary.text()
    assert f"{24900 - credit:,.2f}" in text and f"{25100 + credit:,.2f}" in text
    builder.place_all()
    spin()
    assert [r.side for r in entry.placed] == [Side.BUY, Side.BUY, Side.SELL, Side.SELL]  # buys first
    assert all(r.quantity == D(75) and r.price is not None and r.price % D("0.05") == 0 for r in entry.placed)
    assert np.isfinite(builder.today_curve.getData()[1]).all()


def zero_crossings(x: np.ndarray, y: np.ndarray) -> list[float]:
    i = np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0)
    return [float(x[j] - y[j] * (x[j + 1] - x[j]) / (y[j + 1] - y[j])) for j in i]


def test_builder_iron_condor_chart_crosses_zero_at_the_hand_computed_breakevens(qtbot: QtBot, rig: Any) -> None:
    model, market, catalog = rig
    builder = StrategyBuilder(catalog, None)
    qtbot.addWidget(builder)
    builder.set_snapshot(model.snapshot(EXPIRY, market.ticks))
    builder.apply_template(Template.IRON_CONDOR, width=2)
    credit = sum(-leg.sign * leg.premium for _, leg in builder.legs)  # per unit: short premiums minus long ones
    x, y = builder.expiry_curve.getData()
    assert zero_crossings(x, y) == pytest.approx([24900 - credit, 25100 + credit], abs=1e-6)


class FakeMargin:
    """An async margin_quote: records each basket, answers with fixed figures or raises."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.baskets: list[list[MarginLeg]] = []
        self.fail = fail

    async def __call__(self, legs: Sequence[MarginLeg]) -> BasketMargin:
        self.baskets.append(list(legs))
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return BasketMargin(initial=D("152340.50"), final=D("41220.25"))


def test_builder_shows_the_basket_margin_once_the_legs_settle(qtbot: QtBot, qloop: Any, spin: Any, rig: Any) -> None:
    model, market, catalog = rig
    quote = FakeMargin()
    builder = StrategyBuilder(catalog, None, margin_quote=quote)
    qtbot.addWidget(builder)
    builder.set_snapshot(model.snapshot(EXPIRY, market.ticks))
    builder.apply_template(Template.IRON_CONDOR, width=2)
    assert builder.margin_label.text() == "Margin: …" and not quote.baskets  # debounced
    spin(0.5)
    assert len(quote.baskets) == 1  # four legs added, one request
    basket = quote.baskets[0]
    assert [(leg.instrument_id.symbol, leg.side, leg.quantity) for leg in basket] == [
        (iid.symbol, leg.side, D(75)) for iid, leg in builder.legs]
    assert all(leg.price is not None and leg.price > 0 and leg.price % D("0.05") == 0 for leg in basket)  # as placed
    assert builder.margin_label.text() == "Margin: ₹41,220.25 (initial 152,340.50, benefit 111,120.25)"
    builder.clear()
    spin(0.5)
    assert builder.margin_label.text() == "Margin: –" and len(quote.baskets) == 1


def test_builder_drops_a_stale_margin_answer(qtbot: QtBot, qloop: Any, spin: Any, rig: Any) -> None:
    model, market, catalog = rig
    gate = asyncio.Event()

    async def slow(legs: Sequence[MarginLeg]) -> BasketMargin:
        await gate.wait()
        return BasketMargin(D(1), D(1))

    builder = StrategyBuilder(catalog, None, margin_quote=slow)
    qtbot.addWidget(builder)
    builder.set_snapshot(model.snapshot(EXPIRY, market.ticks))
    builder.apply_template(Template.SHORT_STRADDLE)
    spin(0.5)  # the request is in flight
    builder.clear()
    gate.set()
    spin(0.05)
    assert builder.margin_label.text() == "Margin: –"


def test_builder_shows_margin_errors_inline_and_na_without_a_quote(qtbot: QtBot, qloop: Any, spin: Any, rig: Any) -> None:
    model, market, catalog = rig
    failing = StrategyBuilder(catalog, None, margin_quote=FakeMargin(fail=VenueUnavailable("Kite NetworkException: OMS down")))
    qtbot.addWidget(failing)
    failing.set_snapshot(model.snapshot(EXPIRY, market.ticks))
    failing.apply_template(Template.SHORT_STRADDLE)
    spin(0.5)
    assert failing.margin_label.text() == "Margin: unavailable (Kite NetworkException: OMS down)"
    assert len(failing.legs) == 2  # the builder carries on
    without = StrategyBuilder(catalog, None)  # e.g. Binance: no options API, no margin calculator
    qtbot.addWidget(without)
    without.set_snapshot(model.snapshot(EXPIRY, market.ticks))
    without.apply_template(Template.SHORT_STRADDLE)
    spin(0.5)
    assert without.margin_label.text() == "Margin: n/a for this venue"
