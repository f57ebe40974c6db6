"""Backtest results: round-trip trades, the equity curve and the statistics drawn from them.

Definitions (stated once, used everywhere):
- A round trip runs from a flat position to flat again (a fill through zero closes one and opens the
  next). Its P&L is exact: the value of its exits minus the value of its entries (the other way round
  for a short), times the multiplier; net P&L subtracts its fees (a fill that both closes and opens
  shares its fee pro rata, to 1e-10, the parts adding up to the fee). Win rate = round trips with
  net P&L > 0 / all closed round trips.
- The equity curve is cash plus positions marked at the last price, sampled at the start, after every
  bar (or tick) and at the end; money is exact in the fills and the final equity, the curve is float.
- Returns are the simple returns between consecutive samples. Sharpe = mean / sample standard
  deviation x sqrt(periods per year); Sortino = mean / downside deviation x sqrt(periods per year),
  the downside deviation being sqrt(mean(min(r, 0)^2)) over all periods (target 0, no risk-free
  rate). Periods per year default to 365 days / the median sampling interval (a 24/7 market:
  525,600 for 1-minute bars); pass periods_per_year for session markets (NSE 1m: 252 x 375).
  Without variance Sharpe is 0; without a losing period Sortino is +inf if the mean is positive.
- Max drawdown is the largest fall from a running peak of equity, as a fraction of that peak
  (max_drawdown) and in money (max_drawdown_abs).
- Exposure is the fraction of the sampled time during which any position was open.
"""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from enum import Enum
from pathlib import Path

import numpy as np

from core.domain import Fill, InstrumentId, Position, Side

YEAR_NS = 365 * 86_400 * 10**9


class RunStatus(str, Enum):
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"  # the cancel flag stopped the replay early
    FAILED = "FAILED"  # the strategy failed (too many errors); the replay stopped there


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One trade from flat to flat. side BUY is a long, SELL a short; quantity is the largest position."""

    instrument_id: InstrumentId
    side: Side
    quantity: Decimal
    entry_ns: int
    exit_ns: int
    entry_price: Decimal  # average of the fills that opened or added
    exit_price: Decimal  # average of the fills that reduced or closed
    pnl: Decimal  # before fees
    fees: Decimal

    @property
    def net_pnl(self) -> Decimal:
        return self.pnl - self.fees


@dataclass(frozen=True, slots=True)
class Metrics:
    total_return: float
    max_drawdown: float
    max_drawdown_abs: float
    sharpe: float
    sortino: float
    win_rate: float
    exposure: float
    trades: int
    periods_per_year: float


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Return the fall from the running peak at every sample, as a fraction of the peak."""
    if len(equity) == 0:
        return np.zeros(0)
    peak = np.maximum.accumulate(equity)
    return np.where(peak > 0, (peak - equity) / np.where(peak > 0, peak, 1.0), 0.0)


def compute_metrics(ts_ns: np.ndarray, equity: np.ndarray, in_market: np.ndarray, trades: list[RoundTrip],
                    periods_per_year: float | None = None) -> Metrics:
    """Compute the statistics of an equity curve and its round trips (definitions in the module docstring)."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    eq = np.asarray(equity, dtype=np.float64)
    if periods_per_year is None:
        steps = np.diff(ts)
        steps = steps[steps > 0]
        periods_per_year = YEAR_NS / float(np.median(steps)) if len(steps) else 1.0
    returns = eq[1:] / eq[:-1] - 1.0 if len(eq) > 1 else np.zeros(0)
    scale = math.sqrt(periods_per_year)
    sharpe = 0.0
    if len(returns) > 1 and np.std(returns, ddof=1) > 0:
        sharpe = float(np.mean(returns) / np.std(returns, ddof=1) * scale)
    sortino = 0.0
    if len(returns):
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
        mean = float(np.mean(returns))
        sortino = mean / downside * scale if downside > 0 else (math.inf if mean > 0 else 0.0)
    peak = np.maximum.accumulate(eq) if len(eq) else eq
    span = int(ts[-1] - ts[0]) if len(ts) > 1 else 0
    exposure = float(np.sum(np.diff(ts) * np.asarray(in_market[:-1], dtype=bool)) / span) if span > 0 else 0.0
    closed = len(trades)
    return Metrics(
        total_return=float(eq[-1] / eq[0] - 1.0) if len(eq) else 0.0,
        max_drawdown=float(np.max(drawdown(eq))) if len(eq) else 0.0,
        max_drawdown_abs=float(np.max(peak - eq)) if len(eq) else 0.0,
        sharpe=sharpe,
        sortino=sortino,
        win_rate=sum(1 for t in trades if t.net_pnl > 0) / closed if closed else 0.0,
        exposure=exposure,
        trades=closed,
        periods_per_year=float(periods_per_year),
    )


@dataclass
class BacktestResult:
    """Everything a run produced. equity_* arrays are aligned; records hold ctx.record() series."""

    status: RunStatus
    initial_cash: Decimal
    final_equity: Decimal
    total_fees: Decimal
    metrics: Metrics
    trades: list[RoundTrip]
    fills: list[Fill]
    orders: int
    equity_ns: np.ndarray
    equity: np.ndarray
    in_market: np.ndarray
    open_positions: list[Position] = field(default_factory=list)
    records: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    error: str = ""
    strategy_errors: int = 0
    units: int = 0  # bars or ticks replayed
    elapsed_s: float = 0.0

    @property
    def net_pnl(self) -> Decimal:
        return self.final_equity - self.initial_cash

    def summary(self) -> dict[str, object]:
        """The headline numbers as one flat row (for tables and sweeps)."""
        return {"status": self.status.value, "final_equity": self.final_equity, "net_pnl": self.net_pnl,
                "total_fees": self.total_fees, "orders": self.orders, "fills": len(self.fills), **asdict(self.metrics)}

    def to_csv(self, path: str | Path) -> tuple[Path, Path]:
        """Write the round trips to path and the equity curve next to it (<stem>_equity.csv); return both."""
        trades_path = Path(path)
        equity_path = trades_path.with_name(f"{trades_path.stem}_equity.csv")
        with trades_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            names = [f.name for f in fields(RoundTrip)]
            writer.writerow([*names, "net_pnl"])
            for trade in self.trades:
                values = [getattr(trade, n) for n in names]
                writer.writerow([_cell(v) for v in values] + [_cell(trade.net_pnl)])
        dd = drawdown(self.equity)
        with equity_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["ts_ns", "equity", "drawdown", "in_market"])
            for ts, eq, d, held in zip(self.equity_ns.tolist(), self.equity.tolist(), dd.tolist(), self.in_market.tolist()):
                writer.writerow([ts, repr(eq), repr(d), int(held)])
        return trades_path, equity_path


def _cell(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    return str(value) if isinstance(value, (InstrumentId, Decimal)) else value
