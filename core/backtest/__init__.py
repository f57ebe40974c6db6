"""Backtesting and paper trading: strategies replayed through core.matching, with costs and results.

    result = Backtester(EmaCrossover, {"fast": 9}, [btc], bars, latency_ns=50_000_000,
                        fee_model=RateFees(taker=Decimal("0.001")), slippage_model=TickSlippage(1)).run()
    rows = sweep("ema_crossover.py", {"fast": [5, 9], "slow": [21, 34]}, bars, [btc], processes=2)
    venue = PaperVenue(bus, Venue.BINANCE, market_data=binance_client)   # the OMS's client in paper mode
"""
from .data import BarArrays, price_path
from .engine import Backtester, run_backtest
from .exchange import Execution, SimulatedExchange
from .models import NO_FEES, NO_SLIPPAGE, BpsSlippage, FeeModel, Latency, RateFees, SlippageModel, TickSlippage
from .paper import PaperVenue
from .results import BacktestResult, Metrics, RoundTrip, RunStatus, compute_metrics, drawdown
from .sweep import SweepRow, grid_points, parse_grid, sweep
from .synthetic import random_walk_bars
from .worker import BacktestJob, ProcessTask, StrategyInfo

__all__ = [
    "BacktestJob", "BacktestResult", "Backtester", "BarArrays", "BpsSlippage", "Execution", "FeeModel", "Latency", "Metrics",
    "NO_FEES", "NO_SLIPPAGE", "PaperVenue", "RateFees", "RoundTrip", "RunStatus", "SimulatedExchange", "SlippageModel",
    "StrategyInfo", "SweepRow", "TickSlippage", "compute_metrics", "drawdown", "grid_points", "parse_grid", "price_path", "random_walk_bars",
    "run_backtest", "sweep",
]
