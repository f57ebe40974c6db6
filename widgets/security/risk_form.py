"""RiskLimitsForm: the pre-trade limits of a profile (its `default` risk table), edited in the setup dialog.

Each field is one core.risk.RiskLimits limit; empty turns the limit off, and the placeholder shows the
shipped default. values() checks the table with RiskLimits.from_dict, so a bad entry is named before
anything is written.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtWidgets import QFormLayout, QLineEdit, QWidget

from core.risk import RiskLimits

# (limit, label, integer?)
LIMITS: tuple[tuple[str, str, bool], ...] = (
    ("max_order_value", "Max order value", False),
    ("max_order_quantity", "Max order quantity", False),
    ("max_position_quantity", "Max position per instrument", False),
    ("max_gross_exposure", "Max gross exposure", False),
    ("daily_loss_limit", "Daily loss limit", False),
    ("price_band_pct", "Price band %", False),
    ("max_open_orders", "Max open orders", True),
    ("orders_per_second", "Orders per second", True),
)


class RiskLimitsForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        defaults = RiskLimits()
        self.edits: dict[str, QLineEdit] = {}
        for name, label, _ in LIMITS:
            edit = QLineEdit()
            shipped = getattr(defaults, name)
            edit.setPlaceholderText("off" if shipped is None else f"{shipped} (default)")
            form.addRow(label, edit)
            self.edits[name] = edit

    def load(self, table: dict[str, Any]) -> None:
        """Show a profile's `default` risk table (limits it does not set show their default)."""
        for name, edit in self.edits.items():
            value = table.get(name)
            edit.setText("" if value is None else str(value))

    def values(self) -> dict[str, Any]:
        """The limits typed in, as a TOML table; ValueError names the field at fault."""
        table: dict[str, Any] = {}
        for name, label, integer in LIMITS:
            text = self.edits[name].text().strip().replace(",", "")
            if not text:
                continue
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ValueError(f"{label}: {text!r} is not a number") from None
            if number <= 0 or (integer and number != number.to_integral_value()):
                raise ValueError(f"{label}: must be a positive {'whole number' if integer else 'number'}")
            table[name] = int(number) if integer else float(number) if number != number.to_integral_value() else int(number)
        RiskLimits.from_dict(table)  # the engine's own check
        return table
