"""Builds the panels of the main window from the engine, and binds the keymap's actions to them.

Default layout: watchlist and order book on the left; chart, option chain and strategy builder tabbed
in the centre; the order ticket on the right; orders, positions, trades, funds, risk, strategies,
console and log tabbed along the bottom. The user's own layout (saved per profile) replaces it.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from core import options
from core.chain.model import OptionChainModel
from core.domain import InstrumentId, Side, Venue
from widgets.chain.builder import StrategyBuilder
from widgets.chart.depth_chart import DepthChart
from widgets.chart.time_axis import UTC, venue_tz
from widgets.chart.time_sales import TimeAndSalesPanel
from widgets.chain.panel import OptionChainPanel
from widgets.keymap import ACTIONS, Keymap
from widgets.keymap_dialog import HotkeyHelp, KeymapDialog
from widgets.ladder.panel import OrderBookPanel
from widgets.lazy_panel import LazyPanel
from widgets.log_panel import LogPanel, QtLogHandler
from widgets.notifications import Notifier, ToastArea
from widgets.strategy_panel import StrategyPanel
from widgets.ticket import OrderTicket
from widgets.trading.holdings import HoldingsPanel
from widgets.trading.orders import OrdersPanel, TradesPanel
from widgets.trading.positions import FundsPanel, PositionsPanel
from widgets.trading.risk import RiskPanel
from widgets.watchlist import WatchlistPanel

from .charts import ChartDocument, load_chart_specs, save_chart_specs
from .engine import Engine
from .main_window import MainWindow

if TYPE_CHECKING:
    from widgets.backtest import BacktestPanel

log = logging.getLogger(__name__)
Left, Right, Bottom = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea


@dataclass
class Panels:
    """The panels of a window, for hotkeys, tests and the screenshot."""

    watchlist: WatchlistPanel
    book: OrderBookPanel
    ticket: OrderTicket
    orders: OrdersPanel
    positions: PositionsPanel
    risk: RiskPanel
    builder: StrategyBuilder
    chain: OptionChainPanel
    strategies: StrategyPanel
    log: LogPanel
    toasts: ToastArea
    notifier: Notifier
    backtest: LazyPanel[BacktestPanel]  # built when its tab is first shown
    extra: dict[str, QWidget] = field(default_factory=dict)


def default_watchlists() -> dict[str, list[InstrumentId]]:
    z, b = Venue.ZERODHA, Venue.BINANCE
    return {
        "Crypto": [InstrumentId(b, s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")] + [InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")],
        "NSE": [InstrumentId(z, s) for s in ("NIFTY 50", "NIFTY BANK", "RELIANCE", "INFY", "HDFCBANK", "TCS", "SBIN")],
    }


def option_chains(engine: Engine) -> dict[str, OptionChainModel]:
    """Chain models of the Indian index options (they fill in once Kite instruments load)."""
    z = Venue.ZERODHA
    return {name: OptionChainModel(engine.catalog, name, InstrumentId(z, index), lambda e: options.years_to_expiry(e))
            for name, index in (("NIFTY", "NIFTY 50"), ("BANKNIFTY", "NIFTY BANK"))}


def build_panels(window: MainWindow, engine: Engine, keymap: Keymap, log_handler: QtLogHandler) -> Panels:
    """Create every panel, dock it, and bind hotkeys."""
    data_dir = engine.data_dir
    rate = engine.settings.frame_rate_hz
    watch = WatchlistPanel(engine.catalog, engine.market, data_dir / "watchlists.json", default_watchlists())
    book = OrderBookPanel(engine.market, engine.entry, [], frame_hz=rate)
    ticket = OrderTicket(engine.entry, engine.market, confirm=engine.profile.confirm_orders)
    builder = StrategyBuilder(engine.catalog, engine.entry, margin_quote=engine.basket_margin)
    chain = OptionChainPanel(option_chains(engine), engine.market)
    orders = OrdersPanel(lambda: engine.stack.oms.orders() if engine.stack else [], engine.entry,
                         lambda: engine.stack.api.cancel_all() if engine.stack else None)
    positions = PositionsPanel(_Lazy(engine, "portfolio"), [],
                               lambda iid: engine.stack.api.flatten(iid) if engine.stack else _not_ready())
    trades = TradesPanel(engine.bus)
    funds = FundsPanel(lambda: engine.balances, lambda: {})
    risk = RiskPanel(lambda v: engine.stack.risk.snapshot(v) if engine.stack else None, [],  # type: ignore[arg-type, return-value]
                     lambda flatten: engine.stack.kill_switch.engage(flatten=flatten) if engine.stack else None,
                     lambda: engine.stack.kill_switch.rearm() if engine.stack else None)
    strategies = StrategyPanel(_Lazy(engine, "strategies"), _strategy_dir())
    log_panel = LogPanel(log_handler)

    corner, area = Qt.Corner, Qt.DockWidgetArea  # side columns run the full height; bottom tabs sit between them
    for c, a in ((corner.TopLeftCorner, Left), (corner.BottomLeftCorner, Left), (corner.TopRightCorner, Right),
                 (corner.BottomRightCorner, Right)):
        window.setCorner(c, a)
    window.add_panel("watchlist", "Watchlist", watch, Left)
    window.add_panel("book", "Order book", book, Left)
    window.add_document("chain", "Option chain", chain)
    window.add_document("builder", "Strategy builder", builder)

    async def history(iid: InstrumentId, timeframe: str, bars: int) -> Any:
        if engine.bars is None:
            raise RuntimeError("the trading engine is still starting")
        return await engine.bars.load(iid, timeframe, bars)

    def backtest_panel() -> BacktestPanel:
        from widgets.backtest import BacktestPanel  # with core.backtest, ~0.1 s: not on the way to the first book

        return BacktestPanel(_strategy_dir(), engine.catalog.find, load_bars=history)

    backtest: LazyPanel[BacktestPanel] = LazyPanel(backtest_panel)
    window.add_document("backtest", "Backtest", backtest)
    window.add_panel("ticket", "Order ticket", ticket, Right)
    depth = DepthChart(engine.market)
    tape = TimeAndSalesPanel(engine.market, None, UTC)
    window.add_panel("tape", "Time and sales", tape, Right)
    window.add_panel("depth", "Depth", depth, Right, tabify_with="tape")
    window.docks["tape"].raise_()
    book.instrument_changed.connect(lambda inst: (depth.set_instrument(inst.id), tape.set_instrument(inst, venue_tz(inst.id.venue))))
    window.add_panel("orders", "Orders", orders, Bottom)
    window.add_panel("positions", "Positions", positions, Bottom, tabify_with="orders")
    window.add_panel("trades", "Trades", trades, Bottom, tabify_with="orders")
    window.add_panel("holdings", "Holdings", HoldingsPanel(lambda: engine.holdings), Bottom, tabify_with="orders")
    window.add_panel("funds", "Funds", funds, Bottom, tabify_with="orders")
    window.add_panel("risk", "Risk", risk, Bottom, tabify_with="orders")
    window.add_panel("strategies", "Strategies", strategies, Bottom, tabify_with="orders")
    window.add_panel("log", "Log", log_panel, Bottom, tabify_with="orders")
    window.docks["orders"].raise_()
    toasts = ToastArea(window)
    notifier = Notifier(engine.bus, toasts.show_notice, sound=bool(engine.profile.options.get("notification_sound", False)))
    panels = Panels(watch, book, ticket, orders, positions, risk, builder, chain, strategies, log_panel, toasts, notifier, backtest)

    charts_path = data_dir / "charts.json"
    window.before_save.append(lambda: save_chart_specs(charts_path, chart_documents(window)))

    def restore_charts() -> None:
        for spec in load_chart_specs(charts_path):
            try:
                iid = InstrumentId.parse(str(spec["instrument"]))
            except (KeyError, ValueError) as exc:
                log.warning("skipping saved chart %r: %s", spec, exc)
                continue
            if iid in engine.catalog:
                open_chart(window, engine, iid, str(spec.get("timeframe", "1m")), list(spec.get("studies", [])))
        if chart_documents(window):
            window.workspace.setCurrentWidget(chart_documents(window)[0])

    def on_ready() -> None:
        # the ladder first: its book is there already and it repaints at once; building the charts
        # (about 0.1 s) waits for the next turn of the loop, so it no longer holds up that paint
        instruments = list(engine.catalog)
        book.set_instruments([i for i in instruments if i.id.venue is not Venue.ZERODHA or i.kind.value in ("equity", "future")]
                             or instruments)
        positions.venues = list(engine.venues)
        risk.venues = list(engine.venues)
        watch.refresh()
        chain.reload_expiries()
        derivatives = [i.id for i in engine.catalog if i.underlying in chain.chains and i.kind.value in ("option", "future")]
        asyncio.ensure_future(engine.subscribe(derivatives))
        if book.instrument is not None:
            ticket.load(book.instrument, Side.BUY)
        asyncio.get_running_loop().call_soon(restore_charts)

    engine.on_ready.append(on_ready)
    watch.open_ticket.connect(lambda iid, side: open_ticket(window, panels, engine, iid, side))
    watch.selected.connect(lambda iid: book.show_instrument(iid) if iid in book.instruments else None)
    ticket.closed.connect(lambda: window.docks["ticket"].hide())
    chain.ticket_requested.connect(lambda iid, side, price: open_ticket(window, panels, engine, iid, side, price))
    chain.legs_picked.connect(lambda iid, side: _safe_leg(builder, iid, side))
    chain.table.model().modelReset.connect(lambda: builder.set_snapshot(chain.snapshot))
    watch.open_chain.connect(lambda iid: window.focus_panel("chain"))
    watch.open_chart.connect(lambda iid: open_chart(window, engine, iid))
    bind_hotkeys(window, panels, engine, keymap)
    return panels


def chart_documents(window: MainWindow) -> list[ChartDocument]:
    """The open chart tabs, in tab order."""
    tabs = window.workspace
    docs = [tabs.widget(i) for i in range(tabs.count())]
    return [d for d in docs if isinstance(d, ChartDocument)]


def open_chart(window: MainWindow, engine: Engine, iid: InstrumentId, timeframe: str = "1m",
               studies: list[str] | None = None) -> ChartDocument:
    """Focus the chart of an instrument, or open a new chart tab for it in front."""
    for doc in chart_documents(window):
        if doc.instrument is not None and doc.instrument.id == iid:
            window.workspace.setCurrentWidget(doc)
            return doc
    doc = ChartDocument(engine, min(10.0, engine.settings.frame_rate_hz))  # candles need no more; axes are costly
    key = "chart" if "chart" not in window.documents else f"chart:{id(doc)}"
    window.add_document(key, iid.symbol, doc, closable=True, index=len(chart_documents(window)))  # charts lead the tabs
    doc.on_title = lambda title: window.workspace.setTabText(window.workspace.indexOf(doc), title)
    if studies:
        doc.chart.restore_studies(studies)
    doc.spawn(doc.show(iid, timeframe))
    window.workspace.setCurrentWidget(doc)
    return doc


def size_default_layout(window: MainWindow) -> None:
    """Proportions of the default layout (applied once the window is shown; a saved layout wins).

    Left column: watchlist over a tall ladder; right column: the ticket; centre: the document tabs
    (charts, chain, builder) over the orders, positions and other bottom tabs.
    """
    d = window.docks
    w, h = window.width(), window.height()
    window.resizeDocks([d["watchlist"], d["ticket"]], [int(w * 0.25), int(w * 0.19)], Qt.Orientation.Horizontal)
    window.resizeDocks([d["watchlist"], d["book"]], [int(h * 0.36), int(h * 0.64)], Qt.Orientation.Vertical)
    window.resizeDocks([d["ticket"], d["tape"]], [int(h * 0.45), int(h * 0.55)], Qt.Orientation.Vertical)
    window.resizeDocks([d["orders"]], [int(h * 0.34)], Qt.Orientation.Vertical)


def _safe_leg(builder: StrategyBuilder, iid: InstrumentId, side: Side) -> None:
    try:
        builder.add_leg(iid, side)
    except (ValueError, KeyError) as exc:
        log.warning("cannot add leg %s: %s", iid, exc)


def open_ticket(window: MainWindow, panels: Panels, engine: Engine, iid: InstrumentId, side: Side, price: Any = None) -> None:
    """Show the ticket for an instrument and side, focused and ready for Enter."""
    inst = engine.catalog.find(iid)
    if inst is None or not inst.tradable:
        log.warning("%s cannot be traded", iid)
        return
    panels.ticket.load(inst, side, price)
    window.focus_panel("ticket")
    panels.ticket.qty.setFocus()
    panels.ticket.qty.selectAll()


def bind_hotkeys(window: MainWindow, panels: Panels, engine: Engine, keymap: Keymap) -> dict[str, QAction]:
    """Create one window-wide QAction per keymap action; return them by name."""

    def ticket(side: Side) -> None:
        focus = QApplication.focusWidget()
        if panels.ticket.instrument is not None and focus is not None and panels.ticket.isAncestorOf(focus):
            panels.ticket.set_side(side)  # in the ticket, F1/F2 switch its side; they never swap its instrument
            return
        row = panels.watchlist.table.current_row()
        iid = row.instrument_id if row is not None else (panels.book.instrument.id if panels.book.instrument else None)
        if iid is not None:
            open_ticket(window, panels, engine, iid, side)

    def step_instrument(delta: int) -> None:
        view = panels.watchlist.table.view
        count = panels.watchlist.table.proxy.rowCount()
        if count:
            row = (max(view.currentIndex().row(), 0) + delta) % count
            view.setCurrentIndex(panels.watchlist.table.proxy.index(row, 0))
            panels.watchlist._emit_selected()

    def focus_chart() -> None:
        charts = chart_documents(window)
        if charts:
            window.workspace.setCurrentWidget(charts[0])
            charts[0].chart.setFocus()

    def close_ticket() -> None:
        """Esc: close the ticket when it has the keyboard, else clear the search box; nothing else."""
        focus = QApplication.focusWidget()
        if focus is not None and panels.ticket.isAncestorOf(focus):
            window.docks["ticket"].hide()
            panels.watchlist.table.view.setFocus()
        elif focus is panels.watchlist.search.edit:
            panels.watchlist.search.edit.clear()

    def cancel_all() -> None:
        if engine.stack is not None:
            asyncio.ensure_future(engine.stack.api.cancel_all())

    def kill() -> None:
        if engine.stack is not None:
            asyncio.ensure_future(engine.stack.kill_switch.engage(flatten=panels.risk.flatten.isChecked()))
            window.focus_panel("risk")

    handlers = {
        "buy_ticket": lambda: ticket(Side.BUY),
        "sell_ticket": lambda: ticket(Side.SELL),
        "close_ticket": close_ticket,
        "cancel_all": cancel_all,
        "kill_switch": kill,
        "focus_watchlist": lambda: window.focus_panel("watchlist"),
        "focus_book": lambda: window.focus_panel("book"),
        "focus_chart": focus_chart,
        "focus_orders": lambda: window.focus_panel("orders"),
        "focus_positions": lambda: window.focus_panel("positions"),
        "focus_chain": lambda: window.focus_panel("chain"),
        "focus_search": lambda: (window.focus_panel("watchlist"), panels.watchlist.search.edit.setFocus()),
        "next_instrument": lambda: step_instrument(1),
        "prev_instrument": lambda: step_instrument(-1),
        "centre_ladder": lambda: panels.book._centre(),
        "help": lambda: show_help(),
    }

    def show_help() -> None:
        extra = [("Ladder: centre on last", "C"), ("Ladder: scroll", "Up / Down / PgUp / PgDn"),
                 ("Watchlist: ticket / chart / chain / remove", "Enter / C / O / Delete"),
                 ("Orders: cancel / modify the selected order", "Delete / M or Enter")]
        dialog = HotkeyHelp(keymap, extra, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        panels.extra["help"] = dialog
        dialog.open()  # not modal to the loop: feeds keep running while it is shown

    actions: dict[str, QAction] = {}
    menu = window.menuBar().addMenu("&Trade")
    for action in ACTIONS:
        qaction = QAction(action.label, window)
        qaction.setShortcuts([QKeySequence(k) for k in keymap.keys(action.name)])
        qaction.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        qaction.triggered.connect(handlers[action.name])
        window.addAction(qaction)
        menu.addAction(qaction)
        actions[action.name] = qaction
    edit = QAction("Edit hotkeys…", window)
    edit.triggered.connect(lambda: _edit_keymap(window, keymap, actions, engine.data_dir / "keymap.json"))
    window.help_menu.addAction(edit)
    window.help_menu.addAction(actions["help"])
    return actions


def _edit_keymap(window: MainWindow, keymap: Keymap, actions: dict[str, QAction], path: Path) -> None:
    dialog = KeymapDialog(keymap, window)
    if dialog.exec():
        keymap.bindings = dict(dialog.keymap.bindings)
        keymap.save(path)
        for name, qaction in actions.items():
            qaction.setShortcuts([QKeySequence(k) for k in keymap.keys(name)])


class _Lazy:
    """Forwards attribute reads to an engine part that exists only once the engine has started."""

    def __init__(self, engine: Engine, part: str) -> None:
        self._engine, self._part = engine, part

    def _target(self) -> Any:
        if self._part == "portfolio":
            return self._engine.stack.portfolio if self._engine.stack else None
        return getattr(self._engine, self._part)

    def __getattr__(self, name: str) -> Any:
        target = self._target()
        if target is None:
            return _EMPTY.get(name, lambda *a, **k: [])
        return getattr(target, name)


_EMPTY: dict[str, Any] = {"records": {}, "host_state": "starting", "restarts": 0}


async def _not_ready() -> None:
    raise RuntimeError("the trading engine is still starting")


def _strategy_dir() -> Path:
    return Path(str(resources.files("resources").joinpath("strategies")))
