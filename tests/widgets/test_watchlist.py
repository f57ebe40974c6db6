from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import Instrument, InstrumentId, InstrumentKind, Side, Tick, Venue
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState
from widgets.watchlist import WatchlistPanel

INFY = InstrumentId(Venue.ZERODHA, "INFY")
TCS = InstrumentId(Venue.ZERODHA, "TCS")
CAT = InstrumentCatalog([
    Instrument(INFY, InstrumentKind.EQUITY, "NSE", D("0.05"), D("1"), name="INFOSYS"),
    Instrument(TCS, InstrumentKind.EQUITY, "NSE", D("0.05"), D("1"), name="TATA CONSULTANCY"),
])


def make(qtbot: QtBot, tmp_path: Path) -> tuple[WatchlistPanel, EventBus]:
    bus = EventBus()
    panel = WatchlistPanel(CAT, MarketState(bus), tmp_path / "watch.json", {"Main": [INFY]})
    qtbot.addWidget(panel)
    panel.show()
    return panel, bus


def test_live_prices_and_change(qtbot: QtBot, tmp_path: Path) -> None:
    panel, bus = make(qtbot, tmp_path)
    bus.publish(Tick(INFY, 1, last_price=D("1530"), close=D("1500"), bid=D("1529.95"), ask=D("1530.05"), volume=D("12345")))
    panel.refresh()
    m = panel.model
    assert [m.data(m.index(0, c)) for c in range(6)] == ["INFY", "1,530.00", "+30.00", "+2.00", "1,529.95", "1,530.05"]


def test_add_by_typing_and_enter_then_persist(qtbot: QtBot, tmp_path: Path) -> None:
    panel, _ = make(qtbot, tmp_path)
    qtbot.keyClicks(panel.search.edit, "tata")
    assert panel.search.results[0].id == TCS
    qtbot.keyClick(panel.search.edit, Qt.Key.Key_Return)
    assert panel.instruments() == [INFY, TCS]
    again, _ = make(qtbot, tmp_path)
    assert again.instruments() == [INFY, TCS]


def test_keys_open_ticket_chart_chain_and_delete(qtbot: QtBot, tmp_path: Path) -> None:
    panel, _ = make(qtbot, tmp_path)
    panel.refresh()
    view = panel.table.view
    view.setCurrentIndex(panel.table.proxy.index(0, 0))
    view.selectRow(0)
    with qtbot.waitSignal(panel.open_ticket) as ticket:
        qtbot.keyClick(view, Qt.Key.Key_F2)
    assert ticket.args == [INFY, Side.SELL]
    with qtbot.waitSignal(panel.open_ticket) as ticket:
        qtbot.keyClick(view, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert ticket.args == [INFY, Side.BUY]
    with qtbot.waitSignal(panel.open_chart) as chart:
        qtbot.keyClick(view, Qt.Key.Key_C)
    assert chart.args == [INFY]
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert panel.instruments() == []


def test_multiple_lists(qtbot: QtBot, tmp_path: Path) -> None:
    panel, _ = make(qtbot, tmp_path)
    panel.add_list("F&O")
    assert panel.current_list == "F&O" and panel.instruments() == []
    panel.add_instrument(TCS)
    panel.tabs.setCurrentIndex(0)
    assert panel.instruments() == [INFY]
