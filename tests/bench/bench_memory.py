"""Memory: resident size while an hour-equivalent of 10 instruments' market data goes through the engine.

No network: synthetic events are published on an EventBus read by the engine's data path, MarketState
(order books, trade rings, ticks) and a BarService with a live 1m feed watched for every instrument.
5 Binance-like instruments get BookDelta + TradePrint, 5 Kite-like ones BookDelta + Tick; prices
random-walk on the tick grid and each book keeps about 25 levels a side (levels that drift away are
removed, as a venue does). Event timestamps advance over one simulated hour, so 60 one-minute bars
close per instrument. RSS (psutil) is sampled every 10 %. Bounded means: no growth per message once
rings are full (bars grow by one row per minute, by design).
"""
from __future__ import annotations

import asyncio
import gc
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

from core.bus import EventBus  # noqa: E402
from core.domain import BookDelta, InstrumentId, Side, Tick, TradePrint, Venue  # noqa: E402
from core.marketdata.bar_service import BarService  # noqa: E402
from core.marketdata.state import MarketState  # noqa: E402

INSTRUMENTS = 10
MSGS_PER_S = 20  # per instrument
SECONDS = 3600
LEVELS = 25
NS = 1_000_000_000
TICK = Decimal("0.05")


async def no_history(*_: object) -> list[object]:
    return []


class SyntheticBook:
    """One instrument's random-walk price and the levels it has published (to remove them later)."""

    def __init__(self, iid: InstrumentId, mid_ticks: int, rng: np.random.Generator) -> None:
        self.iid, self.mid, self.rng = iid, mid_ticks, rng
        self.bids: set[int] = set()
        self.asks: set[int] = set()
        self.volume = Decimal(0)

    def delta(self, ts_ns: int, update_id: int) -> BookDelta:
        self.mid += int(self.rng.integers(-2, 3))
        want_bids = {self.mid - 1 - i for i in range(LEVELS)}
        want_asks = {self.mid + 1 + i for i in range(LEVELS)}
        changed = [int(x) for x in self.rng.integers(0, 5, 4)]
        bids = [(TICK * p, Decimal(0)) for p in self.bids - want_bids]
        asks = [(TICK * p, Decimal(0)) for p in self.asks - want_asks]
        bids += [(TICK * (self.mid - 1 - i), Decimal(int(self.rng.integers(1, 500)))) for i in changed]
        asks += [(TICK * (self.mid + 1 + i), Decimal(int(self.rng.integers(1, 500)))) for i in changed]
        new_bids, new_asks = want_bids - self.bids, want_asks - self.asks
        bids += [(TICK * p, Decimal(100)) for p in new_bids]
        asks += [(TICK * p, Decimal(100)) for p in new_asks]
        self.bids, self.asks = want_bids, want_asks
        return BookDelta(self.iid, ts_ns, tuple(bids), tuple(asks), update_id)

    def trade(self, ts_ns: int, n: int) -> TradePrint:
        side = Side.BUY if n % 2 else Side.SELL
        return TradePrint(self.iid, ts_ns, TICK * (self.mid + (1 if side is Side.BUY else -1)), Decimal(int(self.rng.integers(1, 50))),
                          side, str(n))

    def tick(self, ts_ns: int) -> Tick:
        self.volume += Decimal(int(self.rng.integers(1, 50)))
        return Tick(self.iid, ts_ns, last_price=TICK * self.mid, last_quantity=Decimal(1), bid=TICK * (self.mid - 1),
                    bid_quantity=Decimal(100), ask=TICK * (self.mid + 1), ask_quantity=Decimal(100), volume=self.volume)


async def replay() -> tuple[list[list[object]], float, int, MarketState]:
    proc = psutil.Process()
    rng = np.random.default_rng(7)
    bus = EventBus()
    market = MarketState(bus)
    bars = BarService(bus, no_history)
    ids = [InstrumentId(Venue.BINANCE, f"SYN{i}USDT") for i in range(INSTRUMENTS // 2)]
    ids += [InstrumentId(Venue.ZERODHA, f"SYN{i}") for i in range(INSTRUMENTS - len(ids))]
    books = [SyntheticBook(iid, 40_000 + 1000 * n, rng) for n, iid in enumerate(ids)]
    watches = [bars.watch(iid, "1m") for iid in ids]
    total = INSTRUMENTS * MSGS_PER_S * SECONDS
    start_ns = (time.time_ns() // (60 * NS)) * 60 * NS
    step_ns = SECONDS * NS // (total // INSTRUMENTS)
    gc.collect()
    rows: list[list[object]] = [["0%", 0, f"{proc.memory_info().rss / 2**20:.1f}", ""]]
    started = time.perf_counter()
    for n in range(total):
        book = books[n % INSTRUMENTS]
        ts = start_ns + (n // INSTRUMENTS) * step_ns
        if n // INSTRUMENTS % 2 == 0:
            bus.publish(book.delta(ts, n))
        elif book.iid.venue is Venue.ZERODHA:
            bus.publish(book.tick(ts))
        else:
            bus.publish(book.trade(ts, n))
        if (n + 1) % (total // 10) == 0:
            rows.append([f"{(n + 1) * 100 // total}%", n + 1, f"{proc.memory_info().rss / 2**20:.1f}",
                         sum(len(w.series) for w in watches)])
    elapsed = time.perf_counter() - started
    for w in watches:
        w.close()
    await bars.stop()
    return rows, elapsed, total, market


def main() -> None:
    rows, elapsed, total, market = asyncio.run(replay())
    for row in rows[1:]:
        row[3] = f"{row[3]} bars"
    print_table(["replayed", "messages", "RSS MiB", "bars in series"], rows)
    rss = [float(r[2]) for r in rows]
    tenth = total // 10
    growth = [(b - a) / tenth * 100_000 for a, b in zip(rss[2:], rss[3:])]  # after the first 20 %: rings are full
    levels = sum(len(b.bids) + len(b.asks) for b in market.books.values())
    print()
    print_table(["start MiB", "peak MiB", "end MiB", "growth / 100k msgs after 20 % (median, max)", "msgs/s replayed", "book levels"],
                [[f"{rss[0]:.1f}", f"{max(rss):.1f}", f"{rss[-1]:.1f}", f"{np.median(growth):+.2f} / {max(growth):+.2f} MiB",
                  f"{total / elapsed:,.0f}", levels]])
    print(f"\n{total:,} events: {INSTRUMENTS} instruments x {MSGS_PER_S} msgs/s x {SECONDS} s of event time, one process, no network.")


if __name__ == "__main__":
    main()
