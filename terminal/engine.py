"""The engine of one running profile, without Qt: venues, market state, trading stack, strategy host.

Start-up order: emulator (demo profile) -> venues connect and load instruments -> the trading stack
loads the journal and reconciles each venue -> the bar service (candle history and live bars) ->
market data subscriptions -> the engine channel and the strategy host. A venue that fails to connect is reported (ConnectionChanged FAILED, log) and the
rest still start. Shutdown runs the same steps backwards and never raises.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.bus import EventBus
from core.chain.margin import BasketMargin, MarginLeg
from core.chain.position_greeks import market_greeks
from core.domain import Balance, ConnectionChanged, ConnectionStatus, InstrumentId, Order, OrderRequest, Venue, order_problems
from core.errors import AuthError, ShrivenQuantError, VenueError
from core.instruments import InstrumentCatalog
from core.marketdata.bar_service import BarService
from core.marketdata.state import MarketState
from core.risk import RiskProfile
from core.trading.stack import TradingStack, build_trading
from core.venue import Channel, VenueClient

from .emulator_process import EmulatorProcess
from .engine_channel import EngineChannel
from .settings import Profile, Settings
from .strategy_manager import StrategyManager

log = logging.getLogger(__name__)

VenueFactory = Callable[[Profile, dict[str, str], EventBus], list[VenueClient]]
LoginHandler = Callable[[VenueClient], Awaitable[None]]  # signs a client in (the Kite daily login), or raises


@dataclass
class EngineOrderEntry:
    """The OrderEntry every panel, the console and strategies use: the trading stack once it is up."""

    engine: "Engine"

    def _stack(self) -> TradingStack:
        if self.engine.stack is None:
            raise ShrivenQuantError("not connected yet: the trading engine is still starting")
        return self.engine.stack

    async def place(self, request: OrderRequest) -> Order:
        handle = await self._stack().api.place(request)
        return handle.order

    def submit(self, request: OrderRequest) -> Order:
        """place() for callers on the loop that must not wait for a task switch (see TradingApi.submit)."""
        return self._stack().api.submit(request).order

    async def cancel(self, client_order_id: str) -> Order:
        return await self._stack().api.cancel(client_order_id)

    async def modify(self, client_order_id: str, price: Decimal | None = None, quantity: Decimal | None = None,
                     trigger_price: Decimal | None = None) -> Order:
        return await self._stack().api.modify(client_order_id, price, quantity, trigger_price)

    def working_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        stack = self.engine.stack
        return [] if stack is None else stack.api.open_orders(None, instrument_id)

    def preview(self, request: OrderRequest) -> list[str]:
        stack = self.engine.stack
        if stack is None:
            return ["not connected yet"]
        inst = self.engine.catalog.find(request.instrument_id)
        if inst is None:
            return [f"unknown instrument {request.instrument_id}"]
        return order_problems(inst, request, self.engine.market.last_price(inst.id)) or stack.risk.preview(request, inst)


@dataclass
class Engine:
    settings: Settings
    profile: Profile
    bus: EventBus
    venue_factory: VenueFactory
    market: MarketState = field(init=False)
    catalog: InstrumentCatalog = field(default_factory=InstrumentCatalog)
    venues: dict[Venue, VenueClient] = field(default_factory=dict)
    stack: TradingStack | None = None
    bars: BarService | None = None
    channel: EngineChannel | None = None
    strategies: StrategyManager | None = None
    emulator: EmulatorProcess | None = None
    balances: list[Balance] = field(default_factory=list)
    holdings: list[dict[str, Any]] = field(default_factory=list)  # Kite demat holdings, as Kite reports them
    on_ready: list[Callable[[], None]] = field(default_factory=list)
    login: LoginHandler | None = None  # called when a venue says "log in" (Kite: once a day), then connect is retried
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _clients: list[VenueClient] = field(default_factory=list)  # every client built, connected or not
    _subscribed: set[InstrumentId] = field(default_factory=set)
    _emulator_boot: "asyncio.Future[dict[str, str]] | None" = None

    def __post_init__(self) -> None:
        self.market = MarketState(self.bus)
        self.entry = EngineOrderEntry(self)

    @property
    def data_dir(self) -> Path:
        return self.settings.profile_dir(self.profile.name)

    async def start(self, subscribe: list[InstrumentId] | None = None) -> None:
        """Bring every part up in order (see the module docstring)."""
        endpoints = await self.launch_emulator()
        self._clients = self.venue_factory(self.profile, endpoints, self.bus)
        outcomes = await asyncio.gather(*(self._connect(c) for c in self._clients), return_exceptions=True)  # side by side
        for client, outcome in zip(self._clients, outcomes):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, Exception):  # a venue that cannot connect must not stop the others
                log.error("%s: could not connect: %s", client.venue.value, outcome)
                self.bus.publish(ConnectionChanged(client.venue, "rest", ConnectionStatus.FAILED, str(outcome)))
                await client.close()
                continue
            self.venues[client.venue] = client
            self.catalog.add(client.instruments())
            log.info("%s: connected, %d instruments", client.venue.value, len(client.instruments()))
        self.stack = build_trading(self.bus, self.data_dir / "journal.db", self.venues, self.catalog, self.market,
                                   profile=_risk_profile(self.profile), greeks=market_greeks(self.market, self.catalog))
        await self.stack.start()
        self.bars = BarService(self.bus, self.venues, self.stack.journal.cache)
        self.bars.start()
        await self.subscribe(subscribe or [])
        self.channel = EngineChannel(self.bus, self.market, self.catalog, self.entry, positions=self.stack.portfolio.positions)
        await self.channel.start()
        self.strategies = StrategyManager(self.channel)
        self._tasks.append(asyncio.get_running_loop().create_task(self._poll_accounts()))
        for callback in self.on_ready:  # the window fills in now; the strategy host starts meanwhile
            callback()
        await self.strategies.start()

    def launch_emulator(self) -> "asyncio.Future[dict[str, str]]":
        """Start the emulator child of a demo profile (once) and return its endpoints when it serves.

        Called early, the emulator boots while the window is being built; start() then just awaits it."""
        if self._emulator_boot is None:
            if self.profile.uses_emulator:
                self.emulator = EmulatorProcess(seed=int(self.profile.options.get("emulator_seed", 7)))
                self._emulator_boot = asyncio.ensure_future(self.emulator.start())
            else:
                self._emulator_boot = asyncio.get_running_loop().create_future()
                self._emulator_boot.set_result({})
        return self._emulator_boot

    async def _connect(self, client: VenueClient) -> None:
        """Connect; where the venue wants a login (Kite's daily session), run the login handler and retry once."""
        try:
            await client.connect()
        except AuthError:
            if self.login is None or not hasattr(client, "login_interactive"):
                raise
            log.info("%s: login required; waiting for the login in the browser", client.venue.value)
            await self.login(client)
            await client.connect()

    async def subscribe(self, instrument_ids: list[InstrumentId]) -> None:
        """Stream book, trades and ticks of instruments (grouped per venue); each instrument once."""
        by_venue: dict[Venue, list[InstrumentId]] = {}
        for iid in instrument_ids:
            if iid in self.catalog and iid not in self._subscribed and iid.venue in self.venues:
                self._subscribed.add(iid)
                by_venue.setdefault(iid.venue, []).append(iid)
        for venue, ids in by_venue.items():
            client = self.venues.get(venue)
            if client is not None:
                try:
                    await client.subscribe(ids, (Channel.BOOK, Channel.TRADES, Channel.TICKS))
                except ShrivenQuantError as exc:
                    self._subscribed.difference_update(ids)  # a later call tries them again
                    log.error("%s: subscribe failed: %s", venue.value, exc)

    async def basket_margin(self, legs: Sequence[MarginLeg]) -> BasketMargin:
        """What the legs would block together, from their venue's basket margin calculator (Kite only)."""
        venues = {leg.instrument_id.venue for leg in legs}
        client = self.venues.get(venues.pop()) if len(venues) == 1 else None
        quote = getattr(client, "basket_margin", None)
        if quote is None:
            raise VenueError("no basket margin calculator for these legs' venue")
        return await quote(legs)  # type: ignore[no-any-return]

    async def _poll_accounts(self, every_s: float = 3.0) -> None:
        while True:
            balances: list[Balance] = []
            holdings: list[dict[str, Any]] = []
            for venue, client in list(self.venues.items()):
                try:
                    balances.extend(await client.balances())
                    fetch = getattr(client, "holdings", None)  # only Kite has demat holdings
                    if fetch is not None:
                        holdings.extend(await fetch())
                except ShrivenQuantError as exc:
                    log.debug("%s: account snapshot unavailable: %s", venue.value, exc)
            self.balances, self.holdings = balances, holdings
            await asyncio.sleep(every_s)

    async def stop(self) -> None:
        """Stop everything in reverse order; log failures, never raise."""
        if self._emulator_boot is not None and not self._emulator_boot.done():
            self._emulator_boot.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        steps: list[tuple[str, Any]] = [("bars", self.bars and self.bars.stop()),
                                        ("strategies", self.strategies and self.strategies.stop()),
                                        ("channel", self.channel and self.channel.stop()),
                                        ("trading", self.stack and self.stack.stop())]
        steps += [(f"venue {c.venue.value}", c.close()) for c in self._clients]  # closing is idempotent
        steps.append(("emulator", self.emulator and self.emulator.stop()))
        for name, step in steps:
            if step is None:
                continue
            try:
                await asyncio.wait_for(step, 10)
            except Exception:
                log.exception("error while stopping %s", name)


def _risk_profile(profile: Profile) -> RiskProfile | None:
    """The profile's [profiles.NAME.risk] table, or None for the defaults."""
    table = profile.options.get("risk")
    return RiskProfile.from_dict(table) if table else None
