"""What the spot and USD-M connectors share: connecting, instruments, market data, the user stream's
events on the bus, order lookups, history and the order-outcome rules.

Outcome rules: a placement that gets a 5xx, a timeout or "execution status unknown" is never sent
again; the connector asks for the order by its client id and returns what the venue says, or raises
OrderOutcomeUnknown when the venue does not (yet) know it. Client order ids are the OMS's.
"""
from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx

from core.bus import EventBus
from core.domain import (BarEvent, ClientOrderId, ConnectionChanged, ConnectionStatus, Fill, FillEvent, Instrument,
                         InstrumentId, Order, Venue, VenueOrderReport)
from core.errors import OrderOutcomeUnknown, UnknownInstrument, ValidationError, VenueError
from core.venue import Channel, RequestSent, VenueClient

from .config import BinanceCredentials, BinanceEndpoints
from .errors import NO_SUCH_ORDER
from .instruments import parse_exchange_info, validate
from .market_data import MarketData
from .ratelimit import SPOT_DEFAULT_LIMITS, USDM_DEFAULT_LIMITS
from .rest import BinanceRest, OutcomeUnknown
from .userdata import UserStream
from .wire_account import OrderMsg, TradeMsg
from .wire_market import MS, KlineRow, Malformed

log = logging.getLogger(__name__)

_CLIENT_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/_-")
KLINE_PAGE = 1000
_INTERVAL_MS = {"1s": 1_000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
                "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000, "1M": 2_592_000_000}


class BinanceClient(VenueClient):
    """Base of BinanceSpotClient and BinanceUsdmClient (see their docstrings for construction)."""

    venue: Venue
    api: str  # "/api/v3" or "/fapi/v1"

    def __init__(self, bus: EventBus, endpoints: BinanceEndpoints, credentials: BinanceCredentials | None = None, *,
                 recv_window_ms: int = 5000, timeout_s: float = 10.0, stale_after_s: float = 1.5,
                 stream_max_age_s: float = 23.5 * 3600, snapshot_limit: int | None = None, backoff_s: float = 0.25,
                 user_stream: bool = True,
                 resolve_attempts: int = 3, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.bus = bus
        self.endpoints = endpoints
        self.credentials = credentials
        self.futures = self.venue is Venue.BINANCE_USDM
        limits = USDM_DEFAULT_LIMITS if self.futures else SPOT_DEFAULT_LIMITS
        self.rest = BinanceRest(endpoints.rest, credentials, time_path=f"{self.api}/time", recv_window_ms=recv_window_ms,
                                timeout_s=timeout_s, limits=limits, transport=transport)
        self.market = MarketData(bus, self.venue, self.rest, endpoints, self._resolve, stale_after_s=stale_after_s,
                                 max_age_s=stream_max_age_s, snapshot_limit=snapshot_limit, backoff_s=backoff_s)
        self.use_user_stream = user_stream and credentials is not None
        self.resolve_attempts = resolve_attempts
        self.backoff_s = backoff_s
        self._instruments: dict[str, Instrument] = {}
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id
        self._traded: set[str] = set()  # symbols we sent orders for (fills() looks there)
        self._user: UserStream | None = None
        self._connected = False

    # life cycle

    async def connect(self) -> None:
        """Sync the clock, load instruments, open the market streams and (with a key) the user stream."""
        if self._connected:
            return
        await self.rest.sync_time()
        info = await self.rest.request("GET", f"{self.api}/exchangeInfo", weight=20 if not self.futures else 1)
        if info.get("rateLimits"):
            self.rest.limiter.configure(info["rateLimits"])
        self._instruments = {i.symbol: i for i in parse_exchange_info(self.venue, info)}
        await self.market.start()
        if self.use_user_stream:
            self._user = self._make_user_stream()
            self._user.start()
            try:
                await asyncio.wait_for(self._user.settled.wait(), 10.0)
            except asyncio.TimeoutError:
                log.warning("%s user stream not up after 10 s; orders still work, updates may lag", self.venue.value)
            if self._user.refusal is not None:
                refusal = self._user.refusal
                await self.close()
                raise refusal
        self._connected = True
        self.bus.publish(ConnectionChanged(self.venue, "rest", ConnectionStatus.CONNECTED, f"{len(self._instruments)} instruments"))

    async def close(self) -> None:
        """Close streams and the HTTP client. Never raises."""
        try:
            await self.market.close()
            if self._user is not None:
                await self._user.close()
            await self.rest.close()
        except Exception:
            log.exception("closing the %s connector", self.venue.value)
        if self._connected:
            self._connected = False
            self.bus.publish(ConnectionChanged(self.venue, "rest", ConnectionStatus.DISCONNECTED))

    @property
    def user_stream_status(self) -> ConnectionStatus:
        """The user data stream's state (DISCONNECTED when there is none)."""
        return self._user.status if self._user is not None else ConnectionStatus.DISCONNECTED

    @abstractmethod
    def _make_user_stream(self) -> UserStream:
        """The product's user data stream (spot WS API or USD-M listenKey)."""

    # instruments and market data

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument of an id of this venue; UnknownInstrument otherwise."""
        inst = self._instruments.get(instrument_id.symbol) if instrument_id.venue is self.venue else None
        if inst is None:
            raise UnknownInstrument(f"unknown instrument {instrument_id}")
        return inst

    def _resolve(self, symbol: str) -> InstrumentId | None:
        inst = self._instruments.get(symbol)
        return inst.id if inst is not None else None

    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        ids = [self.instrument(i).id for i in instrument_ids]
        await self.market.subscribe(ids, channels)

    async def unsubscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        await self.market.unsubscribe([self.instrument(i).id for i in instrument_ids], channels)

    async def subscribe_bars(self, instrument_id: InstrumentId, interval: str) -> None:
        """Stream candles (<symbol>@kline_<interval>) as BarEvents."""
        if interval not in _INTERVAL_MS:
            raise ValidationError(f"unknown kline interval {interval}")
        await self.market.subscribe_bars(self.instrument(instrument_id).id, interval)

    async def unsubscribe_bars(self, instrument_id: InstrumentId, interval: str) -> None:
        """Stop streaming candles of an interval."""
        await self.market.unsubscribe_bars(self.instrument(instrument_id).id, interval)

    def client_order_id_ok(self, client_order_id: ClientOrderId) -> bool:
        return 0 < len(client_order_id) <= 36 and set(client_order_id) <= _CLIENT_ID_CHARS

    # orders: shared pieces

    def _check(self, order: Order) -> Instrument:
        inst = self.instrument(order.instrument_id)
        if not self.client_order_id_ok(order.client_order_id):
            raise ValidationError(f"client order id {order.client_order_id!r} is not valid on Binance (1-36 of A-Z a-z 0-9 . : / _ -)")
        validate(inst, order.request, self.market.last_price.get(inst.symbol))
        self._traded.add(inst.symbol)
        return inst

    async def cancel_order(self, order: Order) -> VenueOrderReport:
        inst = self.instrument(order.instrument_id)
        return await self._order_request(order, "DELETE", "/order", [("symbol", inst.symbol), order_ref(order)])

    async def _place(self, order: Order, params: list[tuple[str, Any]], sent: RequestSent | None) -> VenueOrderReport:
        return await self._order_request(order, "POST", "/order", params, orders=1, sent=sent)

    async def _order_request(self, order: Order, method: str, path: str, params: list[tuple[str, Any]],
                             orders: int = 0, sent: RequestSent | None = None) -> VenueOrderReport:
        """Send a request that changes an order; on an unknown outcome look the order up, never send it again."""
        try:
            answer = await self.rest.request(method, f"{self.api}{path}", params, weight=1, signed=True, orders=orders,
                                             is_order=True, sent=sent)
        except OutcomeUnknown as exc:
            return await self._resolve_unknown(order, exc)
        return self._report(OrderMsg.parse(answer))

    async def _resolve_unknown(self, order: Order, exc: OutcomeUnknown) -> VenueOrderReport:
        log.warning("%s %s: %s; querying instead of resending", self.venue.value, order.client_order_id, exc)
        for attempt in range(self.resolve_attempts):
            try:
                report = await self.query_order(order)
            except VenueError as err:
                log.info("resolving %s: query failed (%s)", order.client_order_id, err)
                report = None
            if report is not None:
                return report
            await asyncio.sleep(self.backoff_s * 2 ** attempt)
        raise OrderOutcomeUnknown(f"{order.client_order_id}: {exc}; the venue does not know the order yet") from None

    def _report(self, msg: OrderMsg) -> VenueOrderReport:
        self._client_ids[str(msg.orderId)] = msg.origClientOrderId or msg.clientOrderId
        return self._adjust(msg.parse_to_report(self.venue))

    def _adjust(self, report: VenueOrderReport) -> VenueOrderReport:
        """Hook: rewrite a venue order's report as the client order's (spot cancel-replace)."""
        return report

    async def query_order(self, order: Order) -> VenueOrderReport | None:
        """GET the order by our client id (origClientOrderId); None if the venue does not know it.

        After a spot cancel-replace the client id names the newest venue order, which is the one alive.
        """
        inst = self.instrument(order.instrument_id)
        params: list[tuple[str, Any]] = [("symbol", inst.symbol), ("origClientOrderId", order.client_order_id)]
        try:
            answer = await self.rest.request("GET", f"{self.api}/order", params, weight=4 if not self.futures else 1, signed=True)
        except VenueError as exc:
            if exc.code == NO_SUCH_ORDER:
                return None
            raise
        return self._report(OrderMsg.parse(answer))

    async def open_orders(self) -> list[VenueOrderReport]:
        answer = await self.rest.request("GET", f"{self.api}/openOrders", weight=80 if not self.futures else 40, signed=True)
        reports = [self._report(OrderMsg.parse(o)) for o in answer]
        self._traded.update(r.instrument_id.symbol for r in reports if r.instrument_id is not None)
        return reports

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        """Our trades since a time, in every symbol we traded this session or have open orders in."""
        path = f"{self.api}/userTrades" if self.futures else f"{self.api}/myTrades"
        out: list[Fill] = []
        for symbol in sorted(self._traded):
            params: list[tuple[str, Any]] = [("symbol", symbol), ("limit", 1000)]
            if since_ns:
                params.append(("startTime", since_ns // MS))
            for row in await self.rest.request("GET", path, params, weight=5 if self.futures else 20, signed=True):
                trade = TradeMsg.parse(row)
                if trade.time * MS >= since_ns:
                    out.append(trade.parse_to_fill(self.venue, self._client_ids.get(str(trade.orderId), "")))
        return sorted(out, key=lambda f: f.ts_ns)

    # user stream events

    def _publish_order_event(self, report: VenueOrderReport, fill: Fill | None) -> None:
        """Publish a fill, then the report that counts it (the OMS dedupes either way)."""
        self._client_ids[report.venue_order_id] = report.client_order_id
        if fill is not None:
            self.bus.publish(FillEvent(fill))
        self.bus.publish(report)

    # history

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        """Klines between two times, paged 1000 at a time within the rate limits."""
        inst = self.instrument(instrument_id)
        step = _INTERVAL_MS.get(timeframe)
        if step is None:
            raise ValidationError(f"unknown kline interval {timeframe}")
        start, end = start_ns // MS, end_ns // MS
        bars: list[BarEvent] = []
        while start <= end:
            rows = await self.rest.request("GET", f"{self.api}/klines", [
                ("symbol", inst.symbol), ("interval", timeframe), ("startTime", start), ("endTime", end),
                ("limit", KLINE_PAGE)], weight=2 if not self.futures else 5)
            if not rows:
                break
            now = self.rest.server_ms()
            for row in rows:
                try:
                    bars.append(KlineRow.parse(row).parse_to_bar(inst.id, timeframe, now))
                except Malformed as exc:
                    log.warning("kline row skipped: %s", exc)
            last_open = int(rows[-1][0])
            if len(rows) < KLINE_PAGE or last_open + step > end:
                break
            start = last_open + step
        return bars

    async def _reference(self, symbol: str) -> Decimal | None:
        """The last price seen on the streams, else the venue's last trade price."""
        price = self.market.last_price.get(symbol)
        if price is None:
            answer = await self.rest.request("GET", f"{self.api}/ticker/price", {"symbol": symbol}, weight=2)
            price = Decimal(str(answer["price"])) or None
        return price


def order_ref(order: Order) -> tuple[str, str]:
    """How a request names an existing order: the venue's id once known, else ours."""
    return ("orderId", order.venue_order_id) if order.venue_order_id else ("origClientOrderId", order.client_order_id)
