"""Colours and fonts shared by every panel, and the theme loader. Display concerns live here, not in core."""
from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor, QFont, QFontDatabase

BUY = QColor("#26a69a")
SELL = QColor("#ef5350")
UP = BUY
DOWN = SELL
ACCENT = QColor("#2f81f7")
MUTED = QColor("#7d8794")
WARN = QColor("#f0b429")
BUY_BG = QColor(38, 166, 154, 40)
SELL_BG = QColor(239, 83, 80, 40)
ITM_BG = QColor(240, 180, 41, 22)
ATM_BG = QColor(47, 129, 247, 45)

THEMES = ("dark", "light")


def load_theme(name: str) -> str:
    """Return the QSS text of a theme in resources/themes (ValueError for an unknown name)."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; themes: {', '.join(THEMES)}")
    return resources.files("resources").joinpath("themes", f"{name}.qss").read_text(encoding="utf-8")


def mono_font(point_size: int = 10) -> QFont:
    """A fixed-width font for numbers, so digits line up in tables and ladders."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(point_size)
    return font
