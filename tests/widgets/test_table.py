from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from widgets.table import PRICE_DECIMALS, SORT_ROLE, Align, Column, DataTable, RowTableModel, fmt_number, fmt_price


@dataclass(frozen=True)
class Row:
    sym: str
    ltp: D


COLUMNS = [Column[Row]("Symbol", lambda r: r.sym), Column[Row]("LTP", lambda r: r.ltp, lambda r: fmt_number(r.ltp, 2), Align.RIGHT, flash=True)]


def test_set_rows_emits_cell_changes_without_reset_and_flashes(qtbot: QtBot) -> None:
    model = RowTableModel(COLUMNS, key=lambda r: r.sym)
    model.set_rows([Row("A", D("1")), Row("B", D("2"))])
    resets: list[int] = []
    changes: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changes.append(a.row()))
    model.set_rows([Row("A", D("1")), Row("B", D("2.5"))])
    assert resets == [] and changes == [1]
    assert model.flashing(1, 1) == 1 and model.flashing(0, 1) == 0
    assert model.data(model.index(1, 1)) == "2.50"
    assert model.data(model.index(1, 1), SORT_ROLE) == 2.5
    assert model.data(model.index(1, 1), Qt.ItemDataRole.TextAlignmentRole) == Align.RIGHT.value


def test_sort_filter_copy_and_export(qtbot: QtBot, tmp_path: Path) -> None:
    model = RowTableModel(COLUMNS, key=lambda r: r.sym)
    table = DataTable(model)
    qtbot.addWidget(table)
    model.set_rows([Row("INFY", D("1500")), Row("TCS", D("3900.5")), Row("SBIN", D("800"))])
    table.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert [table.proxy.index(i, 0).data() for i in range(3)] == ["TCS", "INFY", "SBIN"]
    table.filter.setText("in")
    assert table.proxy.rowCount() == 2  # INFY, SBIN
    table.filter.clear()
    table.view.selectRow(0)
    assert table.copy_selection().splitlines() == ["Symbol,LTP", "TCS,3900.5"]
    out = table.export_csv(tmp_path / "x.csv")
    assert out is not None and out.read_text().count("\n") == 4


def test_fmt_number() -> None:
    assert fmt_number(D("1234567.891"), 2) == "1,234,567.89"
    assert fmt_number(D("5"), 1, sign=True) == "+5.0"
    assert fmt_number(None) == "" and fmt_number(float("nan")) == ""


FIT_MS = 50
CELL_TEXT_ROOM = 2 * 3 + 1  # px a view cell takes beside its text: the item's margins (focus frame 2 + 1) and the grid


def test_columns_widen_to_figures_that_outgrow_them_and_never_shrink(qtbot: QtBot) -> None:
    """The Funds table cut ZERODHA's free cash to '1,000,000...' in a 90 px column."""
    columns = [*COLUMNS, Column[Row]("Note", lambda r: "")]  # the last column stretches; it is not fitted
    model = RowTableModel(columns, key=lambda r: r.sym)
    table = DataTable(model, fit_every_ms=FIT_MS)
    qtbot.addWidget(table)
    table.resize(600, 200)
    table.show()
    qtbot.waitExposed(table)
    model.set_rows([Row("INR", D("1"))])
    qtbot.wait(3 * FIT_MS)
    assert table.view.columnWidth(1) == 90  # "1.00" fits the column as set
    model.set_rows([Row("INR", D("1000000000"))])  # a cell change, not a reset
    figure = table.view.fontMetrics().horizontalAdvance("1,000,000,000.00")
    qtbot.waitUntil(lambda: table.view.columnWidth(1) >= figure + CELL_TEXT_ROOM, timeout=2000)
    widened = table.view.columnWidth(1)
    model.set_rows([Row("INR", D("1"))])
    qtbot.wait(3 * FIT_MS)
    assert table.view.columnWidth(1) == widened
    table.hide()  # a tab behind another: fitted once it shows
    model.set_rows([Row("INR", D("1000000000000000"))])
    qtbot.wait(3 * FIT_MS)
    assert table.view.columnWidth(1) == widened
    table.show()
    longer = table.view.fontMetrics().horizontalAdvance("1,000,000,000,000,000.00")
    qtbot.waitUntil(lambda: table.view.columnWidth(1) >= longer + CELL_TEXT_ROOM, timeout=2000)


def test_fmt_price_keeps_every_decimal_a_price_has() -> None:
    assert fmt_price(D("96999.90000000")) == "96,999.90"  # as Binance sends it
    assert fmt_price(D("0.00001234")) == "0.00001234" and fmt_price(D("1234.5")) == "1,234.50"
    assert fmt_price(D(1) / D(3)) == "0.33333333" and fmt_price(97001.81) == "97,001.81"
    assert fmt_price(None) == "" and fmt_price(float("nan")) == "" and fmt_price(D("Infinity")) == ""
    assert fmt_price(D("1E+30")) == "1,000,000,000,000,000,000,000,000,000,000.00"


@given(st.decimals(min_value=D("-1e12"), max_value=D("1e12"), places=PRICE_DECIMALS, allow_nan=False, allow_infinity=False))
def test_fmt_price_reads_back_as_the_price(price: D) -> None:
    text = fmt_price(price)
    decimals = text.partition(".")[2]
    assert D(text.replace(",", "")) == price
    assert len(decimals) >= 2 and (len(decimals) == 2 or not decimals.endswith("0"))
