"""Builders for trading tests: sample instruments and a started trading stack on fake venues."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sq_fake_venue import FakeVenue

from core.bus import EventBus
from core.domain import Instrument, InstrumentId, InstrumentKind, Tick, Venue
from core.marketdata.state import MarketState
from core.risk import RiskProfile
from core.trading.stack import TradingStack, build_trading

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
NIFTY_FUT = InstrumentId(Venue.ZERODHA, "NIFTY25DECFUT")
RELIANCE = InstrumentId(Venue.ZERODHA, "RELIANCE")


def instruments() -> list[Instrument]:
    return [
        Instrument(BTC, InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.001"), quote_currency="USDT",
                   base_currency="BTC", min_notional=Decimal(5)),
        Instrument(NIFTY_FUT, InstrumentKind.FUTURE, "NFO", Decimal("0.05"), Decimal(75), underlying="NIFTY"),
        Instrument(RELIANCE, InstrumentKind.EQUITY, "NSE", Decimal("0.05"), Decimal(1)),
    ]


@dataclass
class Env:
    bus: EventBus
    stack: TradingStack
    venues: dict[Venue, FakeVenue]
    market: MarketState
    path: Path

    @property
    def api(self):  # type: ignore[no-untyped-def]
        return self.stack.api

    @property
    def oms(self):  # type: ignore[no-untyped-def]
        return self.stack.oms

    def tick(self, iid: InstrumentId, last: str, bid: str | None = None, ask: str | None = None) -> None:
        self.bus.publish(Tick(iid, time.time_ns(), last_price=Decimal(last), bid=Decimal(bid) if bid else None,
                              ask=Decimal(ask) if ask else None))

    async def settle(self) -> None:
        """Let scheduled sends and bus tasks run."""
        for _ in range(5):
            await asyncio.sleep(0)
        await self.bus.drain()
        for _ in range(5):
            await asyncio.sleep(0)


async def make_env(path: Path, profile: RiskProfile | None = None, freeze: dict[str, Decimal] | None = None,
                   grace_s: float = 0.0, start: bool = True, venues: dict[Venue, FakeVenue] | None = None,
                   bus: EventBus | None = None, check_interval_s: float = 3600) -> Env:
    bus = bus or EventBus()
    if venues is None:
        venues = {v: FakeVenue(v, bus) for v in (Venue.BINANCE, Venue.ZERODHA)}
    market = MarketState(bus)
    profile = profile or RiskProfile.from_dict({"default": {"price_band_pct": "none"}})
    stack = build_trading(bus, path, venues, instruments(), market, profile=profile, freeze_limits=freeze,
                          check_interval_s=check_interval_s, not_found_grace_s=grace_s)
    env = Env(bus, stack, venues, market, path)
    if start:
        await stack.start()
    return env
