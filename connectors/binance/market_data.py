"""Market data of one Binance product: stream subscriptions, frame routing, and synced order books.

Channel.BOOK -> <s>@depth@100ms kept in sync by DepthSync against REST snapshots (a snapshot BookDelta
once in sync, then deltas; a gap or a reconnect resynchronises); Channel.TRADES -> <s>@trade (spot) or
<s>@aggTrade (USD-M); Channel.TICKS -> <s>@bookTicker (the touch) and <s>@miniTicker (rolling 24 h
last/open/high/low/volume, once a second), each published as a partial Tick that MarketState merges;
bars -> <s>@kline_<interval>.
USD-M streams are routed (binance.md B1): book streams and bookTicker on /public (channel "market");
trades, klines and miniTicker on /market (published as channel "ticker" so both count as market feeds).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

import orjson

from core.bus import EventBus
from core.domain import InstrumentId, Venue
from core.errors import RateLimited, ShrivenQuantError
from core.venue import Channel

from .config import BinanceEndpoints
from .depth import DepthParser, DepthSync
from .rest import BinanceRest
from .streams import MarketStream
from .wire_market import AggTradeMsg, BookTickerMsg, KlineMsg, Malformed, MiniTickerMsg, TradeMsg

log = logging.getLogger(__name__)

SNAPSHOT_ATTEMPTS = 20


class MarketData:
    """Subscriptions and live books of one product. start(); subscribe(...); close()."""

    def __init__(self, bus: EventBus, venue: Venue, rest: BinanceRest, endpoints: BinanceEndpoints,
                 resolve: Callable[[str], InstrumentId | None], *, stale_after_s: float = 1.5,
                 max_age_s: float = 23.5 * 3600, snapshot_limit: int | None = None, backoff_s: float = 0.25) -> None:
        self._bus = bus
        self.venue = venue
        self.futures = venue is Venue.BINANCE_USDM
        self._rest = rest
        self._resolve = resolve
        self.snapshot_limit = snapshot_limit or (1000 if self.futures else 5000)
        self._parser = DepthParser()
        self.books: dict[str, DepthSync] = {}  # symbol -> sync
        self.last_price: dict[str, Decimal] = {}
        self._resyncing: dict[str, asyncio.Task[None]] = {}
        limit = 10 if self.futures else 5
        kwargs = dict(max_messages_per_s=limit, stale_after_s=stale_after_s, max_age_s=max_age_s, backoff_s=backoff_s)
        if self.futures and endpoints.routed:
            self.book_stream = MarketStream(endpoints.streams + "/public", venue, bus, self._on_frame, channel="market",
                                            on_connect=self._resync_all, on_disconnect=self._reset_books, **kwargs)
            self.trade_stream = MarketStream(endpoints.streams + "/market", venue, bus, self._on_frame, channel="ticker",
                                             **kwargs)
        else:
            self.book_stream = self.trade_stream = MarketStream(endpoints.streams, venue, bus, self._on_frame,
                                                                channel="market", on_connect=self._resync_all,
                                                                on_disconnect=self._reset_books, **kwargs)

    @property
    def streams(self) -> list[MarketStream]:
        return [self.book_stream] if self.book_stream is self.trade_stream else [self.book_stream, self.trade_stream]

    async def start(self, timeout_s: float = 5.0) -> None:
        """Open the stream connections and wait (bounded) until they are up."""
        for stream in self.streams:
            stream.start()
        # asyncio.wait, not wait_for(gather(...)): a cancelled gather leaves an unretrieved exception behind
        waiters = [asyncio.ensure_future(s.up.wait()) for s in self.streams]
        try:
            _, pending = await asyncio.wait(waiters, timeout=timeout_s)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if pending:
            log.warning("%s market streams not connected after %.0f s; they keep trying", self.venue.value, timeout_s)

    async def close(self) -> None:
        for task in list(self._resyncing.values()):
            task.cancel()
        for stream in self.streams:
            await stream.close()

    # subscriptions

    def _names(self, symbol: str, channel: Channel) -> list[tuple[MarketStream, str]]:
        lower = symbol.lower()
        if channel is Channel.BOOK:
            return [(self.book_stream, f"{lower}@depth@100ms")]
        if channel is Channel.TICKS:
            return [(self.book_stream, f"{lower}@bookTicker"), (self.trade_stream, f"{lower}@miniTicker")]
        return [(self.trade_stream, f"{lower}@aggTrade" if self.futures else f"{lower}@trade")]

    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        wanted: dict[MarketStream, list[str]] = {}
        channels, instrument_ids = list(channels), list(instrument_ids)
        for iid in instrument_ids:
            for channel in channels:
                for stream, name in self._names(iid.symbol, channel):
                    wanted.setdefault(stream, []).append(name)
                if channel is Channel.BOOK and iid.symbol not in self.books:
                    self.books[iid.symbol] = DepthSync(iid, self.futures)
        for stream, names in wanted.items():
            await stream.subscribe(names)
        if Channel.BOOK in channels and self.book_stream.connected:
            for iid in instrument_ids:
                self._start_resync(iid.symbol)

    async def unsubscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        gone: dict[MarketStream, list[str]] = {}
        channels = list(channels)
        for iid in instrument_ids:
            for channel in channels:
                for stream, name in self._names(iid.symbol, channel):
                    gone.setdefault(stream, []).append(name)
                if channel is Channel.BOOK:
                    self.books.pop(iid.symbol, None)
                    task = self._resyncing.pop(iid.symbol, None)
                    if task is not None:
                        task.cancel()
        for stream, names in gone.items():
            await stream.unsubscribe(names)

    async def subscribe_bars(self, instrument_id: InstrumentId, interval: str) -> None:
        await self.trade_stream.subscribe([f"{instrument_id.symbol.lower()}@kline_{interval}"])

    async def unsubscribe_bars(self, instrument_id: InstrumentId, interval: str) -> None:
        await self.trade_stream.unsubscribe([f"{instrument_id.symbol.lower()}@kline_{interval}"])

    # frames

    def _on_frame(self, text: str) -> None:
        try:
            msg = orjson.loads(text)
            stream, data = msg["stream"], msg["data"]
            symbol, _, kind = stream.partition("@")
            iid = self._resolve(symbol.upper())
            if iid is None:
                return
            if kind.startswith("depth"):
                self._on_depth(symbol.upper(), data)
            elif kind == "bookTicker":
                ticker = BookTickerMsg.parse(data)
                if ticker.b and ticker.a:
                    self.last_price[iid.symbol] = (ticker.b + ticker.a) / 2
                self._bus.publish(ticker.parse_to_tick(iid, time.time_ns()))
            elif kind == "miniTicker":
                self._bus.publish(MiniTickerMsg.parse(data).parse_to_tick(iid))
            elif kind in ("trade", "aggTrade"):
                trade = (TradeMsg if kind == "trade" else AggTradeMsg).parse(data).parse_to_trade(iid)
                self.last_price[iid.symbol] = trade.price
                self._bus.publish(trade)
            elif kind.startswith("kline_"):
                self._bus.publish(KlineMsg.parse(data).parse_to_bar(iid))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # Malformed is a ValueError
            log.warning("Binance market frame skipped (%s: %s)", type(exc).__name__, str(exc)[:120])

    def _on_depth(self, symbol: str, data: object) -> None:
        sync = self.books.get(symbol)
        if sync is None:
            return
        delta = sync.on_data(data, self._parser)
        if delta is not None:
            self._bus.publish(delta)
        elif sync.awaiting_snapshot:
            self._start_resync(symbol)

    # snapshots

    async def _resync_all(self) -> None:
        for symbol in list(self.books):
            self._start_resync(symbol)

    def _reset_books(self) -> None:
        for sync in self.books.values():
            sync.reset()

    def _start_resync(self, symbol: str) -> None:
        task = self._resyncing.get(symbol)
        if task is None or task.done():
            self._resyncing[symbol] = asyncio.get_running_loop().create_task(self._resync(symbol))

    async def _resync(self, symbol: str) -> None:
        path = "/fapi/v1/depth" if self.futures else "/api/v3/depth"
        limit = self.snapshot_limit
        weight = _depth_weight(limit, self.futures)
        for attempt in range(SNAPSHOT_ATTEMPTS):
            sync = self.books.get(symbol)
            if sync is None or not sync.awaiting_snapshot or not self.book_stream.connected:
                return
            try:
                snap = await self._rest.request("GET", path, {"symbol": symbol, "limit": limit}, weight=weight)
                delta = sync.on_snapshot(int(snap["lastUpdateId"]), self._parser.parse_levels(snap["bids"]),
                                         self._parser.parse_levels(snap["asks"]), time.time_ns())
            except RateLimited as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except (ShrivenQuantError, Malformed, KeyError, TypeError, ValueError) as exc:
                log.warning("%s depth snapshot failed (%s); retrying", symbol, exc)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** attempt))
                continue
            if delta is not None:
                log.info("%s book in sync at update %d (%d resyncs so far)", symbol, delta.update_id, sync.resyncs)
                self._bus.publish(delta)
                return
            await asyncio.sleep(min(2.0, 0.05 * 2 ** attempt))  # snapshot older than the diffs: take another
        log.error("%s book could not be synchronised after %d snapshots", symbol, SNAPSHOT_ATTEMPTS)


def _depth_weight(limit: int, futures: bool) -> int:
    if futures:
        return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
