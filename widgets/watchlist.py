"""Market watch: several named lists of instruments with live prices, saved per profile.

Keys on a row: Enter or F1 / Shift+B buy ticket, F2 / Shift+S sell ticket, C chart, O option chain,
Delete removes. The panel only emits what the user asked for; the terminal opens the panels.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QPushButton, QTabBar, QVBoxLayout, QWidget

from core.domain import InstrumentId, Side
from core.instruments import InstrumentCatalog
from core.marketdata.state import MarketState

from .frame_timer import frame_timer
from .instrument_label import instrument_label
from .instrument_search import InstrumentSearch
from .table import Align, Column, DataTable, RowTableModel, fmt_number, signed_color

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchRow:
    instrument_id: InstrumentId
    decimals: int
    ltp: Decimal | None
    change: Decimal | None
    change_pct: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    volume: Decimal | None
    oi: Decimal | None
    stale: bool


def _px(attr: str) -> Column[WatchRow]:
    return Column(attr.upper() if attr != "ltp" else "LTP", lambda r: getattr(r, attr),
                  lambda r: fmt_number(getattr(r, attr), r.decimals), Align.RIGHT, flash=attr == "ltp")


COLUMNS: list[Column[WatchRow]] = [
    Column("Instrument", lambda r: instrument_label(r.instrument_id),
           lambda r: instrument_label(r.instrument_id) + (" ⚠" if r.stale else ""), width=170),
    _px("ltp"),
    Column("Chg", lambda r: r.change, lambda r: fmt_number(r.change, r.decimals, sign=True), Align.RIGHT, lambda r: signed_color(r.change)),
    Column("Chg %", lambda r: r.change_pct, lambda r: fmt_number(r.change_pct, 2, sign=True), Align.RIGHT, lambda r: signed_color(r.change_pct)),
    Column("Bid", lambda r: r.bid, lambda r: fmt_number(r.bid, r.decimals), Align.RIGHT),
    Column("Ask", lambda r: r.ask, lambda r: fmt_number(r.ask, r.decimals), Align.RIGHT),
    Column("Volume", lambda r: r.volume, lambda r: fmt_number(r.volume, 0), Align.RIGHT),
    Column("OI", lambda r: r.oi, lambda r: fmt_number(r.oi, 0), Align.RIGHT),
]


class WatchlistPanel(QWidget):
    open_ticket = Signal(object, object)  # InstrumentId, Side
    open_chart = Signal(object)
    open_chain = Signal(object)
    selected = Signal(object)

    def __init__(self, catalog: InstrumentCatalog, market: MarketState, store: Path,
                 defaults: dict[str, list[InstrumentId]] | None = None, frame_hz: float = 10.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.market = market
        self.store = store
        self.lists: dict[str, list[InstrumentId]] = {}
        self.tabs = QTabBar()
        self.tabs.currentChanged.connect(lambda _: self.refresh())
        add_list = QPushButton("+ List")
        add_list.clicked.connect(self._ask_new_list)
        self.search = InstrumentSearch(catalog)
        self.search.chosen.connect(self._add_from_search)
        self.model: RowTableModel[WatchRow] = RowTableModel(COLUMNS, key=lambda r: r.instrument_id)
        self.table = DataTable(self.model, "Filter rows…")
        self.table.filter.hide()  # the search box above adds instruments; lists are short enough not to filter
        self.table.view.installEventFilter(self)
        self.table.view.doubleClicked.connect(lambda _: self._emit_ticket(Side.BUY))
        self.table.view.clicked.connect(lambda _: self._emit_selected())
        top = QHBoxLayout()
        top.addWidget(self.tabs, 1)
        top.addWidget(add_list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        self._load(defaults or {})
        self._timer = frame_timer(self, frame_hz, self.refresh)

    # lists --------------------------------------------------------------------------------------------
    @property
    def current_list(self) -> str:
        return self.tabs.tabText(self.tabs.currentIndex())

    def add_list(self, name: str) -> None:
        if name and name not in self.lists:
            self.lists[name] = []
            self.tabs.addTab(name)
            self.tabs.setCurrentIndex(self.tabs.count() - 1)
            self.save()

    def add_instrument(self, instrument_id: InstrumentId) -> None:
        """Add an instrument to the current list (once)."""
        items = self.lists.setdefault(self.current_list, [])
        if instrument_id not in items:
            items.append(instrument_id)
            self.save()
        self.refresh()

    def _add_from_search(self, instrument_id: InstrumentId) -> None:
        """Add the chosen instrument and put the keyboard on its row, ready for F1/F2, C or O."""
        self.add_instrument(instrument_id)
        if self.table.select_key(instrument_id):
            self.table.view.setFocus()
            self.selected.emit(instrument_id)

    def remove_selected(self) -> None:
        chosen = {r.instrument_id for r in self.table.selected_rows()}
        self.lists[self.current_list] = [i for i in self.lists[self.current_list] if i not in chosen]
        self.save()
        self.refresh()

    def instruments(self) -> list[InstrumentId]:
        return list(self.lists.get(self.current_list, []))

    def save(self) -> None:
        data = {"lists": {n: [str(i) for i in ids] for n, ids in self.lists.items()}, "current": self.current_list}
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            self.store.write_text(json.dumps(data, indent=1), encoding="utf-8")
        except OSError as exc:
            log.warning("could not save watchlists: %s", exc)

    def _load(self, defaults: dict[str, list[InstrumentId]]) -> None:
        lists = {n: list(ids) for n, ids in defaults.items()}
        current = next(iter(lists), "Main")
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
            lists = {n: [InstrumentId.parse(s) for s in ids] for n, ids in data["lists"].items()}
            current = data.get("current", current)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable watchlists %s: %s", self.store, exc)
        self.lists = lists or {"Main": []}
        self.tabs.blockSignals(True)
        for name in self.lists:
            self.tabs.addTab(name)
        names = list(self.lists)
        self.tabs.setCurrentIndex(names.index(current) if current in names else 0)
        self.tabs.blockSignals(False)

    def _ask_new_list(self) -> None:
        name, ok = QInputDialog.getText(self, "New watchlist", "Name")
        if ok:
            self.add_list(name.strip())

    # live rows ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the rows of the current list from MarketState."""
        rows = []
        for iid in self.lists.get(self.current_list, []):
            inst = self.catalog.find(iid)
            tick = self.market.ticks.get(iid)
            last = self.market.last_price(iid)
            change = change_pct = None
            reference = (tick.close or tick.open) if tick is not None else None  # Kite: previous close; Binance: 24 h open
            if reference and last is not None:
                change = last - reference
                change_pct = change / reference * 100
            rows.append(WatchRow(iid, inst.price_decimals if inst else 2, last, change, change_pct,
                                 tick.bid if tick else None, tick.ask if tick else None, tick.volume if tick else None,
                                 tick.open_interest if tick else None, self.market.is_stale(iid, 10.0)))
        self.model.set_rows(rows)

    # keys -----------------------------------------------------------------------------------------------
    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802
        if obj is self.table.view and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F1) or (shift and key == Qt.Key.Key_B):
                self._emit_ticket(Side.BUY)
            elif key == Qt.Key.Key_F2 or (shift and key == Qt.Key.Key_S):
                self._emit_ticket(Side.SELL)
            elif key == Qt.Key.Key_C and not shift:
                self._emit(self.open_chart)
            elif key == Qt.Key.Key_O and not shift:
                self._emit(self.open_chain)
            elif key == Qt.Key.Key_Delete:
                self.remove_selected()
            else:
                return False
            return True
        return False

    def _emit_ticket(self, side: Side) -> None:
        row = self.table.current_row()
        if row is not None:
            self.open_ticket.emit(row.instrument_id, side)

    def _emit(self, signal: Signal) -> None:  # type: ignore[type-arg]
        row = self.table.current_row()
        if row is not None:
            signal.emit(row.instrument_id)  # type: ignore[attr-defined]

    def _emit_selected(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.selected.emit(row.instrument_id)
