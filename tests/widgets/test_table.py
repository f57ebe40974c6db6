from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from widgets.table import SORT_ROLE, Align, Column, DataTable, RowTableModel, fmt_number


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
