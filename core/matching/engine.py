"""MatchingEngine: one instrument's limit order book, price-time priority, no I/O, deterministic.

Orders: LIMIT, MARKET, STOP_MARKET and STOP_LIMIT (triggered when the last trade reaches the trigger:
a buy stop at or above, a sell stop at or below), time in force GTC/DAY, IOC, FOK (all or nothing,
checked before any fill) and post-only (rejected if it would take liquidity). Self-trade prevention is
expire-taker (Binance's default): when an incoming order meets a resting order of the same account,
the rest of the incoming order expires. Amend: a price change or a quantity increase loses time
priority; a decrease keeps it; a quantity below what has filled is rejected. Fees are rates of the
notional, charged in the quote currency, maker and taker separately.

Every call returns the events it caused, in order. Book changes are collected per price level and
handed out by drain_changes() with a strictly increasing update id, which the emulator turns into
Binance-style depth diffs (U/u/pu).
"""
from __future__ import annotations

from decimal import Decimal
from itertools import count

from core.domain import OrderType, Side, TimeInForce

from .book import BookSide, RestingOrder
from .events import (Accepted, Amended, Cancelled, EngineOrder, ExecEvent, Expired, ExpireReason, Rejected, RejectReason,
                     Trade, Triggered)

ZERO = Decimal(0)


class MatchingEngine:
    def __init__(self, symbol: str, maker_fee: Decimal = Decimal("0.001"), taker_fee: Decimal = Decimal("0.001"),
                 trade_ids: "count[int] | None" = None) -> None:
        self.symbol = symbol
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.bids, self.asks = BookSide(True), BookSide(False)
        self.resting: dict[int, RestingOrder] = {}
        self.filled: dict[int, Decimal] = {}
        self.stops: dict[int, EngineOrder] = {}
        self.last_price: Decimal | None = None
        self.update_id = 0
        self._changed_bids: set[Decimal] = set()
        self._changed_asks: set[Decimal] = set()
        self._trade_ids = trade_ids or count(1)

    # queries -----------------------------------------------------------------------------------------
    def best_bid(self) -> Decimal | None:
        return self.bids.best()

    def best_ask(self) -> Decimal | None:
        return self.asks.best()

    def depth(self, levels: int = 20) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids, asks), best first, aggregated by price."""
        return self.bids.depth(levels), self.asks.depth(levels)

    def drain_changes(self) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]] | None:
        """Levels changed since the last drain as (update_id, bids, asks) with new totals (0 = gone)."""
        if not self._changed_bids and not self._changed_asks:
            return None
        self.update_id += 1
        bids = [(p, self.bids.quantity_at(p)) for p in sorted(self._changed_bids, reverse=True)]
        asks = [(p, self.asks.quantity_at(p)) for p in sorted(self._changed_asks)]
        self._changed_bids.clear()
        self._changed_asks.clear()
        return self.update_id, bids, asks

    # commands ----------------------------------------------------------------------------------------
    def submit(self, order: EngineOrder) -> list[ExecEvent]:
        """Accept, match and rest (or park a stop); return the events."""
        problem = self._invalid(order)
        if problem is not None:
            return [Rejected(order.order_id, problem)]
        self.filled[order.order_id] = ZERO
        if order.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            if not self._stop_hit(order):
                self.stops[order.order_id] = order
                return [Accepted(order.order_id, resting=False)]
            events: list[ExecEvent] = [Accepted(order.order_id, resting=False), Triggered(order.order_id)]
            events += self._execute(_activated(order))
            return events + self._trigger_stops()
        if order.post_only and self._crosses(order.side, order.price):
            del self.filled[order.order_id]
            return [Rejected(order.order_id, RejectReason.WOULD_CROSS)]
        if order.time_in_force is TimeInForce.FOK and self._fillable(order) < order.quantity:
            del self.filled[order.order_id]
            return [Rejected(order.order_id, RejectReason.FOK_UNFILLABLE)]
        events = [Accepted(order.order_id, resting=True)]
        events += self._execute(order)
        return events + self._trigger_stops()

    def cancel(self, order_id: int) -> list[ExecEvent]:
        resting = self.resting.pop(order_id, None)
        if resting is not None:
            self._side(resting.order.side).remove(resting)
            self._touch(resting.order.side, resting.price)
            self.filled.pop(order_id, None)
            return [Cancelled(order_id, resting.remaining)]
        stop = self.stops.pop(order_id, None)
        if stop is not None:
            self.filled.pop(order_id, None)
            return [Cancelled(order_id, stop.quantity)]
        return [Rejected(order_id, RejectReason.UNKNOWN_ORDER)]

    def amend(self, order_id: int, price: Decimal | None, quantity: Decimal | None) -> list[ExecEvent]:
        """Change price and/or total quantity of a resting order (see the module docstring)."""
        resting = self.resting.get(order_id)
        if resting is None:
            return [Rejected(order_id, RejectReason.UNKNOWN_ORDER)]
        filled = self.filled.get(order_id, ZERO)
        new_total = quantity if quantity is not None else resting.remaining + filled
        if new_total <= filled:
            return [Rejected(order_id, RejectReason.AMEND_BELOW_FILLED)]
        if price is not None and price <= 0:
            return [Rejected(order_id, RejectReason.PRICE_INVALID)]
        new_price = price if price is not None else resting.price
        new_remaining = new_total - filled
        side = self._side(resting.order.side)
        if new_price == resting.price and new_remaining <= resting.remaining:
            resting.remaining = new_remaining  # a decrease keeps its place in the queue
            self._touch(resting.order.side, resting.price)
            return [Amended(order_id, new_price, new_total, lost_priority=False)]
        side.remove(resting)
        self._touch(resting.order.side, resting.price)
        del self.resting[order_id]
        moved = EngineOrder(order_id, resting.order.account, resting.order.side, OrderType.LIMIT, new_remaining, new_price,
                            time_in_force=resting.order.time_in_force, client_id=resting.order.client_id)
        events: list[ExecEvent] = [Amended(order_id, new_price, new_total, lost_priority=True)]
        return events + self._execute(moved) + self._trigger_stops()

    # matching ----------------------------------------------------------------------------------------
    def _execute(self, order: EngineOrder) -> list[ExecEvent]:
        events: list[ExecEvent] = []
        remaining = order.quantity
        book = self.asks if order.side is Side.BUY else self.bids
        limit = order.price if order.order_type is OrderType.LIMIT else None
        while remaining > 0:
            best = book.best()
            if best is None or (limit is not None and (best > limit if order.side is Side.BUY else best < limit)):
                break
            maker = book.levels[best][0]
            if maker.order.account == order.account:
                events.append(Expired(order.order_id, remaining, ExpireReason.SELF_TRADE))
                self.filled.pop(order.order_id, None)
                return events
            qty = min(remaining, maker.remaining)
            notional = qty * best
            events.append(Trade(next(self._trade_ids), maker.order.order_id, order.order_id, maker.order.account, order.account,
                                order.side, best, qty, notional * self.maker_fee, notional * self.taker_fee))
            remaining -= qty
            maker.remaining -= qty
            self.filled[maker.order.order_id] = self.filled.get(maker.order.order_id, ZERO) + qty
            self.filled[order.order_id] = self.filled.get(order.order_id, ZERO) + qty
            self.last_price = best
            self._touch(maker.order.side, best)
            if maker.remaining == 0:
                book.pop_front(best)
                del self.resting[maker.order.order_id]
                self.filled.pop(maker.order.order_id, None)
        if remaining > 0:
            if order.order_type is OrderType.MARKET:
                events.append(Expired(order.order_id, remaining, ExpireReason.NO_LIQUIDITY))
            elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                events.append(Expired(order.order_id, remaining, ExpireReason.IOC))
            else:
                assert order.price is not None
                resting = RestingOrder(order, remaining, order.price)
                self._side(order.side).add(resting)
                self.resting[order.order_id] = resting
                self._touch(order.side, order.price)
                return events
        self.filled.pop(order.order_id, None)
        return events

    def _trigger_stops(self) -> list[ExecEvent]:
        events: list[ExecEvent] = []
        while True:
            hit = [o for o in self.stops.values() if self._stop_hit(o)]
            if not hit:
                return events
            for order in sorted(hit, key=lambda o: o.order_id):
                del self.stops[order.order_id]
                events.append(Triggered(order.order_id))
                events += self._execute(_activated(order))

    def _stop_hit(self, order: EngineOrder) -> bool:
        last, trigger = self.last_price, order.trigger_price
        if last is None or trigger is None:
            return False
        return last >= trigger if order.side is Side.BUY else last <= trigger

    def _fillable(self, order: EngineOrder) -> Decimal:
        book = self.asks if order.side is Side.BUY else self.bids
        total = ZERO
        for price in book.iter_best():
            if order.order_type is OrderType.LIMIT and order.price is not None and \
                    (price > order.price if order.side is Side.BUY else price < order.price):
                break
            for resting in book.levels[price]:
                if resting.order.account == order.account:
                    return total  # expire-taker: the fill would stop here
                total += resting.remaining
                if total >= order.quantity:
                    return total
        return total

    def _crosses(self, side: Side, price: Decimal | None) -> bool:
        best = self.asks.best() if side is Side.BUY else self.bids.best()
        return best is not None and price is not None and (price >= best if side is Side.BUY else price <= best)

    def _invalid(self, order: EngineOrder) -> RejectReason | None:
        if order.quantity <= 0:
            return RejectReason.QTY_INVALID
        needs_price = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_price and (order.price is None or order.price <= 0):
            return RejectReason.PRICE_INVALID
        if order.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and (order.trigger_price is None or order.trigger_price <= 0):
            return RejectReason.PRICE_INVALID
        if order.order_id in self.resting or order.order_id in self.stops:
            return RejectReason.NOT_ACTIVE
        return None

    def _side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def _touch(self, side: Side, price: Decimal) -> None:
        (self._changed_bids if side is Side.BUY else self._changed_asks).add(price)


def _activated(order: EngineOrder) -> EngineOrder:
    """A triggered stop as the order it becomes: market, or limit at its limit price."""
    kind = OrderType.MARKET if order.order_type is OrderType.STOP_MARKET else OrderType.LIMIT
    return EngineOrder(order.order_id, order.account, order.side, kind, order.quantity, order.price, None,
                       order.time_in_force, False, order.client_id)
