"""The backtest panel: single runs with plots and tables, and parameter sweeps."""
from .panel import BacktestPanel, to_bar_arrays

__all__ = ["BacktestPanel", "to_bar_arrays"]
