"""Strategy scripts: the Strategy base class, its parameters and context, and the runner that isolates it."""
from .api import Param, Strategy, StrategyContext, StrategyState
from .loader import load_strategy_class

__all__ = ["Param", "Strategy", "StrategyContext", "StrategyState", "load_strategy_class"]
