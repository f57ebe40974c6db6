"""The backtest panel's input forms: a strategy's parameters (typed editors built from its Params),
the data to replay, and the simulated venue's costs. Each form turns its fields into core values and
raises ValueError with a message the user reads when a field is wrong."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget)

from core.backtest import BpsSlippage, Latency, RateFees, SlippageModel, TickSlippage
from core.domain import InstrumentId
from core.marketdata.timeframes import Timeframe
from core.strategy import Param

INTRADAY = [t.value for t in Timeframe if t.is_intraday]
SYNTHETIC = "Synthetic random walk"
HISTORY = "Venue history"
_INT_RANGE = 2**31 - 1
_BPS = Decimal("0.0001")


class ParamForm(QWidget):
    """One editor per declared parameter: a spin box for int and float, a check box for bool, a line
    edit (checked by the Param) for Decimal and str."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.params: dict[str, Param[Any]] = {}
        self.editors: dict[str, QWidget] = {}

    def set_params(self, params: dict[str, Param[Any]]) -> None:
        """Rebuild the editors for a strategy's parameters, at their defaults."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.params, self.editors = dict(params), {}
        for name, param in params.items():
            editor = _editor(param)
            editor.setToolTip(param.help)
            self.editors[name] = editor
            self.layout_.addRow(name, editor)

    def set_values(self, values: dict[str, Any]) -> None:
        """Show the given values (e.g. a sweep row's) in the editors."""
        for name, value in values.items():
            editor = self.editors.get(name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            elif isinstance(editor, QLineEdit):
                editor.setText(str(value))

    def values(self) -> dict[str, Any]:
        """The typed values; ValueError names the parameter at fault."""
        out: dict[str, Any] = {}
        for name, editor in self.editors.items():
            raw: Any
            if isinstance(editor, QCheckBox):
                raw = editor.isChecked()
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                raw = editor.value()
            else:
                assert isinstance(editor, QLineEdit)
                raw = editor.text().strip()
            try:
                out[name] = self.params[name].coerce(raw)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc
        return out


def _editor(param: Param[Any]) -> QWidget:
    kind = param.kind
    if kind is bool:
        box = QCheckBox()
        box.setChecked(bool(param.default))
        return box
    if kind is int:
        spin = QSpinBox()
        spin.setRange(int(param.minimum) if param.minimum is not None else -_INT_RANGE,
                      int(param.maximum) if param.maximum is not None else _INT_RANGE)
        spin.setValue(int(param.default))
        return spin
    if kind is float:
        dspin = QDoubleSpinBox()
        dspin.setDecimals(6)
        dspin.setRange(float(param.minimum) if param.minimum is not None else -1e12,
                       float(param.maximum) if param.maximum is not None else 1e12)
        dspin.setValue(float(param.default))
        return dspin
    return QLineEdit(str(param.default))


@dataclass(frozen=True)
class DataSpec:
    """What to replay: an instrument's bars of one timeframe, from the generator or the venue."""

    instrument_id: InstrumentId
    timeframe: str
    bars: int
    source: str  # SYNTHETIC or HISTORY
    start_ns: int
    seed: int
    start_price: float


class DataForm(QWidget):
    def __init__(self, has_history: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.instrument = QLineEdit("BTCUSDT.BINANCE")
        self.instrument.setPlaceholderText("SYMBOL.VENUE")
        self.timeframe = QComboBox()
        self.timeframe.addItems(INTRADAY)
        self.timeframe.setCurrentText(Timeframe.M1.value)
        self.bars = QSpinBox()
        self.bars.setRange(10, 5_000_000)
        self.bars.setSingleStep(1000)
        self.bars.setValue(10_000)
        self.source = QComboBox()
        self.source.addItem(SYNTHETIC)
        if has_history:
            self.source.addItem(HISTORY)
        self.start = QDateEdit(QDate(2024, 1, 1))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setToolTip("first bar of the synthetic data (UTC); venue history ends now")
        self.seed = QSpinBox()
        self.seed.setRange(0, _INT_RANGE)
        self.seed.setValue(7)
        self.start_price = QDoubleSpinBox()
        self.start_price.setRange(0.0001, 1e9)
        self.start_price.setDecimals(4)
        self.start_price.setValue(40_000.0)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Instrument", self.instrument), ("Timeframe", self.timeframe), ("Bars", self.bars),
                              ("Data", self.source), ("From", self.start), ("Seed", self.seed),
                              ("Start price", self.start_price)):
            form.addRow(label, widget)
        self.source.currentTextChanged.connect(self._source_changed)
        self._source_changed(self.source.currentText())

    def _source_changed(self, source: str) -> None:
        synthetic = source == SYNTHETIC
        for widget in (self.start, self.seed, self.start_price):
            widget.setEnabled(synthetic)

    def spec(self) -> DataSpec:
        text = self.instrument.text().strip()
        try:
            iid = InstrumentId.parse(text)
        except ValueError as exc:
            raise ValueError(f"instrument {text!r}: use SYMBOL.VENUE, e.g. BTCUSDT.BINANCE") from exc
        day = self.start.date()
        start = QDateTime(day, QTime(0, 0), QTimeZone.utc())
        return DataSpec(iid, self.timeframe.currentText(), self.bars.value(), self.source.currentText(),
                        start.toMSecsSinceEpoch() * 1_000_000, self.seed.value(), self.start_price.value())


SLIPPAGE_KINDS = ("ticks", "bps")


class CostForm(QWidget):
    """Fees (basis points of notional, maker and taker, plus a fixed fee per fill), one-way latency
    (ms), slippage (ticks or basis points) and starting cash."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maker_bps = QLineEdit("1")
        self.taker_bps = QLineEdit("5")
        self.per_fill = QLineEdit("0")
        self.latency_ms = QDoubleSpinBox()
        self.latency_ms.setRange(0, 60_000)
        self.latency_ms.setDecimals(1)
        self.latency_ms.setValue(50)
        self.slippage = QLineEdit("1")
        self.slippage_kind = QComboBox()
        self.slippage_kind.addItems(SLIPPAGE_KINDS)
        self.cash = QLineEdit("100000")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Maker fee (bps)", self.maker_bps), ("Taker fee (bps)", self.taker_bps),
                              ("Fee per fill", self.per_fill), ("Latency (ms)", self.latency_ms),
                              ("Slippage", self.slippage), ("Slippage in", self.slippage_kind), ("Cash", self.cash)):
            form.addRow(label, widget)

    def options(self) -> dict[str, Any]:
        """Backtester keyword arguments (all picklable)."""
        maker, taker = _decimal(self.maker_bps, "maker fee"), _decimal(self.taker_bps, "taker fee")
        per_fill, cash = _decimal(self.per_fill, "fee per fill"), _decimal(self.cash, "cash")
        slip = _decimal(self.slippage, "slippage")
        if cash <= 0:
            raise ValueError("cash must be positive")
        slippage: SlippageModel
        if self.slippage_kind.currentText() == "ticks":
            if slip != slip.to_integral_value():
                raise ValueError("slippage in ticks must be a whole number")
            slippage = TickSlippage(int(slip))
        else:
            slippage = BpsSlippage(slip)
        latency_ns = int(self.latency_ms.value() * 1_000_000)
        return {"fee_model": RateFees(maker * _BPS, taker * _BPS, per_fill), "slippage_model": slippage,
                "latency_ns": Latency(latency_ns, latency_ns), "initial_cash": cash}


def _decimal(field: QLineEdit, label: str) -> Decimal:
    try:
        value = Decimal(field.text().strip())
    except InvalidOperation:
        raise ValueError(f"{label}: {field.text()!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{label} must be a non-negative number")
    return value


def utc_date(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M")
