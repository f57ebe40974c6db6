from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.bus import EventBus
from core.domain import InstrumentId, Tick, TradePrint, Venue

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
ETH = InstrumentId(Venue.BINANCE, "ETHUSDT")


def tick(iid: InstrumentId, price: str, ts: int = 0) -> Tick:
    return Tick(iid, ts, last_price=Decimal(price))


def test_subscribers_get_events_of_their_type_only() -> None:
    bus = EventBus()
    ticks: list[Tick] = []
    trades: list[TradePrint] = []
    bus.subscribe(Tick, ticks.append)
    bus.subscribe(TradePrint, trades.append)
    bus.publish(tick(BTC, "1"))
    assert len(ticks) == 1 and trades == []


def test_keyed_subscription_filters_by_instrument() -> None:
    bus = EventBus()
    btc: list[Tick] = []
    everything: list[Tick] = []
    bus.subscribe(Tick, btc.append, key=BTC)
    bus.subscribe(Tick, everything.append)
    bus.publish(tick(BTC, "1"))
    bus.publish(tick(ETH, "2"))
    assert [t.instrument_id for t in btc] == [BTC]
    assert len(everything) == 2


def test_a_raising_handler_is_isolated_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[Tick] = []

    def broken(_: Tick) -> None:
        raise RuntimeError("boom")

    bus.subscribe(Tick, broken)
    bus.subscribe(Tick, seen.append)
    with caplog.at_level(logging.ERROR):
        bus.publish(tick(BTC, "1"))
    assert len(seen) == 1
    assert bus.errors == 1
    assert "boom" in caplog.text


def test_close_stops_delivery() -> None:
    bus = EventBus()
    seen: list[Tick] = []
    sub = bus.subscribe(Tick, seen.append)
    sub.close()
    bus.publish(tick(BTC, "1"))
    assert seen == []


async def test_async_handlers_run_and_their_errors_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[Decimal | None] = []

    async def slow(event: Tick) -> None:
        await asyncio.sleep(0)
        seen.append(event.last_price)

    async def broken(_: Tick) -> None:
        raise ValueError("async boom")

    bus.subscribe(Tick, slow)
    bus.subscribe(Tick, broken)
    with caplog.at_level(logging.ERROR):
        bus.publish(tick(BTC, "5"))
        await bus.drain()
    assert seen == [Decimal("5")]
    assert bus.errors == 1 and "async boom" in caplog.text


async def test_conflation_delivers_latest_per_key_at_most_max_hz() -> None:
    bus = EventBus()
    batches: list[dict[object, Tick]] = []
    bus.conflate(Tick, batches.append, max_hz=20)
    for i in range(10_000):
        bus.publish(tick(BTC if i % 2 else ETH, str(i)))
    await asyncio.sleep(0.01)
    assert len(batches) == 1
    assert batches[0][BTC].last_price == Decimal("9999")
    assert batches[0][ETH].last_price == Decimal("9998")
    bus.publish(tick(BTC, "1"))
    await asyncio.sleep(0.01)
    assert len(batches) == 1  # the next batch waits for the 50 ms frame
    await asyncio.sleep(0.08)
    assert len(batches) == 2


def test_conflation_without_a_loop_is_flushed_by_hand() -> None:
    bus = EventBus()
    batches: list[dict[object, Tick]] = []
    sub = bus.conflate(Tick, batches.append, max_hz=10)
    bus.publish(tick(BTC, "1"))
    bus.publish(tick(BTC, "2"))
    sub.flush()
    sub.flush()
    assert len(batches) == 1 and batches[0][BTC].last_price == Decimal("2")
    sub.close()
    bus.publish(tick(BTC, "3"))
    sub.flush()
    assert len(batches) == 1


def test_unkeyed_events_conflate_by_type() -> None:
    @dataclass(frozen=True)
    class Heartbeat:
        n: int

    bus = EventBus()
    batches: list[dict[object, Heartbeat]] = []
    sub = bus.conflate(Heartbeat, batches.append)
    bus.publish(Heartbeat(1))
    bus.publish(Heartbeat(2))
    sub.flush()
    assert batches == [{Heartbeat: Heartbeat(2)}]
