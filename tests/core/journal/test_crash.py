"""kill -9 at every point of the send path, many times over one journal and one venue; nothing is lost.

Each run starts a child that reconciles (recovering from the previous kill) and trades until it is killed
at a chosen point (or at a random time). Afterwards a restart plus reconciliation must leave: a journal row
for every venue order, the venue's state on every order, every venue fill journaled exactly once, orders
the venue never got settled as REJECTED, and a second reconciliation with nothing left to report.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sq_fake_venue import FakeVenue
from sq_trading_env import instruments

from core.bus import EventBus
from core.domain import OrderStatus, Venue
from core.marketdata.state import MarketState
from core.risk import RiskProfile
from core.trading.stack import build_trading

CHILD = Path(__file__).with_name("crash_child.py")
POINTS = ["intent", "venue_order", "ack", "fill", "fill_journal"]
ORDERS_PER_RUN = 6


def run_child(directory: Path, point: str, at: int, rng: random.Random) -> int:
    env = {**os.environ, "SQ_CRASH_POINT": point, "SQ_CRASH_AT": str(at)}
    proc = subprocess.Popen([sys.executable, str(CHILD), str(directory), str(ORDERS_PER_RUN)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if point == "none":  # a random moment after trading starts
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode in (0, -signal.SIGKILL), err
    return proc.returncode


async def test_kill_minus_nine_anywhere_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    plan = [(p, at) for at in (1, 3) for p in POINTS] + [("none", 0)] * 6  # 16 runs
    codes = [run_child(tmp_path, point, at, rng) for point, at in plan]
    assert codes.count(-signal.SIGKILL) >= 10  # the tripwires fired

    bus = EventBus()
    venue = FakeVenue(Venue.BINANCE, bus, persist=tmp_path / "venue.jsonl")
    stack = build_trading(bus, tmp_path / "journal.db", {Venue.BINANCE: venue}, instruments(), MarketState(bus),
                          profile=RiskProfile.from_dict({"default": {"price_band_pct": "none"}}),
                          not_found_grace_s=0, check_interval_s=3600)
    await stack.start()
    try:
        journal = stack.journal
        for cid, at_venue in venue.orders.items():
            ours = journal.order(cid)
            assert ours is not None, f"venue order {cid} has no journal row"
            assert (ours.status, ours.filled_quantity, ours.venue_order_id) == (
                at_venue.status, at_venue.filled, at_venue.venue_order_id), cid
        trade_ids = [f.trade_id for f in journal.fills()]
        assert sorted(trade_ids) == sorted(t.trade_id for t in venue.trades)  # each exactly once
        intents = [row[0] for row in journal._db.execute("SELECT client_order_id FROM order_intents")]
        assert len(intents) == len(set(intents)) >= len(venue.orders)
        for cid in set(intents) - set(venue.orders):
            order = journal.order(cid)
            assert order is not None and order.status is OrderStatus.REJECTED, cid  # never placed, never resent
        assert venue.calls["place"] == 0
        assert stack.portfolio.position_quantity(instruments()[0].id) == Decimal("0.01") * len(venue.trades)
        again = await stack.reconciler.reconcile(Venue.BINANCE)
        assert again.ok and again.differences == ()
    finally:
        await stack.stop()
