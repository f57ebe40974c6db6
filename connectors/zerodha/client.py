"""ZerodhaClient: core.venue.VenueClient for Kite Connect v3 (httpx REST, the binary ticker, login).

    client = ZerodhaClient(bus, KiteEndpoints.from_emulator(emu.endpoints), "demo-kite-key",
                           api_secret="demo-kite-secret", token_store=store, cache_dir=path)
    await client.login_interactive(open_url=webbrowser.open, port=5010)   # or login_with_request_token / _redirect_url
    await client.connect()

connect() takes the stored access token (AuthError "login required" without one), checks it, loads the
instruments (cached for the day), opens the ticker and reads the order book. A TokenException at any
point (REST 403, or the ticker refusing the session) publishes ConnectionChanged(rest, FAILED, "login
required") and raises AuthError; subscriptions, instruments and order tracking are kept, and a new
login resumes the ticker, which re-subscribes and re-reads the order book.

Subscriptions: Channel.TICKS and Channel.BOOK use full mode (Tick with bid/ask; a 5-level BookDelta
snapshot), Channel.TRADES alone quote mode (a TradePrint whenever the day's volume grows).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from core.bus import EventBus
from core.chain.margin import BasketMargin, MarginLeg
from core.domain import (Balance, BarEvent, ClientOrderId, ConnectionChanged, ConnectionStatus, Fill, Instrument, InstrumentId,
                         InstrumentKind, Order, Position, Product, Tick, Venue, VenueOrderReport)
from core.errors import AuthError, UnknownInstrument, ValidationError
from core.venue import Channel, RequestSent, VenueClient

from . import auth
from .instruments import DumpCache, InstrumentIndex, parse_dump
from .margins import BASKET_PATH, basket_body, parse_basket_margin
from .orders import OrderDesk
from .ratelimit import HISTORICAL, QUOTE, KiteLimits
from .rest import KiteRest, Progress
from .stream import KiteTickerStream
from .ticker import KiteTick
from .ticks import to_book, to_tick, to_trade
from .wire import IST, KITE_ORDER_TYPE, tag_ok

log = logging.getLogger(__name__)
INTERVALS = {"1m": ("minute", 60), "3m": ("3minute", 180), "5m": ("5minute", 300), "10m": ("10minute", 600),
             "15m": ("15minute", 900), "30m": ("30minute", 1800), "1h": ("60minute", 3600), "60m": ("60minute", 3600),
             "1d": ("day", 86400)}
MAX_SPAN_DAYS = {"minute": 60, "3minute": 100, "5minute": 100, "10minute": 100, "15minute": 200, "30minute": 200,
                 "60minute": 400, "day": 2000}
QUOTE_BATCH = {"quote": 500, "ohlc": 1000, "ltp": 1000}


@dataclass(frozen=True)
class KiteEndpoints:
    """Where Kite lives: REST root, ticker URL, login page host (the real ones by default)."""

    rest: str = "https://api.kite.trade"
    ws: str = "wss://ws.kite.trade"
    login: str = "https://kite.zerodha.com"

    @classmethod
    def from_emulator(cls, endpoints: dict[str, str]) -> "KiteEndpoints":
        """The emulator's kite_rest, kite_ws and kite_login endpoints."""
        return cls(endpoints["kite_rest"], endpoints["kite_ws"], endpoints["kite_login"])


class ZerodhaClient(VenueClient):
    """See the module docstring."""

    venue = Venue.ZERODHA

    def __init__(self, bus: EventBus, endpoints: KiteEndpoints, api_key: str, *, api_secret: str | None = None,
                 token_store: auth.TokenStore | None = None, cache_dir: Path | None = None,
                 exchanges: Iterable[str] | None = None, limits: KiteLimits = KiteLimits(),
                 market_protection: Decimal = Decimal(-1), resolve_grace_s: float = 2.0, resolve_attempts: int = 3,
                 confirm_orders: bool = True, stale_after_s: float = 2.0, dead_after_s: float = 5.0,
                 backoff_s: float = 1.0, backoff_max_s: float = 60.0, max_retries: int = 50, timeout_s: float = 7.0,
                 progress: Progress | None = None, auto_login: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.bus = bus
        self.auto_login = auto_login
        self.endpoints = endpoints
        self.api_key = api_key
        self._api_secret = api_secret
        self.token_store: auth.TokenStore = token_store if token_store is not None else auth.MemoryTokenStore()
        self.cache = DumpCache(cache_dir) if cache_dir is not None else None
        self.exchanges = tuple(exchanges) if exchanges is not None else None
        self.progress = progress
        self.rest = KiteRest(endpoints.rest, api_key, limits=limits, timeout_s=timeout_s, transport=transport,
                             on_token_expired=self._token_expired)
        self.index: InstrumentIndex | None = None
        self.desk = OrderDesk(self.rest, bus, self._by_key, market_protection=market_protection,
                              resolve_grace_s=resolve_grace_s, resolve_attempts=resolve_attempts, confirm=confirm_orders)
        self.stream = KiteTickerStream(endpoints.ws, api_key, bus, access_token=lambda: self.rest.access_token,
                                       on_ticks=self._on_ticks, on_order=self.desk.on_postback, on_connected=self.desk.refresh,
                                       on_auth_failed=lambda: self._token_expired(self.rest.access_token or ""),
                                       stale_after_s=stale_after_s, dead_after_s=dead_after_s, backoff_s=backoff_s,
                                       backoff_max_s=backoff_max_s, max_retries=max_retries)
        self._instruments: list[Instrument] = []
        self._channels: dict[int, set[Channel]] = {}
        self._volumes: dict[int, int] = {}
        self._connected = False
        self._expired_token = ""

    # login ----------------------------------------------------------------------------------------------
    def login_url(self, redirect_params: dict[str, str] | None = None) -> str:
        """The Kite login page for this app."""
        return auth.login_url(self.endpoints.login, self.api_key, redirect_params)

    async def login_with_request_token(self, request_token: str) -> auth.KiteSession:
        """Exchange a request token for a session, store the token, resume the ticker."""
        if not self._api_secret:
            raise AuthError("Kite login needs the app's API secret")
        session = await auth.create_session(self.rest, self._api_secret, request_token)
        auth.store_session(self.token_store, self.api_key, session)
        self._expired_token = ""
        log.info("Kite: logged in as %s", session.user_id)
        self.bus.publish(ConnectionChanged(Venue.ZERODHA, "rest", ConnectionStatus.CONNECTED, f"logged in as {session.user_id}"))
        self.stream.resume()
        return session

    async def login_with_redirect_url(self, url: str) -> auth.KiteSession:
        """Log in with the redirect URL the user pasted from the browser."""
        return await self.login_with_request_token(auth.request_token_from(url))

    async def login_headless(self) -> auth.KiteSession:
        """Log in without a browser, where the login page redirects at once (the emulator's demo user)."""
        return await self.login_with_request_token(await auth.headless_request_token(self.login_url()))

    async def login_interactive(self, open_url: Callable[[str], object], port: int = 0, path: str = "/callback",
                                timeout_s: float = 300.0) -> auth.KiteSession:
        """Catch the redirect on 127.0.0.1:port/path (the app's registered redirect URL) after open_url(login page)."""
        async with auth.RedirectCatcher(port, path) as catcher:
            open_url(self.login_url())
            token = await catcher.wait(timeout_s)
        return await self.login_with_request_token(token)

    def _token_expired(self, token: str) -> None:
        if not token or token == self._expired_token:
            return
        self._expired_token = token
        self.rest.access_token = None
        auth.forget_token(self.token_store, self.api_key)
        log.warning("Kite: the session has expired; login required")
        self.bus.publish(ConnectionChanged(Venue.ZERODHA, "rest", ConnectionStatus.FAILED, "login required"))

    # life cycle -----------------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Check the session (logging in headless if auto_login), load instruments, open the ticker. Idempotent.

        Called again after the session expired, it logs in again where it can and resumes the ticker.
        """
        if self._connected and self.rest.access_token:
            return
        if self.rest.access_token is None:
            self.rest.access_token = auth.stored_token(self.token_store, self.api_key, datetime.now(IST))
        if self.rest.access_token is None and self.auto_login:
            await self.login_headless()
        if self.rest.access_token is None:
            self.bus.publish(ConnectionChanged(Venue.ZERODHA, "rest", ConnectionStatus.FAILED, "login required"))
            raise AuthError("Kite: login required (no live access token)")
        profile = await self.rest.request("GET", "/user/profile")
        if self.index is None:
            self.index = await self._load_instruments()
            self._instruments = await asyncio.to_thread(self.index.instruments, self.exchanges)
        self.stream.start()
        self.stream.resume()
        self._connected = True
        self.bus.publish(ConnectionChanged(Venue.ZERODHA, "rest", ConnectionStatus.CONNECTED,
                                           f"{profile.get('user_id', '')}: {len(self.index)} instruments"))

    async def close(self) -> None:
        """Close the ticker, pending trade fetches and the HTTP client. Never raises."""
        try:
            await self.stream.close()
            await self.desk.close()
            await self.rest.close()
        except Exception:
            log.exception("closing the Zerodha connector")
        if self._connected:
            self._connected = False
            self.bus.publish(ConnectionChanged(Venue.ZERODHA, "rest", ConnectionStatus.DISCONNECTED))

    async def _load_instruments(self) -> InstrumentIndex:
        data = self.cache.load() if self.cache is not None else None
        if data is None:
            data = await self.rest.download("/instruments", self.progress)
            if self.cache is not None:
                await asyncio.to_thread(self.cache.store, data)
        table = await asyncio.to_thread(parse_dump, data)
        index = await asyncio.to_thread(InstrumentIndex, table)
        log.info("Kite: %d instruments", len(index))
        return index

    # instruments ----------------------------------------------------------------------------------------
    def instruments(self) -> list[Instrument]:
        return list(self._instruments)

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument of an id of this venue; UnknownInstrument otherwise."""
        row = self.index.by_symbol(instrument_id.symbol) if self.index is not None and instrument_id.venue is Venue.ZERODHA else None
        if row is None:
            raise UnknownInstrument(f"unknown instrument {instrument_id}")
        assert self.index is not None
        return self.index.instrument(row)

    def _by_key(self, exchange: str, tradingsymbol: str) -> Instrument | None:
        row = self.index.find(exchange, tradingsymbol) if self.index is not None else None
        return self.index.instrument(row) if row is not None and self.index is not None else None

    def client_order_id_ok(self, client_order_id: ClientOrderId) -> bool:
        return tag_ok(client_order_id)

    # market data ----------------------------------------------------------------------------------------
    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        wanted = set(channels)
        by_mode: dict[str, list[int]] = {}
        for iid in instrument_ids:
            token = int(self.instrument(iid).venue_token)
            chans = self._channels.setdefault(token, set())
            chans |= wanted
            by_mode.setdefault("full" if chans & {Channel.TICKS, Channel.BOOK} else "quote", []).append(token)
        for mode, tokens in by_mode.items():
            await self.stream.subscribe(tokens, mode)

    async def unsubscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        dropped, gone = set(channels), []
        for iid in instrument_ids:
            token = int(self.instrument(iid).venue_token)
            chans = self._channels.get(token, set())
            chans -= dropped
            if not chans:
                self._channels.pop(token, None)
                gone.append(token)
        await self.stream.unsubscribe(gone)

    def _on_ticks(self, records: list[KiteTick], received_ns: int) -> None:
        index = self.index
        if index is None:
            return
        for record in records:
            token = record.instrument_token
            chans = self._channels.get(token)
            row = index.by_token(token) if chans else None
            if row is None or not chans:
                continue
            iid = index.instrument(row).id
            if Channel.TICKS in chans:
                self.bus.publish(to_tick(record, iid, received_ns))
            if Channel.BOOK in chans:
                book = to_book(record, iid, received_ns)
                if book is not None:
                    self.bus.publish(book)
            if Channel.TRADES in chans and record.volume_traded is not None:
                trade = to_trade(record, iid, self._volumes.get(token), received_ns)
                self._volumes[token] = record.volume_traded
                if trade is not None:
                    self.bus.publish(trade)

    async def quote(self, instrument_ids: Iterable[InstrumentId], kind: str = "quote") -> dict[InstrumentId, Tick]:
        """Snapshot quotes (kind "quote", "ohlc" or "ltp") in batches, at most one request a second."""
        keys = {f"{inst.exchange}:{inst.extra.get('tradingsymbol', inst.symbol)}": inst.id
                for inst in (self.instrument(i) for i in instrument_ids)}
        path = "/quote" if kind == "quote" else f"/quote/{kind}"
        out: dict[InstrumentId, Tick] = {}
        names = list(keys)
        for start in range(0, len(names), QUOTE_BATCH[kind]):
            batch = names[start:start + QUOTE_BATCH[kind]]
            data = await self.rest.request("GET", path, [("i", k) for k in batch], kind=QUOTE)
            for key, q in data.items():
                if key in keys:
                    out[keys[key]] = _quote_tick(keys[key], q)
        return out

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        """Candles between two times, paged by Kite's span per interval (with OI for derivatives)."""
        if timeframe not in INTERVALS:
            raise ValidationError(f"Kite has no {timeframe} candles (one of {', '.join(INTERVALS)})")
        inst = self.instrument(instrument_id)
        interval, step_s = INTERVALS[timeframe]
        oi = 1 if inst.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION) else 0
        cursor = datetime.fromtimestamp(start_ns / 1e9, IST).replace(microsecond=0)
        end = datetime.fromtimestamp(end_ns / 1e9, IST)
        span = timedelta(days=MAX_SPAN_DAYS[interval])
        bars: list[BarEvent] = []
        last = -1
        now_ns = int(datetime.now(IST).timestamp() * 1e9)
        while cursor <= end:
            page_end = min(end, cursor + span - timedelta(seconds=1))
            data = await self.rest.request("GET", f"/instruments/historical/{inst.venue_token}/{interval}", {
                "from": cursor.strftime("%Y-%m-%d %H:%M:%S"), "to": page_end.strftime("%Y-%m-%d %H:%M:%S"),
                "continuous": 0, "oi": oi}, kind=HISTORICAL)
            for row in data.get("candles", []):
                start = int(datetime.strptime(str(row[0]), "%Y-%m-%dT%H:%M:%S%z").timestamp()) * 1_000_000_000
                if start <= last or not start_ns <= start <= end_ns:
                    continue
                last = start
                bars.append(BarEvent(inst.id, timeframe, start, _d(row[1]), _d(row[2]), _d(row[3]), _d(row[4]), _d(row[5]),
                                     closed=start + step_s * 1_000_000_000 <= now_ns))
            cursor = page_end + timedelta(seconds=1)
        return bars

    # orders ---------------------------------------------------------------------------------------------
    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        return await self.desk.place(order, self.instrument(order.instrument_id), sent=sent)

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        return await self.desk.modify(order, price, quantity, trigger_price)

    async def cancel_order(self, order: Order) -> VenueOrderReport:
        return await self.desk.cancel(order)

    async def query_order(self, order: Order) -> VenueOrderReport | None:
        return await self.desk.query(order)

    async def order_history(self, venue_order_id: str) -> list[VenueOrderReport]:
        """Every state a Kite order went through, oldest first."""
        return await self.desk.history(venue_order_id)

    async def open_orders(self) -> list[VenueOrderReport]:
        return await self.desk.open_orders()

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        return await self.desk.fills(since_ns)

    async def positions(self, book: str = "net") -> list[Position]:
        """The net position book (or "day": today's activity)."""
        data = await self.rest.request("GET", "/portfolio/positions")
        out = []
        for p in data[book]:
            inst = self._by_key(str(p["exchange"]), str(p["tradingsymbol"]))
            if inst is None:
                continue
            out.append(Position(inst.id, Product(p["product"]) if p["product"] in ("CNC", "MIS", "NRML") else Product.MIS,
                                _d(p["quantity"]), _d(p["average_price"]), _d(p.get("realised") or 0)))
        return out

    async def holdings(self) -> list[dict[str, Any]]:
        """Demat holdings as Kite reports them (numbers as Decimal)."""
        return list(await self.rest.request("GET", "/portfolio/holdings"))

    async def balances(self) -> list[Balance]:
        """Cash as Kite reports it: equity (and commodity when enabled) net and utilised margin."""
        data = await self.rest.request("GET", "/user/margins")
        out = []
        for segment, asset in (("equity", "INR"), ("commodity", "INR-COMMODITY")):
            seg = data.get(segment) or {}
            if seg.get("enabled", segment == "equity"):
                out.append(Balance(Venue.ZERODHA, asset, _d(seg.get("net") or 0), _d((seg.get("utilised") or {}).get("debits") or 0)))
        return out

    async def order_margins(self, orders: Iterable[Order]) -> list[dict[str, Any]]:
        """What each order would block (POST /margins/orders): Kite's margin objects."""
        body = []
        for order in orders:
            inst = self.instrument(order.instrument_id)
            body.append({"exchange": inst.exchange, "tradingsymbol": inst.extra.get("tradingsymbol", inst.symbol),
                         "transaction_type": order.side.value, "variety": order.extra.get("variety", "regular"),
                         "product": order.request.product.value, "order_type": KITE_ORDER_TYPE[order.request.order_type], "quantity": int(order.request.quantity),
                         "price": float(order.price or 0), "trigger_price": float(order.trigger_price or 0)})
        return list(await self.rest.request("POST", "/margins/orders", json_body=body))

    async def basket_margin(self, legs: Sequence[MarginLeg], consider_positions: bool = False) -> BasketMargin:
        """What the legs would block together (POST /margins/basket): initial, final (after spread benefit)."""
        body = basket_body(legs, self.instrument)
        data = await self.rest.request("POST", BASKET_PATH, {"consider_positions": consider_positions}, json_body=body)
        return parse_basket_margin(data)


def demo_client(bus: EventBus, endpoints: dict[str, str], api_key: str, api_secret: str) -> ZerodhaClient:
    """A client of the emulator's demo account: its login page redirects at once, so connect() logs in by itself."""
    return ZerodhaClient(bus, KiteEndpoints.from_emulator(endpoints), api_key, api_secret=api_secret, auto_login=True)


def _quote_tick(iid: InstrumentId, q: dict[str, Any]) -> Tick:
    ohlc = q.get("ohlc") or {}
    depth = q.get("depth") or {}
    bid = (depth.get("buy") or [{}])[0]
    ask = (depth.get("sell") or [{}])[0]
    return Tick(iid, int(datetime.now(IST).timestamp() * 1e9), last_price=_opt(q.get("last_price")),
                last_quantity=_opt(q.get("last_quantity")), bid=_opt(bid.get("price")) if bid.get("quantity") else None,
                bid_quantity=_opt(bid.get("quantity")) if bid.get("quantity") else None,
                ask=_opt(ask.get("price")) if ask.get("quantity") else None,
                ask_quantity=_opt(ask.get("quantity")) if ask.get("quantity") else None, volume=_opt(q.get("volume")),
                open=_opt(ohlc.get("open")), high=_opt(ohlc.get("high")), low=_opt(ohlc.get("low")), close=_opt(ohlc.get("close")),
                open_interest=_opt(q.get("oi")), average_price=_opt(q.get("average_price")))


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _opt(value: Any) -> Decimal | None:
    return None if value is None else _d(value)
