"""Positions and P&L from fills: average cost (default) or FIFO, marked to market, with fees and Greeks."""
from .greeks import Greeks, GreeksFn
from .ledger import CostMethod, PositionLedger
from .portfolio import MarkMode, Portfolio, PortfolioTotals, PositionChanged, PositionView

__all__ = ["CostMethod", "Greeks", "GreeksFn", "MarkMode", "Portfolio", "PortfolioTotals", "PositionChanged",
           "PositionLedger", "PositionView"]
