"""Kite's basket margin calculator (kite.md C13): POST /margins/basket, JSON array of orders in,
{initial, final, orders, charges} out; "final" carries the spread benefit. Wire dicts keep Kite's
field names; parse_basket_margin turns the answer into core.chain.margin.BasketMargin."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from core.chain.margin import BasketMargin, MarginLeg
from core.domain import Instrument, InstrumentId
from core.errors import VenueError

BASKET_PATH = "/margins/basket"


def basket_body(legs: Sequence[MarginLeg], instrument: Callable[[InstrumentId], Instrument]) -> list[dict[str, Any]]:
    """The JSON body: one margin-calculator order per leg (LIMIT at its price, else MARKET)."""
    body = []
    for leg in legs:
        inst = instrument(leg.instrument_id)
        body.append({"exchange": inst.exchange, "tradingsymbol": inst.extra.get("tradingsymbol", inst.symbol),
                     "transaction_type": leg.side.value, "variety": "regular", "product": inst.default_product.value,
                     "order_type": "MARKET" if leg.price is None else "LIMIT", "quantity": int(leg.quantity),
                     "price": float(leg.price or 0), "trigger_price": 0})
    return body


def parse_basket_margin(data: Any) -> BasketMargin:
    """BasketMargin from the answer's data; VenueError if it lacks the totals."""
    try:
        initial, final = data["initial"], data["final"]
        orders = data.get("orders") or []
        return BasketMargin(initial=_money(initial["total"]), final=_money(final["total"]),
                            option_premium=_money(final.get("option_premium") or 0),
                            legs=tuple(_money(o["total"]) for o in orders))
    except (KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise VenueError(f"Kite basket margin: unreadable answer ({type(exc).__name__}: {exc})") from None


def _money(value: Any) -> Decimal:
    if isinstance(value, Mapping) or isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    return value if isinstance(value, Decimal) else Decimal(str(value))
