"""Child process of test_crash.py: trades through the real path and dies with SIGKILL at a chosen point.

Usage: python crash_child.py DIR ORDERS. SQ_CRASH_POINT picks where to die, SQ_CRASH_AT at which occurrence:
  intent       right after the k-th order intent is committed (nothing sent yet)
  venue_order  right after the venue recorded the k-th order, before it answers
  ack          right before the k-th venue acknowledgement is journaled
  fill         right after the venue recorded the k-th fill, before we hear of it
  fill_journal right before the k-th fill is journaled
  none         never (the parent may kill at a random time; the child prints READY when trading starts)
Every start reconciles the journal with the venue (a fake that persists to DIR/venue.jsonl).
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trading"))

from sq_fake_venue import FakeVenue  # noqa: E402
from sq_trading_env import BTC, instruments  # noqa: E402

from core.bus import EventBus  # noqa: E402
from core.domain import OrderRequest, OrderType, Side, Venue  # noqa: E402
from core.marketdata.state import MarketState  # noqa: E402
from core.risk import RiskProfile  # noqa: E402
from core.trading.stack import build_trading  # noqa: E402

POINT = os.environ.get("SQ_CRASH_POINT", "none")
AT = int(os.environ.get("SQ_CRASH_AT", "1"))
NO_LIMITS = {"price_band_pct": "none", "orders_per_second": "none", "orders_per_minute": "none",
             "orders_per_day": "none", "max_open_orders": "none"}


class Tripwire:
    """Counts occurrences of one kind of event and dies at the chosen one."""

    def __init__(self) -> None:
        self.count = 0

    def hit(self, point: str) -> None:
        if point != POINT:
            return
        self.count += 1
        if self.count == AT:
            os.kill(os.getpid(), signal.SIGKILL)


def wrap(obj: Any, name: str, before: Callable[..., None] | None = None, after: Callable[..., None] | None = None) -> None:
    original = getattr(obj, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(*args, **kwargs)
        result = original(*args, **kwargs)
        if after is not None:
            after(*args, **kwargs)
        return result

    setattr(obj, name, wrapped)


async def main(directory: Path, orders: int) -> None:
    bus = EventBus()
    wire = Tripwire()
    venue = FakeVenue(Venue.BINANCE, bus, persist=directory / "venue.jsonl")
    venue.on_persist = lambda kind, _id: wire.hit("venue_order" if kind == "order" else "fill")
    stack = build_trading(bus, directory / "journal.db", {Venue.BINANCE: venue}, instruments(), MarketState(bus),
                          profile=RiskProfile.from_dict({"default": NO_LIMITS}), not_found_grace_s=0,
                          check_interval_s=3600)
    journal = stack.journal
    wrap(journal, "record_intent", after=lambda *a: wire.hit("intent"))
    wrap(journal, "record_update", before=lambda order, kind: wire.hit("ack") if kind == "report" else None)
    wrap(journal, "record_fill", before=lambda *a: wire.hit("fill_journal"))
    await stack.start()
    print("READY", flush=True)
    for i in range(orders):
        handle = await stack.api.place(OrderRequest(BTC, Side.BUY, Decimal("0.01"), OrderType.LIMIT,
                                                    price=Decimal(50000 + i)))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        cid = handle.client_order_id
        if cid in venue.orders and i % 2 == 0:
            venue.fill(cid, Decimal("0.01"), Decimal(50000))
        elif cid in venue.orders and i % 3 == 1:
            await stack.api.cancel(cid)
    await bus.drain()
    await stack.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
