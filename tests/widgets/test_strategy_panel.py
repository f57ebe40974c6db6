from __future__ import annotations

from collections import deque
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from core.domain import ClientOrderId, Fill, InstrumentId, Order, OrderRequest, OrderType, Side, Venue
from core.strategy.pnl import StrategyPnl, StrategyPnlSummary
from terminal.strategy_manager import StrategyRecord
from widgets.strategy_panel import StrategyPanel, parse_params

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


class Control:
    def __init__(self) -> None:
        self.records: dict[str, StrategyRecord] = {}
        self.host_state = "running"
        self.restarts = 0
        self.calls: list[tuple[str, Any]] = []
        self.book = StrategyPnl()
        self.marks: dict[InstrumentId, D] = {}

    def pnl(self, sid: str) -> StrategyPnlSummary:
        return self.book.summary(sid, self.marks.get)

    async def load(self, path: Path, params: dict[str, Any] | None = None) -> StrategyRecord:
        record = StrategyRecord("ema1", path, dict(params or {}), state="LOADED")
        self.records[record.strategy_id] = record
        self.calls.append(("load", params))
        return record

    async def start_strategy(self, sid: str) -> None:
        self.calls.append(("start", sid))

    async def stop_strategy(self, sid: str) -> None:
        self.calls.append(("stop", sid))

    async def pause_strategy(self, sid: str) -> None: ...
    async def resume_strategy(self, sid: str) -> None: ...


def test_parse_params() -> None:
    assert parse_params('fast=12 slow=26 name="a b"') == {"fast": "12", "slow": "26", "name": "a b"}
    with pytest.raises(ValueError, match="not name=value"):
        parse_params("fast 12")


def test_load_start_stop_and_show_state(qtbot: QtBot, qloop: Any, spin: Any, tmp_path: Path) -> None:
    control = Control()
    panel = StrategyPanel(control, tmp_path)
    qtbot.addWidget(panel)
    panel.params.setText("fast=5")
    panel.load(tmp_path / "ema.py")
    spin()
    panel.refresh()
    assert control.calls == [("load", {"fast": "5"})]
    assert panel.model.rows()[0].state == "LOADED"
    assert not panel.log.toPlainText() and "Select a strategy" in panel.log.placeholderText()  # not an unexplained blank
    panel.table.view.setCurrentIndex(panel.table.proxy.index(0, 0))
    panel._start()
    spin()
    control.records["ema1"].state = "FAILED"
    control.records["ema1"].error = "on_tick: ZeroDivisionError"
    control.records["ema1"].log = deque(["ERROR boom"])
    panel.refresh()
    assert control.calls[-1] == ("start", "ema1")
    assert panel.model.rows()[0].error == "on_tick: ZeroDivisionError" and "boom" in panel.log.toPlainText()
    panel.params.setText("oops")
    panel.load(tmp_path / "ema.py")
    assert "not name=value" in panel.status.text()


def test_shows_each_strategys_position_and_pnl(qtbot: QtBot, qloop: Any, spin: Any, tmp_path: Path) -> None:
    control = Control()
    panel = StrategyPanel(control, tmp_path)
    qtbot.addWidget(panel)
    panel.load(tmp_path / "ema.py")
    spin()
    panel.refresh()
    row = panel.model.rows()[0]
    assert (row.position, row.realised, row.unrealised) == ("", 0, 0)  # never traded
    for cid, side, qty, price in (("c1", Side.BUY, "0.03", "100"), ("c2", Side.SELL, "0.01", "110")):
        control.book.on_order(Order(ClientOrderId(cid), OrderRequest(BTC, side, D(qty), OrderType.MARKET, source="strategy:ema1")))
        control.book.on_fill(Fill(ClientOrderId(cid), "V", cid, BTC, side, D(qty), D(price), D("0.01")))
    panel.refresh()
    row = panel.model.rows()[0]
    assert row.position == "BTCUSDT +0.02 @ 100" and row.realised == D("0.1") and row.unrealised is None  # no mark yet
    control.marks[BTC] = D("105")
    panel.refresh()
    row = panel.model.rows()[0]
    assert row.unrealised == D("0.1") and row.fees == D("0.02")
    titles = [c.title for c in panel.model.columns]
    col = titles.index("Unrealised")
    assert panel.model.data(panel.model.index(0, col)) == "+0.10"
