"""KiteClient: core.venue.VenueClient for Zerodha Kite Connect v3 (httpx REST + the binary ticker).

Every order carries our client order id as its Kite tag. A placement that times out or gets a 5xx is
resolved by looking for its tag in the order book after a grace period, never by sending it again;
still unknown, it raises OrderOutcomeUnknown and the OMS keeps it in flight. Ticks become core Ticks
and (full mode) 5-level BookDelta snapshots; order postbacks on the ticker become VenueOrderReports and
FillEvents. A silent ticker is flagged STALE after 2 s and reconnected after 5 s (half-open), with
capped exponential backoff; every token is re-subscribed in its mode and the order book re-fetched.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import websockets

from core.bus import EventBus
from core.domain import (Balance, BarEvent, BookDelta, ClientOrderId, ConnectionChanged, ConnectionStatus, Fill, FillEvent, Instrument,
                         InstrumentId, Order, OrderStatus, OrderType, Position, Product, Side, Tick, TimeInForce, Venue, VenueOrderReport)
from core.errors import AuthError, OrderOutcomeUnknown, ValidationError, VenueUnavailable
from core.venue import Channel, VenueClient

from .instruments import parse_instruments
from .rest import KiteRest, KiteTimeout
from .ticker import TickerFrameError, parse_frame

log = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")
KITE_TYPE = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_LIMIT: "SL", OrderType.STOP_MARKET: "SL-M"}
STATUS = {"COMPLETE": OrderStatus.FILLED, "CANCELLED": OrderStatus.CANCELLED, "REJECTED": OrderStatus.REJECTED,
          "OPEN": OrderStatus.OPEN, "TRIGGER PENDING": OrderStatus.OPEN, "OPEN PENDING": OrderStatus.PENDING_NEW,
          "VALIDATION PENDING": OrderStatus.PENDING_NEW, "PUT ORDER REQ RECEIVED": OrderStatus.PENDING_NEW,
          "MODIFY PENDING": OrderStatus.OPEN, "CANCEL PENDING": OrderStatus.CANCEL_PENDING, "AMO REQ RECEIVED": OrderStatus.OPEN}
INTERVAL = {"1m": "minute", "3m": "3minute", "5m": "5minute", "15m": "15minute", "30m": "30minute", "1h": "60minute", "1d": "day"}
Login = Callable[[KiteRest], Awaitable[str]]


class KiteClient(VenueClient):
    venue = Venue.ZERODHA

    def __init__(self, bus: EventBus, rest: KiteRest, ws_url: str, login: Login, *, stale_after_s: float = 2.0,
                 half_open_s: float = 5.0, max_backoff_s: float = 30.0, give_up_after: int = 50, resolve_grace_s: float = 2.0) -> None:
        self.bus, self.rest, self.ws_url, self._login = bus, rest, ws_url.rstrip("/"), login
        self.stale_after_s, self.half_open_s, self.max_backoff_s = stale_after_s, half_open_s, max_backoff_s
        self.give_up_after, self.resolve_grace_s = give_up_after, resolve_grace_s
        self._instruments: dict[str, Instrument] = {}  # by token
        self._by_symbol: dict[str, Instrument] = {}
        self._modes: dict[int, str] = {}
        self._filled: dict[str, tuple[Decimal, Decimal]] = {}  # kite order id -> (filled, average) seen
        self._ticker: asyncio.Task[None] | None = None
        self._ws: Any = None
        self._last_message = 0.0
        self._stale = False
        self.reconnects = 0

    # life cycle ------------------------------------------------------------------------------------------
    async def connect(self) -> None:
        if self._ticker is not None:
            return
        try:
            await self._login(self.rest)
        except AuthError:
            self._status("rest", ConnectionStatus.FAILED, "login required")
            raise
        self._status("rest", ConnectionStatus.CONNECTED)
        text = await self.rest.request("GET", "/instruments", raw=True)
        for inst in parse_instruments(text):
            self._instruments[inst.venue_token] = inst
            self._by_symbol[inst.symbol] = inst
        self._ticker = asyncio.get_running_loop().create_task(self._run_ticker())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        await self.rest.close()

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def _status(self, channel: str, status: ConnectionStatus, detail: str = "") -> None:
        self.bus.publish(ConnectionChanged(Venue.ZERODHA, channel, status, detail))

    # market data -----------------------------------------------------------------------------------------
    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        tokens = [int(self._by_symbol[i.symbol].venue_token) for i in instrument_ids if i.symbol in self._by_symbol]
        for token in tokens:
            self._modes[token] = "full"
        await self._send_subscriptions(tokens)

    async def _send_subscriptions(self, tokens: list[int]) -> None:
        if self._ws is None or not tokens:
            return
        for start in range(0, len(tokens), 500):  # batches well under the 3000 tokens a connection allows
            batch = tokens[start:start + 500]
            await self._ws.send(json.dumps({"a": "subscribe", "v": batch}))
            await self._ws.send(json.dumps({"a": "mode", "v": ["full", batch]}))

    async def _run_ticker(self) -> None:
        attempt = 0
        while True:
            url = f"{self.ws_url}/?api_key={self.rest.api_key}&access_token={self.rest.access_token}"
            try:
                self._status("ticker", ConnectionStatus.CONNECTING)
                async with websockets.connect(url, max_size=2**23, ping_interval=None) as ws:
                    self._ws, attempt = ws, 0
                    self._last_message = time.monotonic()
                    self._status("ticker", ConnectionStatus.CONNECTED)
                    self._status("user", ConnectionStatus.CONNECTED)  # postbacks ride the ticker: reconcile now
                    await self._send_subscriptions(list(self._modes))
                    watchdog = asyncio.get_running_loop().create_task(self._watch(ws))
                    try:
                        async for message in ws:
                            self._on_message(message)
                    finally:
                        watchdog.cancel()
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.WebSocketException) as exc:
                log.warning("Kite ticker: %s", exc)
            self._ws = None
            self._status("ticker", ConnectionStatus.RECONNECTING)
            self._status("user", ConnectionStatus.RECONNECTING)
            attempt += 1
            self.reconnects += 1
            if attempt > self.give_up_after:
                self._status("ticker", ConnectionStatus.FAILED, f"gave up after {attempt - 1} attempts")
                return
            delay = min(self.max_backoff_s, 0.5 * 2 ** min(attempt, 10)) * (0.8 + 0.4 * random.random())
            await asyncio.sleep(delay)

    async def _watch(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(0.5)
            silent = time.monotonic() - self._last_message
            if silent > self.stale_after_s and not self._stale:
                self._stale = True
                self._status("ticker", ConnectionStatus.STALE, f"no data for {silent:.1f} s")
            if silent > self.half_open_s:
                log.warning("Kite ticker silent for %.1f s: reconnecting", silent)
                await ws.close()
                return

    def _on_message(self, message: str | bytes) -> None:
        self._last_message = time.monotonic()
        if self._stale:
            self._stale = False
            self._status("ticker", ConnectionStatus.CONNECTED)
        if isinstance(message, str):
            self._on_text(message)
            return
        try:
            records = parse_frame(message)
        except TickerFrameError as exc:
            log.error("Kite ticker: malformed frame skipped (%s)", exc)
            return
        now = time.time_ns()
        for record in records:
            inst = self._instruments.get(str(record["instrument_token"]))
            if inst is not None:
                self._publish_tick(inst, record, now)

    def _publish_tick(self, inst: Instrument, r: dict[str, Any], now: int) -> None:
        d = lambda v: Decimal(str(round(v, 4)))  # noqa: E731  (prices arrive as paise / divisor)
        ohlc = r.get("ohlc", {})
        depth = r.get("depth")
        bid = ask = bid_q = ask_q = None
        if depth:
            bids = tuple((d(x["price"]), Decimal(x["quantity"])) for x in depth["buy"] if x["quantity"] > 0)
            asks = tuple((d(x["price"]), Decimal(x["quantity"])) for x in depth["sell"] if x["quantity"] > 0)
            self.bus.publish(BookDelta(inst.id, now, bids, asks, 0, True))
            if bids:
                bid, bid_q = bids[0]
            if asks:
                ask, ask_q = asks[0]
        self.bus.publish(Tick(
            inst.id, now, last_price=d(r["last_price"]), last_quantity=Decimal(r["last_traded_quantity"]) if "last_traded_quantity" in r else None,
            bid=bid, bid_quantity=bid_q, ask=ask, ask_quantity=ask_q,
            volume=Decimal(r["volume_traded"]) if "volume_traded" in r else None,
            open=d(ohlc["open"]) if ohlc else None, high=d(ohlc["high"]) if ohlc else None, low=d(ohlc["low"]) if ohlc else None,
            close=d(ohlc["close"]) if ohlc else None, open_interest=Decimal(r["oi"]) if "oi" in r else None,
            average_price=d(r["average_traded_price"]) if "average_traded_price" in r else None))

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.error("Kite ticker: unreadable text message skipped")
            return
        if message.get("type") == "order":
            self._on_order(message["data"])
        elif message.get("type") == "error":
            log.error("Kite ticker error: %s", message.get("data"))

    # orders ------------------------------------------------------------------------------------------------
    def _report(self, o: dict[str, Any]) -> VenueOrderReport:
        inst = self._by_symbol.get(o["tradingsymbol"])
        return VenueOrderReport(
            Venue.ZERODHA, ClientOrderId(o.get("tag") or ""), str(o["order_id"]), STATUS.get(o["status"], OrderStatus.OPEN),
            inst.id if inst else InstrumentId(Venue.ZERODHA, o["tradingsymbol"]), Decimal(str(o["filled_quantity"])),
            Decimal(str(o["average_price"])) if o.get("average_price") else None, Decimal(str(o["price"])) if o.get("price") else None,
            Decimal(str(o["quantity"])), Decimal(str(o["trigger_price"])) if o.get("trigger_price") else None,
            o.get("status_message") or "", time.time_ns(), 0, Side(o["transaction_type"]))

    def _on_order(self, o: dict[str, Any]) -> None:
        report = self._report(o)
        self.bus.publish(report)
        filled, avg = report.filled_quantity or Decimal(0), report.average_price or Decimal(0)
        before, before_avg = self._filled.get(report.venue_order_id, (Decimal(0), Decimal(0)))
        if filled > before and report.instrument_id is not None and report.side is not None:
            qty = filled - before
            price = (avg * filled - before_avg * before) / qty
            product = Product(o.get("product", "MIS")) if o.get("product") in ("CNC", "MIS", "NRML") else Product.MIS
            self.bus.publish(FillEvent(Fill(report.client_order_id, report.venue_order_id, f"{report.venue_order_id}-{filled}",
                                            report.instrument_id, report.side, qty, price, ts_ns=report.ts_ns, product=product)))
            self._filled[report.venue_order_id] = (filled, avg)

    def client_order_id_ok(self, client_order_id: ClientOrderId) -> bool:
        return 0 < len(client_order_id) <= 20 and client_order_id.isalnum()

    def _form(self, order: Order) -> dict[str, Any]:
        inst = self._by_symbol.get(order.instrument_id.symbol)
        if inst is None:
            raise ValidationError(f"unknown Kite instrument {order.instrument_id.symbol}")
        req = order.request
        form: dict[str, Any] = {"exchange": inst.exchange, "tradingsymbol": inst.symbol, "transaction_type": req.side.value,
                                "order_type": KITE_TYPE[req.order_type], "quantity": str(int(order.quantity or req.quantity)),
                                "product": req.product.value if req.product in (Product.CNC, Product.MIS, Product.NRML) else "MIS",
                                "validity": "IOC" if req.time_in_force is TimeInForce.IOC else "DAY", "tag": order.client_order_id}
        if order.price is not None and req.order_type.has_price:
            form["price"] = f"{order.price:f}"
        if order.trigger_price is not None:
            form["trigger_price"] = f"{order.trigger_price:f}"
        if req.disclosed_quantity:
            form["disclosed_quantity"] = str(int(req.disclosed_quantity))
        protection = order.extra.get("market_protection")
        if req.order_type in (OrderType.MARKET, OrderType.STOP_MARKET) and protection is not None:
            form["market_protection"] = protection
        return form

    async def place_order(self, order: Order) -> VenueOrderReport:
        form = self._form(order)
        try:
            data = await self.rest.request("POST", "/orders/regular", data=form, kind="orders")
        except (KiteTimeout, VenueUnavailable) as exc:
            log.warning("Kite placement of %s: %s; resolving by tag", order.client_order_id, exc)
            await asyncio.sleep(self.resolve_grace_s)
            found = await self.query_order(order)
            if found is None:
                raise OrderOutcomeUnknown(f"{order.client_order_id}: {exc}; not in the order book yet") from exc
            return found
        return VenueOrderReport(Venue.ZERODHA, order.client_order_id, str(data["order_id"]), OrderStatus.OPEN, order.instrument_id,
                                ts_ns=time.time_ns(), side=order.side)

    async def cancel_order(self, order: Order) -> VenueOrderReport:
        await self.rest.request("DELETE", f"/orders/regular/{order.venue_order_id}", kind="orders")
        return VenueOrderReport(Venue.ZERODHA, order.client_order_id, order.venue_order_id, OrderStatus.CANCEL_PENDING, order.instrument_id,
                                ts_ns=time.time_ns(), side=order.side)

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        form: dict[str, Any] = {"order_type": KITE_TYPE[order.request.order_type]}
        if price is not None:
            form["price"] = f"{price:f}"
        if quantity is not None:
            form["quantity"] = str(int(quantity))
        if trigger_price is not None:
            form["trigger_price"] = f"{trigger_price:f}"
        await self.rest.request("PUT", f"/orders/regular/{order.venue_order_id}", data=form, kind="orders")
        return VenueOrderReport(Venue.ZERODHA, order.client_order_id, order.venue_order_id, OrderStatus.OPEN, order.instrument_id,
                                price=price, quantity=quantity, trigger_price=trigger_price, ts_ns=time.time_ns(), side=order.side)

    async def query_order(self, order: Order) -> VenueOrderReport | None:
        for o in await self.rest.request("GET", "/orders"):
            if o.get("tag") == order.client_order_id or (order.venue_order_id and str(o["order_id"]) == order.venue_order_id):
                return self._report(o)
        return None

    async def open_orders(self) -> list[VenueOrderReport]:
        return [r for r in (self._report(o) for o in await self.rest.request("GET", "/orders")) if r.status.is_working]

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        tags = {str(o["order_id"]): o.get("tag") or "" for o in await self.rest.request("GET", "/orders")}
        out = []
        for t in await self.rest.request("GET", "/trades"):
            inst = self._by_symbol.get(t["tradingsymbol"])
            if inst is None:
                continue
            when = datetime.strptime(t["fill_timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST) if t.get("fill_timestamp") else None
            ts_ns = int(when.timestamp() * 1e9) if when else 0
            if ts_ns < since_ns:
                continue
            product = Product(t["product"]) if t.get("product") in ("CNC", "MIS", "NRML") else Product.MIS
            out.append(Fill(ClientOrderId(tags.get(str(t["order_id"]), "")), str(t["order_id"]), str(t["trade_id"]), inst.id,
                            Side(t["transaction_type"]), Decimal(str(t["quantity"])), Decimal(str(t["average_price"])), ts_ns=ts_ns,
                            product=product))
        return out

    async def positions(self) -> list[Position]:
        data = await self.rest.request("GET", "/portfolio/positions")
        out = []
        for p in data["net"]:
            inst = self._by_symbol.get(p["tradingsymbol"])
            if inst is not None and p["quantity"]:
                out.append(Position(inst.id, Product(p["product"]) if p["product"] in ("CNC", "MIS", "NRML") else Product.MIS,
                                    Decimal(str(p["quantity"])), Decimal(str(p["average_price"])), Decimal(str(p.get("realised", 0)))))
        return out

    async def balances(self) -> list[Balance]:
        equity = (await self.rest.request("GET", "/user/margins"))["equity"]
        net = Decimal(str(equity["net"]))
        used = Decimal(str(equity["utilised"]["debits"]))
        return [Balance(Venue.ZERODHA, "INR", net, used)]

    async def history(self, instrument_id: InstrumentId, timeframe: str, start_ns: int, end_ns: int) -> list[BarEvent]:
        inst = self._by_symbol.get(instrument_id.symbol)
        interval = INTERVAL.get(timeframe)
        if inst is None or interval is None:
            return []
        fmt = "%Y-%m-%d %H:%M:%S"
        start = datetime.fromtimestamp(start_ns / 1e9, IST)
        end = datetime.fromtimestamp(end_ns / 1e9, IST)
        data = await self.rest.request("GET", f"/instruments/historical/{inst.venue_token}/{interval}",
                                       params={"from": start.strftime(fmt), "to": end.strftime(fmt), "oi": 1}, kind="historical")
        out = []
        for row in data["candles"]:
            begin = datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S%z")
            out.append(BarEvent(inst.id, timeframe, int(begin.timestamp() * 1e9), *(Decimal(str(v)) for v in row[1:6]), closed=True))
        return out

