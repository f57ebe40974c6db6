from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import (BookDelta, ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderType,
                         Product, Side, TimeInForce, Venue)
from core.marketdata.state import MarketState
from widgets.ticket import OrderTicket

OPT = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE"), InstrumentKind.OPTION, "NFO", D("0.05"), D("75"), min_quantity=D("75"))
BTC = Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.00001"),
                 quote_currency="USDT", min_quantity=D("0.00001"), min_notional=D("5"))


class Entry:
    def __init__(self, risk: list[str] | None = None) -> None:
        self.placed: list[OrderRequest] = []
        self.risk = risk or []

    async def place(self, request: OrderRequest) -> Order:
        self.placed.append(request)
        return Order(ClientOrderId("x"), request)

    async def cancel(self, client_order_id: str) -> None: ...
    async def modify(self, client_order_id: str, **_: Any) -> None: ...
    def working_orders(self, instrument_id: Any = None) -> list[Order]:
        return []

    def preview(self, request: OrderRequest) -> list[str]:
        return self.risk


@pytest.fixture
def market() -> MarketState:
    bus = EventBus()
    state = MarketState(bus)
    bus.publish(BookDelta(OPT.id, 0, ((D("101.00"), D("750")),), ((D("101.10"), D("600")),), 1, True))
    return state


def test_buy_one_lot_of_an_option_with_enter(qtbot: QtBot, qloop: Any, spin: Any, market: MarketState) -> None:
    entry = Entry()
    ticket = OrderTicket(entry, market)
    qtbot.addWidget(ticket)
    ticket.load(OPT, Side.BUY)
    assert ticket.price.text() == "101.00" and ticket.qty.text() == "1" and ticket.in_lots.isChecked()
    assert ticket.request().product is Product.NRML and ticket.request().time_in_force is TimeInForce.DAY
    assert "Value ≈ 7,575.00 INR" in ticket.status.text()
    qtbot.keyClick(ticket, Qt.Key.Key_Return)
    spin()
    (req,) = entry.placed
    assert (req.side, req.quantity, req.price, req.order_type) == (Side.BUY, D("75"), D("101.00"), OrderType.LIMIT)


def test_invalid_input_shows_the_reason_and_disables_send(qtbot: QtBot, qloop: Any, market: MarketState) -> None:
    entry = Entry()
    ticket = OrderTicket(entry, market)
    qtbot.addWidget(ticket)
    ticket.load(OPT, Side.SELL)
    ticket.price.setText("101.03")
    assert not ticket.send_button.isEnabled()
    assert "off the tick 0.05" in ticket.status.text()
    ticket.price.setText("10x")
    assert "price '10x' is not a number" in ticket.status.text()
    ticket.price.setText("  ")
    assert "enter a price" in ticket.status.text() and not ticket.send_button.isEnabled()
    ticket.price.setText("101.05")
    ticket.in_lots.setChecked(False)
    ticket.qty.setText("100")
    assert "not a multiple of the lot size 75" in ticket.status.text()
    with qtbot.waitSignal(ticket.failed) as failed:
        ticket.submit()
    assert "lot size" in failed.args[0] and entry.placed == []


def test_risk_verdict_is_shown_before_sending(qtbot: QtBot, qloop: Any, market: MarketState) -> None:
    entry = Entry(risk=["max_order_value: 7,575.00 INR > limit 5,000.00 INR"])
    ticket = OrderTicket(entry, market)
    qtbot.addWidget(ticket)
    ticket.load(OPT, Side.BUY)
    assert "max_order_value" in ticket.status.text() and not ticket.send_button.isEnabled()


def test_stop_market_needs_trigger_not_price_and_crypto_has_post_only(qtbot: QtBot, qloop: Any, market: MarketState) -> None:
    ticket = OrderTicket(Entry(), market)
    qtbot.addWidget(ticket)
    ticket.load(BTC, Side.SELL, price=D("90000"))
    assert [ticket.validity.itemText(i) for i in range(ticket.validity.count())] == ["GTC", "IOC", "FOK", "Post-only"]
    assert ticket.in_lots.isHidden()
    ticket.type_box.setCurrentIndex(ticket.type_box.findData(OrderType.STOP_MARKET.value))
    assert not ticket.price.isEnabled() and ticket.trigger.isEnabled()
    ticket.qty.setText("0.001")
    ticket.trigger.setText("89000")
    req = ticket.request()
    assert req.price is None and req.trigger_price == D("89000") and req.order_type is OrderType.STOP_MARKET
