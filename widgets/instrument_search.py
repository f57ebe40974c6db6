"""A search box over the instrument catalogue that answers while the user types."""
from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QListView, QVBoxLayout, QWidget

from core.domain import Instrument, InstrumentId
from core.instruments import InstrumentCatalog


def describe(inst: Instrument) -> str:
    """One line naming an instrument for pickers: symbol, exchange, expiry/strike where they apply."""
    extra = f"  {inst.expiry:%d %b %Y}" if inst.expiry else ""
    return f"{inst.symbol}  ·  {inst.exchange}{extra}  ·  {inst.name or inst.kind.value}"


class InstrumentSearch(QWidget):
    """Type to search; Up/Down to choose; Enter emits chosen(InstrumentId); Esc clears."""

    chosen = Signal(object)

    def __init__(self, catalog: InstrumentCatalog, limit: int = 30, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.limit = limit
        self.results: list[Instrument] = []
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Search: e.g. nifty 25000 ce, infy, btc")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self._search)
        self.edit.installEventFilter(self)
        self.list = QListView()
        self.list.setModel(QStringListModel())
        self.list.setVisible(False)
        self.list.setMaximumHeight(220)
        self.list.activated.connect(lambda index: self._choose(index.row()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)

    def _search(self, text: str) -> None:
        self.results = self.catalog.search(text, self.limit)
        model = self.list.model()
        assert isinstance(model, QStringListModel)
        model.setStringList([describe(i) for i in self.results])
        self.list.setVisible(bool(self.results))
        if self.results:
            self.list.setCurrentIndex(model.index(0, 0))

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self.results):
            iid: InstrumentId = self.results[row].id
            self.edit.clear()
            self.list.setVisible(False)
            self.chosen.emit(iid)

    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802
        if obj is self.edit and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            row = self.list.currentIndex().row()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results:
                row = max(0, min(len(self.results) - 1, row + (1 if key == Qt.Key.Key_Down else -1)))
                self.list.setCurrentIndex(self.list.model().index(row, 0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.results:
                self._choose(max(row, 0))
                return True
            if key == Qt.Key.Key_Escape:
                self.edit.clear()
                return True
        return False
