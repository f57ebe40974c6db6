from __future__ import annotations

import csv
import math
from decimal import Decimal as D
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqbt_helpers import BTC, spot

from core.backtest import BacktestResult, RunStatus, compute_metrics, drawdown
from core.backtest.account import Account
from core.domain import ClientOrderId, Fill, Side

DAY = 86_400 * 10**9


def fill(n: int, side: Side, qty: str, price: str, fee: str = "1") -> Fill:
    return Fill(ClientOrderId(f"c{n}"), f"v{n}", f"t{n}", BTC, side, D(qty), D(price), D(fee), "USDT", n * DAY)


def test_metrics_of_a_tiny_curve_match_the_hand_computation() -> None:
    # returns 1/10, -1/10, 2/9: mean 2/27, sample std sqrt(1929)/270, downside sqrt(1/300)
    ts = np.arange(4) * DAY
    m = compute_metrics(ts, np.array([100.0, 110.0, 99.0, 121.0]), np.array([False, True, True, False]), [])
    assert m.periods_per_year == 365.0  # daily samples, 24/7 year
    assert math.isclose(m.sharpe, 20 * math.sqrt(365 / 1929), rel_tol=1e-12)
    assert math.isclose(m.sortino, 2 / 27 * math.sqrt(300 * 365), rel_tol=1e-12)
    assert math.isclose(m.max_drawdown, 0.1) and math.isclose(m.max_drawdown_abs, 11.0)
    assert math.isclose(m.total_return, 0.21)
    assert math.isclose(m.exposure, 2 / 3)
    assert m.trades == 0 and m.win_rate == 0.0


def test_metrics_edge_cases_are_defined() -> None:
    flat = compute_metrics(np.arange(3) * DAY, np.full(3, 50.0), np.zeros(3, bool), [])
    assert flat.sharpe == 0.0 and flat.sortino == 0.0 and flat.max_drawdown == 0.0 and flat.exposure == 0.0
    rising = compute_metrics(np.arange(3) * DAY, np.array([1.0, 2.0, 3.0]), np.ones(3, bool), [], periods_per_year=252)
    assert rising.sortino == math.inf and rising.periods_per_year == 252 and rising.exposure == 1.0


def test_known_fills_give_known_round_trips_cash_and_win_rate() -> None:
    account = Account([spot(BTC)], D(1000))
    for f in [fill(1, Side.BUY, "1", "100"), fill(2, Side.SELL, "1", "110"),  # long +10
              fill(3, Side.BUY, "2", "105"), fill(4, Side.SELL, "1", "100"),  # long 2 @105 ...
              fill(5, Side.SELL, "2", "95"),  # ... closes 1 @95 and opens a short 1 @95 (fee split 0.5/0.5)
              fill(6, Side.BUY, "1", "90")]:  # short +5
        account.apply(f)
    long1, long2, short = account.trades
    assert (long1.side, long1.quantity, long1.entry_price, long1.exit_price, long1.pnl, long1.fees) == \
        (Side.BUY, D(1), D(100), D(110), D(10), D(2))
    assert (long2.quantity, long2.entry_price, long2.exit_price, long2.pnl, long2.fees, long2.net_pnl) == \
        (D(2), D(105), D("97.5"), D(-15), D("2.5"), D("-17.5"))
    assert (short.side, short.entry_ns, short.exit_ns, short.entry_price, short.exit_price, short.net_pnl) == \
        (Side.SELL, 5 * DAY, 6 * DAY, D(95), D(90), D("3.5"))
    assert account.cash == D(994) and account.fees == D(6) and not account.in_market
    assert sum(t.net_pnl for t in account.trades) == account.cash - 1000
    m = compute_metrics(np.arange(2) * DAY, np.array([1000.0, 994.0]), np.array([False, False]), account.trades)
    assert m.win_rate == 2 / 3 and m.trades == 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=1, max_size=40))
def test_max_drawdown_equals_the_brute_force_worst_fall(values: list[float]) -> None:
    eq = np.array(values)
    brute = max((eq[i] - eq[j]) / eq[i] for i in range(len(eq)) for j in range(i, len(eq)))
    m = compute_metrics(np.arange(len(eq)) * DAY, eq, np.zeros(len(eq), bool), [])
    assert math.isclose(m.max_drawdown, max(brute, 0.0), abs_tol=1e-12)
    assert math.isclose(float(np.max(drawdown(eq))), m.max_drawdown, abs_tol=1e-12)


def test_to_csv_writes_trades_and_the_equity_curve(tmp_path: Path) -> None:
    account = Account([spot(BTC)], D(1000))
    account.apply(fill(1, Side.BUY, "1", "100"))
    account.apply(fill(2, Side.SELL, "1", "110"))
    ts, eq, held = np.arange(3) * DAY, np.array([1000.0, 1005.0, 1008.0]), np.array([False, True, False])
    result = BacktestResult(RunStatus.COMPLETED, D(1000), account.cash, account.fees,
                            compute_metrics(ts, eq, held, account.trades), account.trades, account.fills, 2, ts, eq, held)
    trades_path, equity_path = result.to_csv(tmp_path / "run.csv")
    assert equity_path == tmp_path / "run_equity.csv"
    rows = list(csv.DictReader(trades_path.read_text().splitlines()))
    assert len(rows) == 1 and rows[0]["instrument_id"] == "BTCUSDT.BINANCE" and rows[0]["side"] == "BUY"
    assert D(rows[0]["net_pnl"]) == D(8) and D(rows[0]["entry_price"]) == D(100)
    curve = list(csv.DictReader(equity_path.read_text().splitlines()))
    assert [float(r["equity"]) for r in curve] == [1000.0, 1005.0, 1008.0]
    assert [int(r["in_market"]) for r in curve] == [0, 1, 0] and float(curve[2]["drawdown"]) == 0.0
    assert result.summary()["net_pnl"] == D(8) and result.summary()["trades"] == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5).filter(bool), st.integers(90, 110), st.integers(0, 3)), max_size=25))
def test_round_trips_account_for_every_unit_of_money_once_flat(moves: list[tuple[int, int, int]]) -> None:
    account = Account([spot(BTC)], D(10_000))
    held = 0
    for n, (qty, price, fee) in enumerate(moves + ([(-sum(q for q, _, _ in moves), 100, 1)] if moves else [])):
        if qty:
            account.apply(fill(n, Side.BUY if qty > 0 else Side.SELL, str(abs(qty)), str(price), str(fee)))
            held += qty
    assert held == 0 and not account.in_market
    assert sum((t.net_pnl for t in account.trades), D(0)) == account.cash - D(10_000)
    assert sum((t.fees for t in account.trades), D(0)) == account.fees
    assert all(t.exit_ns >= t.entry_ns and t.quantity > 0 for t in account.trades)
