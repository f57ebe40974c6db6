"""The real window on the emulator, driven like a trader: keys and clicks, orders through the whole path.

Each test starts the demo terminal (window, engine, emulator process) and drives it: the keyboard-only
NIFTY option scenario, clicks on the BTCUSDT ladder, and every hotkey of the keymap.
"""
from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from core.domain import InstrumentId, InstrumentKind, Order, OrderStatus, Side, Venue
from core.trading.stack import TradingStack
from terminal.app import Terminal
from terminal.layout import chart_documents, size_default_layout
from terminal.settings import Settings
from widgets.keymap import ACTIONS
from widgets.log_panel import QtLogHandler

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


@dataclass
class Running:
    terminal: Terminal

    @staticmethod
    async def wait(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> None:
        """Let the loop run (feeds, orders, timers) until the predicate holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not met within {timeout} s")
            await asyncio.sleep(0.05)

    @property
    def stack(self) -> TradingStack:
        assert self.terminal.engine.stack is not None
        return self.terminal.engine.stack

    def acknowledged(self, cid: str) -> bool:
        """True once the OMS would accept a modify (the venue has answered the placement)."""
        try:
            self.stack.oms.modifiable(cid)
        except Exception:
            return False
        return self.order(cid).status is OrderStatus.OPEN

    def order(self, cid: str) -> Order:
        found = self.stack.oms.order(cid)  # type: ignore[arg-type]
        assert found is not None
        return found


def run_terminal(loop: qasync.QEventLoop, root: Path, scenario: Callable[[Running], Coroutine[Any, Any, None]]) -> None:
    """Start the demo terminal, run the scenario, shut down: all inside one run of the loop.

    The loop keeps running while anything is in flight: Qt events processed while it is stopped (as
    pytest-qt does between tests) would run asyncio callbacks with no running loop.
    """

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as the terminal does: it quits after its async shutdown

    async def main() -> None:
        settings = Settings.load(root / "settings.toml", root / "data")
        terminal = Terminal(settings, settings.profile("demo"), QtLogHandler())
        window = terminal.window = terminal.build_window()
        window.show()
        window.activateWindow()
        size_default_layout(window)
        ready: list[bool] = []
        terminal.engine.on_ready.append(lambda: ready.append(True))
        running = Running(terminal)
        try:
            await terminal.engine.start(subscribe=[BTC])
            await running.wait(lambda: ready and terminal.engine.market.last_price(BTC) is not None, what="engine ready")
            await scenario(running)
        finally:
            window.close()
            await terminal.shutdown()
            window.deleteLater()  # delete the window now, on the loop, not whenever the garbage collector runs
            await asyncio.sleep(0.1)

    loop.run_until_complete(main())
    gc.collect()


def press(qtbot: QtBot, sequence: str) -> None:
    """Type a key sequence ("Ctrl+Shift+K", "F1") at the widget that has the keyboard."""
    combo = QKeySequence(sequence)[0]
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def type_text(qtbot: QtBot, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


def has_focus_in(widget: QWidget) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


def test_keyboard_only_buy_modify_cancel_and_kill_a_nifty_option(qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path) -> None:
    run_terminal(qloop, tmp_path, lambda running: keyboard_only_nifty_option(running, qtbot))


async def keyboard_only_nifty_option(running: Running, qtbot: QtBot) -> None:
    t = running.terminal
    panels, window = t.panels, t.window
    assert panels is not None and window is not None
    catalog = t.engine.catalog
    nifty_calls = sorted((i for i in catalog if i.kind is InstrumentKind.OPTION and i.underlying == "NIFTY"
                          and i.strike == D(25000) and i.right is not None and i.right.value == "CE"), key=lambda i: i.expiry)
    assert nifty_calls, "the emulator lists NIFTY 25000 CE"
    target = nifty_calls[0]  # the next expiry

    press(qtbot, "Ctrl+K")  # search
    assert QApplication.focusWidget() is panels.watchlist.search.edit
    type_text(qtbot, "nifty 25000 ce")
    assert panels.watchlist.search.results[0].id == target.id  # the nearest expiry ranks first
    press(qtbot, "Return")  # add it to the watchlist, keyboard on its row
    assert panels.watchlist.table.current_row().instrument_id == target.id
    await running.wait(lambda: t.engine.market.last_price(target.id) is not None, what="option quotes")

    press(qtbot, "F1")  # buy ticket
    ticket = panels.ticket
    assert window.docks["ticket"].isVisible() and ticket.instrument == target and ticket.side is Side.BUY
    assert QApplication.focusWidget() is ticket.qty
    quote = t.engine.market.last_price(target.id)
    assert quote is not None
    passive = max(target.tick_size, (quote * D("0.97") / target.tick_size).quantize(D(1)) * target.tick_size)
    ticket.in_lots.setChecked(True)
    type_text(qtbot, "1")  # one lot
    press(qtbot, "Tab")
    ticket.price.setFocus()
    ticket.price.selectAll()
    type_text(qtbot, f"{passive:f}")
    await running.wait(lambda: ticket.send_button.isEnabled(), what=f"ticket ready ({ticket.status.text()})")
    press(qtbot, "Return")  # send
    await running.wait(lambda: len(t.engine.entry.working_orders(target.id)) == 1, what="order working")
    placed = t.engine.entry.working_orders(target.id)[0]
    assert placed.quantity == target.lot_size and placed.side is Side.BUY and placed.price == passive
    await running.wait(lambda: running.acknowledged(placed.client_order_id), what="order acknowledged")

    press(qtbot, "Alt+4")  # orders panel
    orders = panels.orders
    await running.wait(lambda: orders.open_model.rowCount() == 1, what="order listed")
    orders.open_table.view.setFocus()
    press(qtbot, "Down")
    assert orders.open_table.current_row().client_order_id == placed.client_order_id
    press(qtbot, "M")  # modify box
    box = orders.modify_box
    assert box is not None and box.isVisible()
    lower = passive - target.tick_size
    box.setTextValue(f"{lower:f}")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    await running.wait(lambda: running.order(placed.client_order_id).price == lower, what="modified price")

    window.activateWindow()  # the modify box has closed: the window has the keyboard again
    await running.wait(lambda: window.isActiveWindow(), what="window active")
    orders.open_table.view.setFocus()
    orders.open_table.select_key(placed.client_order_id)
    press(qtbot, "Delete")  # cancel
    await running.wait(lambda: running.order(placed.client_order_id).status is OrderStatus.CANCELLED, what="cancelled")

    press(qtbot, "Ctrl+Shift+K")  # kill switch
    await running.wait(lambda: running.stack.kill_switch.engaged, what="kill switch engaged")
    await running.wait(lambda: any("KILL SWITCH" in toast.notice.title for toast in panels.toasts.toasts()), what="kill toast")
    assert has_focus_in(panels.risk)
    running.stack.kill_switch.rearm()
    assert not running.stack.kill_switch.engaged


def test_ladder_clicks_buy_modify_and_cancel_btcusdt_on_the_emulator(qloop: qasync.QEventLoop, qtbot: QtBot,
                                                                     tmp_path: Path) -> None:
    run_terminal(qloop, tmp_path, lambda running: ladder_clicks(running, qtbot))


async def ladder_clicks(running: Running, qtbot: QtBot) -> None:
    t = running.terminal
    assert t.panels is not None
    book = t.panels.book
    await running.wait(lambda: book.ladder.rows > 20, what="a tall ladder in the default layout")
    book.show_instrument(BTC)
    await running.wait(lambda: t.engine.market.book(BTC).view(1).best_bid is not None, what="BTCUSDT book")
    book.group_box.setCurrentIndex(5)  # the trader picks 5-dollar rows (500 ticks): orders rest away from the touch
    ladder = book.ladder
    book.qty_edit.setText("0.002")

    def row_of(price: D) -> int:
        row = ladder.model.row_of(price, ladder.rows)
        assert row is not None, f"{price} is on the ladder"
        return row

    best_bid = t.engine.market.book(BTC).view(1).best_bid
    assert best_bid is not None
    book.refresh()
    book._centre()
    bid_row = row_of(ladder.model.bucket(best_bid))
    assert bid_row + 8 < ladder.rows, f"{ladder.rows} rows leave room below the touch"
    price = ladder.model.price_at(bid_row + 4, ladder.rows)  # a passive buy four rows down, inside the price band
    assert price is not None and price < best_bid
    step = price - ladder.model.price_at(bid_row + 5, ladder.rows)  # one row of the ladder (ticks x grouping)
    qtbot.mouseClick(ladder, Qt.MouseButton.LeftButton, pos=ladder.cell_center(row_of(price), 1))  # bid column
    await running.wait(lambda: len(t.engine.entry.working_orders(BTC)) == 1, what="ladder order working")
    order = t.engine.entry.working_orders(BTC)[0]
    assert (order.side, order.price, order.quantity) == (Side.BUY, price, D("0.002"))
    await running.wait(lambda: running.acknowledged(order.client_order_id), what="acknowledged")
    await running.wait(lambda: [o.price for o in ladder.model.orders] == [price], what="the ladder draws the order")

    lower = price - 3 * step  # drag the order three rows down
    start, end = ladder.cell_center(row_of(price), 0), ladder.cell_center(row_of(lower), 0)
    qtbot.mousePress(ladder, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(ladder, end)
    qtbot.mouseRelease(ladder, Qt.MouseButton.LeftButton, pos=end)
    await running.wait(lambda: running.order(order.client_order_id).price == lower, what="dragged to the new price")

    await running.wait(lambda: [o.price for o in ladder.model.orders] == [lower], what="the ladder draws the order there")
    qtbot.mouseClick(ladder, Qt.MouseButton.LeftButton, pos=ladder.cell_center(row_of(lower), 0))  # click own order
    await running.wait(lambda: running.order(order.client_order_id).status is OrderStatus.CANCELLED, what="cancelled")
    assert t.engine.entry.working_orders(BTC) == []


def test_every_hotkey_does_its_job_in_the_window(qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path) -> None:
    run_terminal(qloop, tmp_path, lambda running: every_hotkey(running, qtbot))


async def every_hotkey(running: Running, qtbot: QtBot) -> None:
    t = running.terminal
    panels, window = t.panels, t.window
    assert panels is not None and window is not None
    done: set[str] = set()

    def key_of(action: str) -> str:
        done.add(action)
        return next(a.defaults[0] for a in ACTIONS if a.name == action)

    for action, where in (("focus_watchlist", panels.watchlist), ("focus_book", panels.book), ("focus_orders", panels.orders),
                          ("focus_positions", panels.positions)):
        press(qtbot, key_of(action))
        assert has_focus_in(where), action
    await running.wait(lambda: len(chart_documents(window)) == 2, what="the default charts")
    press(qtbot, key_of("focus_chart"))
    chart = chart_documents(window)[0]
    assert window.workspace.currentWidget() is chart
    await running.wait(lambda: chart.instrument is not None and chart.instrument.id == BTC and len(chart.chart.series) > 100,
                       what="BTCUSDT candles")
    press(qtbot, key_of("focus_chain"))
    assert window.workspace.currentWidget() is panels.chain
    press(qtbot, key_of("focus_search"))
    assert QApplication.focusWidget() is panels.watchlist.search.edit
    type_text(qtbot, "btc")
    press(qtbot, key_of("close_ticket"))  # Esc in the search box clears it and closes nothing
    assert panels.watchlist.search.edit.text() == "" and window.docks["ticket"].isVisible()

    watch = panels.watchlist
    watch.table.select_key(BTC)
    watch.table.view.setFocus()
    first = watch.table.current_row().instrument_id
    press(qtbot, key_of("next_instrument"))
    second = watch.table.current_row().instrument_id
    assert second != first
    press(qtbot, key_of("prev_instrument"))
    assert watch.table.current_row().instrument_id == first

    press(qtbot, key_of("buy_ticket"))
    ticket = panels.ticket
    assert window.docks["ticket"].isVisible() and ticket.side is Side.BUY and ticket.instrument is not None
    assert ticket.instrument.id == BTC and has_focus_in(ticket)
    press(qtbot, key_of("sell_ticket"))  # inside the ticket: switch its side, keep its instrument
    assert ticket.side is Side.SELL and ticket.instrument.id == BTC
    press(qtbot, key_of("close_ticket"))
    assert not window.docks["ticket"].isVisible() and has_focus_in(watch)

    book = panels.book
    book.show_instrument(BTC)
    model = book.ladder.model
    await running.wait(lambda: model.centre is not None and model.last_price is not None, what="ladder with a last trade")
    model.scroll(200)
    last_trade = model.last_price
    assert last_trade is not None and model.row_of(last_trade, book.ladder.rows) is None  # scrolled away
    press(qtbot, key_of("centre_ladder"))
    assert model.row_of(last_trade, book.ladder.rows) == book.ladder.rows // 2  # centred on the last trade

    last = t.engine.market.last_price(BTC)
    assert last is not None
    from core.domain import OrderRequest, OrderType, TimeInForce
    far = (last * D("0.97")).quantize(D("0.01"))
    placed = [await t.engine.entry.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price=far - i,
                                                      time_in_force=TimeInForce.GTC)) for i in range(2)]
    await running.wait(lambda: all(running.acknowledged(o.client_order_id) for o in placed), what="two resting orders")
    press(qtbot, key_of("cancel_all"))
    await running.wait(lambda: all(running.order(o.client_order_id).status is OrderStatus.CANCELLED for o in placed),
                       what="cancel all")

    press(qtbot, key_of("kill_switch"))
    await running.wait(lambda: running.stack.kill_switch.engaged, what="kill switch")
    assert has_focus_in(panels.risk)
    running.stack.kill_switch.rearm()

    press(qtbot, key_of("help"))
    help_dialog = panels.extra["help"]
    assert help_dialog.isVisible() and help_dialog.table.rowCount() >= len(ACTIONS)  # type: ignore[attr-defined]
    help_dialog.close()
    assert done == {a.name for a in ACTIONS}
