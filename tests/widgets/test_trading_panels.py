from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import (Balance, ClientOrderId, Fill, FillEvent, InstrumentId, Order, OrderRequest, OrderStatus, Product, Side,
                         Venue)
from core.portfolio import PortfolioTotals
from core.portfolio.greeks import Greeks
from core.portfolio.portfolio import PositionView
from core.risk.engine import LimitUsage, Rejection, RiskSnapshot
from widgets.trading.orders import OrdersPanel, TradesPanel
from widgets.trading.positions import FundsPanel, PositionsPanel
from widgets.trading.risk import RiskPanel

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


def order(coid: str, status: OrderStatus, ts: int) -> Order:
    return Order(ClientOrderId(coid), OrderRequest(BTC, Side.BUY, D("0.5"), price=D("100")), status=status, created_ns=ts)


class Entry:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def cancel(self, client_order_id: str) -> None:
        self.calls.append(("cancel", client_order_id))

    async def modify(self, client_order_id: str, **kw: Any) -> None:
        self.calls.append(("modify", (client_order_id, kw)))


def test_orders_panel_splits_open_and_completed_and_cancels(qtbot: QtBot, qloop: Any, spin: Any) -> None:
    entry = Entry()
    orders = [order("a", OrderStatus.OPEN, 2), order("b", OrderStatus.FILLED, 1), order("c", OrderStatus.PARTIALLY_FILLED, 3)]
    panel = OrdersPanel(lambda: orders, entry, lambda: None)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.refresh()
    assert [o.client_order_id for o in panel.open_model.rows()] == ["c", "a"]
    assert [o.client_order_id for o in panel.done_model.rows()] == ["b"]
    assert panel.tabs.tabText(0) == "Open (2)"
    panel.open_table.view.selectRow(0)
    panel.cancel_selected()
    spin()
    assert entry.calls == [("cancel", "c")]


def test_trades_panel_dedupes_fills(qtbot: QtBot) -> None:
    bus = EventBus()
    panel = TradesPanel(bus)
    qtbot.addWidget(panel)
    fill = Fill(ClientOrderId("a"), "1", "t1", BTC, Side.SELL, D("0.1"), D("101"), D("0.01"), "USDT", 5)
    bus.publish(FillEvent(fill))
    bus.publish(FillEvent(fill))
    panel.refresh()
    assert panel.model.rowCount() == 1
    m = panel.model
    assert [m.data(m.index(0, c)) for c in (1, 2, 3, 4)] == ["BTCUSDT", "SELL", "0.1", "101.00"]


class Portfolio:
    def views(self, venue: Any = None) -> list[PositionView]:
        return [PositionView(BTC, Product.SPOT, D("0.5"), D("100"), D("110"), D("2"), D("5"), D("0.1"), D("5"), D("55"))]

    def totals(self, venue: Venue) -> PortfolioTotals:
        return PortfolioTotals(venue, D("2"), D("5"), D("0.1"), D("5"), D("55"), D("55"), None, Greeks(delta=37.5, theta=-120.0))


def test_positions_panel_shows_live_pnl_and_totals(qtbot: QtBot, qloop: Any, spin: Any) -> None:
    flattened: list[Any] = []

    async def flatten(iid: Any) -> None:
        flattened.append(iid)

    panel = PositionsPanel(Portfolio(), [Venue.BINANCE], flatten)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.refresh()
    m = panel.model
    assert m.data(m.index(0, 6)) == "5.00" and m.data(m.index(0, 9)) == "6.90"
    assert "net +6.90" in panel.totals.text() and "Δ +37.5" in panel.totals.text() and "Θ/day -120.0" in panel.totals.text()
    panel.table.view.selectRow(0)
    panel.exit_selected()
    spin()
    assert flattened == [BTC]


def test_funds_panel(qtbot: QtBot) -> None:
    panel = FundsPanel(lambda: [Balance(Venue.BINANCE, "USDT", D("1000"), D("50"))], lambda: {Venue.BINANCE: D("12.5")})
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.model.data(panel.model.index(0, 4)) == "1,050.0000" and "12.50" in panel.margin_label.text()


def test_risk_panel_bars_rejections_and_kill_switch(qtbot: QtBot, qloop: Any, spin: Any) -> None:
    engaged: list[bool] = []

    async def engage(flatten: bool) -> None:
        engaged.append(flatten)

    rejection = Rejection(1, "max_order_value", "1,250.00 USDT > limit 1,000.00 USDT", BTC, "BUY", D("1"), "ui")
    snap = RiskSnapshot(Venue.BINANCE, (LimitUsage("open_orders", D("9"), D("10"), "orders"),), True, False, False, (rejection,))
    panel = RiskPanel(lambda v: snap, [Venue.BINANCE], engage, lambda: None)
    qtbot.addWidget(panel)
    panel.refresh()
    _, bar, label = panel.bars[(Venue.BINANCE, "open_orders")]
    assert bar.value() == 900 and label.text() == "9.00 / 10.00 orders"
    assert "max_order_value: 1,250.00 USDT > limit 1,000.00 USDT" in panel.rejections.toPlainText()
    panel.flatten.setChecked(True)
    panel.kill.click()
    spin()
    assert engaged == [True]


def test_risk_panel_limits_read_whole_beside_long_rejections(qtbot: QtBot) -> None:
    """In the bottom dock the rejections' long lines took the splitter and cut every limit to 'BINAN'."""
    names = ("orders_per_second", "orders_per_minute", "open_orders")
    usages = tuple(LimitUsage(name, D("3"), D("20"), "orders") for name in names)
    rejection = Rejection(1, "market_protection", "ZERODHA needs market protection on MARKET orders (give a percentage, "
                          "e.g. 2, or -1 for automatic)", BTC, "BUY", D("75"), "ui")
    snaps = {v: RiskSnapshot(v, usages, False, False, False, (rejection,)) for v in (Venue.BINANCE, Venue.BINANCE_USDM)}
    panel = RiskPanel(snaps.__getitem__, [], lambda flatten: None, lambda: None)  # no venue yet: as at start-up
    qtbot.addWidget(panel)
    panel.resize(1000, 240)
    panel.show()
    qtbot.waitExposed(panel)
    panel.venues = list(snaps)
    panel.refresh()
    QApplication.processEvents()
    for name, bar, value in panel.bars.values():
        assert name.width() >= name.sizeHint().width() and value.width() >= value.sizeHint().width(), name.text()
        assert bar.width() >= 60
    assert panel.rejections.width() >= 250


def test_holdings_panel_shows_rows_and_totals(qtbot: QtBot) -> None:
    from widgets.trading.holdings import HoldingsPanel

    rows = [{"tradingsymbol": "INFY", "exchange": "NSE", "quantity": 10, "t1_quantity": 0, "average_price": 1500, "last_price": 1550.5,
             "pnl": 505, "day_change_percentage": -0.42}]
    panel = HoldingsPanel(lambda: rows)
    qtbot.addWidget(panel)
    panel.refresh()
    m = panel.model
    assert [m.data(m.index(0, c)) for c in (0, 2, 4, 5, 6, 7)] == ["INFY", "10", "1,500.00", "1,550.50", "505.00", "-0.42"]
    assert panel.totals.text() == "Invested 15,000.00   Current 15,505.00   P&L +505.00"
