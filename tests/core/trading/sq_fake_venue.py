"""An in-memory VenueClient for core tests: no network, scriptable answers, optional persistence to a file.

Behaviour knobs (plain attributes): place_mode = ack | reject | unknown_placed | unknown_unplaced | error;
cancel_mode = ok | pending | reject | unknown; stream (publish reports and fills on the bus as a venue's
stream would); online (False: every read raises TransportError); hold (an asyncio.Event: place_order
waits for it after the venue has the order, like a slow response); on_persist (called with ("order", id)
or ("fill", trade id) right after the venue has recorded a new order or fill); calls_sent (False: place_order
never calls its sent() callback). calls counts requests.
With persist=path every order and fill is appended to a JSON-lines file and replayed on construction, so
a fake in a killed process leaves behind exactly what "the venue" accepted.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from core.bus import EventBus
from core.domain import (Balance, ClientOrderId, Fill, FillEvent, Instrument, InstrumentId, Order, OrderStatus, Position,
                         Product, Side, Venue, VenueOrderReport)
from core.errors import OrderOutcomeUnknown, OrderRejected, TransportError
from core.venue import Channel, RequestSent, VenueClient


@dataclass
class VenueOrder:
    client_order_id: str
    venue_order_id: str
    instrument: str
    side: str
    product: str
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = Decimal(0)
    average: Decimal | None = None
    seq: int = 0


class FakeVenue(VenueClient):
    def __init__(self, venue: Venue = Venue.BINANCE, bus: EventBus | None = None, instruments: Iterable[Instrument] = (),
                 persist: Path | None = None, stream: bool = True) -> None:
        self.venue = venue
        self.bus = bus
        self._instruments = list(instruments)
        self.persist = persist
        self.stream = stream
        self.place_mode = "ack"
        self.calls_sent = True  # place_order calls its sent() callback, as a connector does once the request is written
        self.cancel_mode = "ok"
        self.online = True
        self.hold: asyncio.Event | None = None
        self.on_persist: Callable[[str, str], None] | None = None
        self.calls: Counter[str] = Counter()
        self.orders: dict[str, VenueOrder] = {}
        self.trades: list[Fill] = []
        self.extra_positions: list[Position] = []
        self._seq = 0
        if persist is not None and persist.exists():
            self._replay(persist)

    # persistence

    def _write(self, kind: str, data: dict[str, object]) -> None:
        if self.persist is None:
            return
        line = json.dumps({"kind": kind, **data}, default=str) + "\n"
        fd = os.open(self.persist, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def _save_order(self, o: VenueOrder) -> None:
        self._write("order", _order_dict(o))

    def _replay(self, path: Path) -> None:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line: the write never completed
            kind = data.pop("kind")
            order = _order_from_dict(data if kind == "order" else data["order"])  # a fill line carries its order
            self.orders[order.client_order_id] = order
            self._seq = max(self._seq, order.seq)
            if kind == "fill":
                self.trades.append(Fill(ClientOrderId(data["client_order_id"]), data["venue_order_id"], data["trade_id"],
                                        InstrumentId.parse(data["instrument_id"]), Side(data["side"]),
                                        Decimal(data["quantity"]), Decimal(data["price"]), ts_ns=int(data["ts_ns"]),
                                        product=Product(data["product"])))

    # helpers for tests

    def report(self, cid: str) -> VenueOrderReport:
        o = self.orders[cid]
        return VenueOrderReport(self.venue, ClientOrderId(o.client_order_id), o.venue_order_id, o.status,
                                InstrumentId.parse(o.instrument), o.filled, o.average, o.price, o.quantity,
                                o.trigger_price, ts_ns=time.time_ns(), seq=o.seq)

    def _bump(self, o: VenueOrder) -> None:
        self._seq += 1
        o.seq = self._seq
        self._save_order(o)

    def fill(self, cid: str, quantity: Decimal, price: Decimal, publish: bool = True) -> Fill:
        """Execute part of an order at the venue (publishing the fill and report unless publish=False)."""
        o = self.orders[cid]
        value = (o.average or Decimal(0)) * o.filled + price * quantity
        o.filled += quantity
        o.average = value / o.filled
        o.status = OrderStatus.FILLED if o.filled >= o.quantity else OrderStatus.PARTIALLY_FILLED
        trade = Fill(ClientOrderId(cid), o.venue_order_id, f"T{len(self.trades) + 1}", InstrumentId.parse(o.instrument),
                     Side(o.side), quantity, price, ts_ns=time.time_ns(), product=Product(o.product))
        self.trades.append(trade)
        self._seq += 1
        o.seq = self._seq
        self._write("fill", {"client_order_id": cid, "venue_order_id": o.venue_order_id, "trade_id": trade.trade_id,
                             "instrument_id": o.instrument, "side": o.side, "quantity": str(quantity),
                             "price": str(price), "ts_ns": trade.ts_ns, "product": o.product, "order": _order_dict(o)})
        if self.on_persist is not None:
            self.on_persist("fill", trade.trade_id)
        if publish and self.bus is not None:
            self.bus.publish(FillEvent(trade))
            self.bus.publish(self.report(cid))
        return trade

    def expire(self, cid: str, status: OrderStatus = OrderStatus.CANCELLED, publish: bool = True) -> None:
        o = self.orders[cid]
        o.status = status
        self._bump(o)
        if publish and self.bus is not None:
            self.bus.publish(self.report(cid))

    # VenueClient

    async def connect(self) -> None:
        self.calls["connect"] += 1

    async def close(self) -> None:
        self.calls["close"] += 1

    def instruments(self) -> list[Instrument]:
        return list(self._instruments)

    async def subscribe(self, instrument_ids: Iterable[InstrumentId], channels: Iterable[Channel]) -> None:
        self.calls["subscribe"] += 1

    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        self.calls["place"] += 1
        if sent is not None and self.calls_sent:
            sent()  # the request is on its way (whatever the venue then answers)
        mode = self.place_mode
        if mode == "reject":
            raise OrderRejected("insufficient balance", code=-2010)
        if mode == "unknown_unplaced":
            raise OrderOutcomeUnknown("timeout before the venue got it")
        if mode == "error":
            raise RuntimeError("connector bug")
        if order.client_order_id in self.orders:
            raise OrderRejected("duplicate client order id")
        self._seq += 1
        o = VenueOrder(order.client_order_id, f"V{len(self.orders) + 1}", str(order.instrument_id), order.side.value,
                       order.request.product.value, order.quantity or Decimal(0), order.price, order.trigger_price,
                       seq=self._seq)
        self.orders[o.client_order_id] = o
        self._save_order(o)
        if self.on_persist is not None:
            self.on_persist("order", o.client_order_id)
        if mode == "unknown_placed":
            raise OrderOutcomeUnknown("timeout after the venue got it")
        if self.hold is not None:
            await self.hold.wait()
        if self.stream and self.bus is not None:
            self.bus.publish(self.report(o.client_order_id))
        return self.report(o.client_order_id)

    async def cancel_order(self, order: Order) -> VenueOrderReport:
        self.calls["cancel"] += 1
        o = self.orders.get(order.client_order_id)
        if self.cancel_mode == "unknown":
            raise OrderOutcomeUnknown("cancel timed out")
        if o is None:
            raise OrderRejected("unknown order")
        if o.status.is_terminal or self.cancel_mode == "reject":
            raise OrderRejected(f"order is {o.status.value}")
        if self.cancel_mode == "pending":
            return replace(self.report(o.client_order_id), status=OrderStatus.CANCEL_PENDING, seq=0)
        o.status = OrderStatus.CANCELLED
        self._bump(o)
        if self.stream and self.bus is not None:
            self.bus.publish(self.report(o.client_order_id))
        return self.report(o.client_order_id)

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        self.calls["modify"] += 1
        o = self.orders[order.client_order_id]
        if o.status.is_terminal:
            raise OrderRejected(f"order is {o.status.value}")
        o.price = price if price is not None else o.price
        o.quantity = quantity if quantity is not None else o.quantity
        o.trigger_price = trigger_price if trigger_price is not None else o.trigger_price
        self._bump(o)
        return self.report(o.client_order_id)

    async def query_order(self, order: Order) -> VenueOrderReport | None:
        self.calls["query"] += 1
        self._check_online()
        return self.report(order.client_order_id) if order.client_order_id in self.orders else None

    async def open_orders(self) -> list[VenueOrderReport]:
        self.calls["open_orders"] += 1
        self._check_online()
        return [self.report(cid) for cid, o in self.orders.items() if not o.status.is_terminal]

    async def fills(self, since_ns: int = 0) -> list[Fill]:
        self.calls["fills"] += 1
        self._check_online()
        return [t for t in self.trades if t.ts_ns >= since_ns]

    async def positions(self) -> list[Position]:
        self.calls["positions"] += 1
        self._check_online()
        net: dict[tuple[InstrumentId, Product], Decimal] = {}
        for t in self.trades:
            key = (t.instrument_id, t.product)
            net[key] = net.get(key, Decimal(0)) + t.side.sign * t.quantity
        found = [Position(iid, product, q, Decimal(0)) for (iid, product), q in net.items() if q]
        return found + self.extra_positions

    async def balances(self) -> list[Balance]:
        return []

    def _check_online(self) -> None:
        if not self.online:
            raise TransportError("venue unreachable")


def _order_dict(o: VenueOrder) -> dict[str, object]:
    return {k: (v.value if isinstance(v, OrderStatus) else v) for k, v in o.__dict__.items()}


def _order_from_dict(data: dict[str, object]) -> VenueOrder:
    return VenueOrder(str(data["client_order_id"]), str(data["venue_order_id"]), str(data["instrument"]),
                      str(data["side"]), str(data["product"]), Decimal(str(data["quantity"])), _dec(data["price"]),
                      _dec(data["trigger_price"]), OrderStatus(str(data["status"])), Decimal(str(data["filled"])),
                      _dec(data["average"]), int(str(data["seq"])))


def _dec(value: object) -> Decimal | None:
    return None if value in (None, "None") else Decimal(str(value))
