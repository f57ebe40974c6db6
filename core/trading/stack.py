"""Wiring of the trading engine: journal, OMS, portfolio, risk, kill switch, reconciliation and the API.

    stack = build_trading(bus, "journal.db", {Venue.BINANCE: binance_client}, catalog, market_state,
                          profile=RiskProfile.from_toml(text), freeze_limits={"NIFTY": Decimal(1800)})
    await stack.start()      # load the journal, follow the bus, reconcile every venue, resume brackets
    handle = await stack.api.place(OrderRequest(...))
    ...
    await stack.stop()

Start-up order matters: the OMS loads working orders and the portfolio replays journaled fills before
the bus is followed; every venue is reconciled before brackets resume (they may place orders).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from core.bus import EventBus
from core.domain import Instrument, InstrumentId, Venue
from core.instruments import InstrumentCatalog
from core.journal import Journal
from core.portfolio import CostMethod, GreeksFn, MarkMode, Portfolio
from core.risk import RiskEngine, RiskProfile, default_profile
from core.risk.engine import MarketView
from core.venue import VenueClient

from .api import TradingApi
from .kill_switch import KillSwitch
from .oms import OrderManager
from .recovery import Reconciler


@dataclass
class TradingStack:
    bus: EventBus
    journal: Journal
    oms: OrderManager
    portfolio: Portfolio
    risk: RiskEngine
    kill_switch: KillSwitch
    reconciler: Reconciler
    api: TradingApi

    async def start(self, day_start_ns: int | None = None) -> None:
        """Load state, follow the bus, reconcile every venue, then resume brackets and the in-flight timer."""
        if day_start_ns is None:
            now = datetime.now(timezone.utc)
            day_start_ns = int(datetime(now.year, now.month, now.day, tzinfo=timezone.utc).timestamp()) * 10**9
        self.kill_switch.load()
        self.oms.load()
        self.portfolio.load(self.journal.fills(), day_start_ns)
        self.portfolio.start()
        self.oms.start()
        self.reconciler.start()
        await self.reconciler.reconcile_all()
        self.api.start()

    async def stop(self) -> None:
        """Stop timers and tasks, then close the journal."""
        await self.api.stop()
        await self.reconciler.stop()
        await self.oms.stop()
        self.portfolio.stop()
        self.journal.close()


def build_trading(bus: EventBus, journal_path: str | Path, venues: Mapping[Venue, VenueClient],
                  instruments: InstrumentCatalog | Mapping[InstrumentId, Instrument] | Iterable[Instrument],
                  market: MarketView, *, profile: RiskProfile | None = None,
                  freeze_limits: Mapping[str, Decimal] | None = None, cost_method: CostMethod = CostMethod.AVERAGE,
                  mark: MarkMode = MarkMode.LAST, greeks: GreeksFn | None = None, id_prefix: str = "SQ",
                  clock_ns: Callable[[], int] = time.time_ns, monotonic: Callable[[], float] = time.monotonic,
                  check_interval_s: float = 2.0, not_found_grace_s: float = 10.0,
                  order_channels: Iterable[str] = ("user",)) -> TradingStack:
    """Build every trading part on one bus and one journal file. Nothing runs until start()."""
    if isinstance(instruments, InstrumentCatalog):
        catalog = instruments
    else:
        catalog = InstrumentCatalog(instruments.values() if isinstance(instruments, Mapping) else instruments)
    journal = Journal.open(journal_path, clock_ns)
    oms = OrderManager(bus, journal, venues, id_prefix=id_prefix, clock_ns=clock_ns, check_interval_s=check_interval_s,
                       not_found_grace_s=not_found_grace_s)
    portfolio = Portfolio(bus, catalog, method=cost_method, mark=mark, greeks=greeks)
    kill_switch = KillSwitch(journal, bus, clock_ns=clock_ns)
    risk = RiskEngine(profile or default_profile(), market, portfolio, oms, kill_switch=kill_switch,
                      freeze_limits=freeze_limits, audit=journal, bus=bus, clock_ns=clock_ns, monotonic=monotonic)
    reconciler = Reconciler(bus, journal, oms, portfolio, clock_ns=clock_ns, order_channels=order_channels)
    api = TradingApi(bus, oms, risk, catalog, portfolio, market, audit=journal)
    kill_switch.attach(api)
    return TradingStack(bus, journal, oms, portfolio, risk, kill_switch, reconciler, api)
