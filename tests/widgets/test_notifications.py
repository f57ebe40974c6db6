"""Toasts: which events notify, what they say, and how the overlay stacks and limits them."""
from __future__ import annotations

import logging
from decimal import Decimal as D

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from core.bus import EventBus
from core.domain import ClientOrderId, Fill, InstrumentId, Order, OrderRequest, OrderStatus, OrderType, OrderUpdated, Side, Venue
from core.risk.engine import Rejection, RiskRejection
from core.trading.events import FillApplied, KillSwitchChanged
from widgets.notifications import Level, Notice, Notifier, ToastArea, notice_for

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


def order(status: OrderStatus, filled: str = "0", reason: str = "") -> Order:
    request = OrderRequest(BTC, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("50000.00"))
    return Order(ClientOrderId("c1"), request, status=status, filled_quantity=D(filled), reject_reason=reason)


def fill(qty: str) -> Fill:
    return Fill(ClientOrderId("c1"), "v1", "t1", BTC, Side.BUY, D(qty), D("50000.00"))


def test_a_full_fill_and_a_partial_fill_say_so() -> None:
    full = notice_for(FillApplied(fill("0.010"), order(OrderStatus.FILLED, "0.010")))
    part = notice_for(FillApplied(fill("0.004"), order(OrderStatus.PARTIALLY_FILLED, "0.004")))
    assert full == Notice(Level.SUCCESS, "BUY BTCUSDT filled", "0.01 @ 50000.00 on BINANCE")
    assert part is not None and part.title == "BUY BTCUSDT part-filled 0.004/0.01"


def test_a_rejection_carries_the_venue_reason_once() -> None:
    rejected = order(OrderStatus.REJECTED, reason="price outside the band")
    notice = notice_for(OrderUpdated(rejected, OrderStatus.PENDING_NEW))
    assert notice is not None and notice.level is Level.ERROR and notice.text == "price outside the band"
    assert notice_for(OrderUpdated(rejected, OrderStatus.REJECTED)) is None  # a replayed update does not repeat it
    assert notice_for(OrderUpdated(order(OrderStatus.OPEN), OrderStatus.PENDING_NEW)) is None  # routine


def test_risk_and_kill_switch_events_notify() -> None:
    rejection = Rejection(1, "max_order_value", "order value 60000 > limit 50000", BTC, "BUY", D("1.2"), "ticket")
    risk = notice_for(RiskRejection(rejection))
    assert risk == Notice(Level.WARNING, "Risk blocked BUY BTCUSDT", "max_order_value: order value 60000 > limit 50000")
    engaged = notice_for(KillSwitchChanged(True, "hotkey", 1))
    assert engaged is not None and engaged.level is Level.ERROR and "KILL SWITCH" in engaged.title
    rearmed = notice_for(KillSwitchChanged(False, "", 2))
    assert rearmed is not None and rearmed.level is Level.INFO


def test_notifier_routes_bus_events_to_the_log_and_the_toasts(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "notifications")
    bus = EventBus()
    shown: list[Notice] = []
    notifier = Notifier(bus, shown.append)
    bus.publish(FillApplied(fill("0.010"), order(OrderStatus.FILLED, "0.010")))
    bus.publish(OrderUpdated(order(OrderStatus.OPEN), OrderStatus.PENDING_NEW))
    assert [n.title for n in shown] == ["BUY BTCUSDT filled"]
    assert "BUY BTCUSDT filled" in caplog.text
    notifier.close()
    bus.publish(KillSwitchChanged(True, "x", 3))
    assert len(shown) == 1


def shown_host(qtbot: QtBot) -> QWidget:
    host = QWidget()
    host.resize(1200, 800)
    qtbot.addWidget(host)
    host.show()
    return host


def test_toast_area_stacks_newest_first_and_keeps_a_limit(qtbot: QtBot) -> None:
    host = shown_host(qtbot)
    area = ToastArea(host, limit=3)
    for i in range(5):
        area.show_notice(Notice(Level.INFO, f"n{i}", "text"))
    assert [t.notice.title for t in area.toasts()] == ["n4", "n3", "n2"]
    qtbot.waitUntil(lambda: all(t.y() < u.y() for t, u in zip(area.toasts(), area.toasts()[1:])))  # newest on top
    assert area.geometry().right() <= host.width() and area.x() > host.width() // 2  # top-right corner
    newest = area.toasts()[0]
    qtbot.mouseClick(newest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: newest not in area.toasts())
    assert [t.notice.title for t in area.toasts()] == ["n3", "n2"]


def test_toast_area_covers_only_its_toasts_and_hides_when_empty(qtbot: QtBot) -> None:
    host = shown_host(qtbot)
    area = ToastArea(host, limit=3)
    assert not area.isVisible()  # nothing to show: nothing covers the panels
    area.show_notice(Notice(Level.INFO, "filled", "BUY 1 BTCUSDT"))
    toast = area.toasts()[0]
    qtbot.waitUntil(lambda: area.isVisible() and toast.isVisible())
    assert area.height() <= toast.sizeHint().height() + 2
    below = area.geometry().bottomLeft() + QPoint(20, 40)
    assert host.childAt(below) is None  # a click under the toast reaches the panel there
    qtbot.mouseClick(toast, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not area.isVisible())
