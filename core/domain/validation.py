"""Static order checks against the instrument: the first gate, before risk, with messages a trader reads.

These depend only on the instrument and the request (tick, lot, min/max quantity, min notional,
order type fields). Limits that depend on the account or the market (fat finger, exposure, rate)
belong to risk.
"""
from __future__ import annotations

from decimal import Decimal

from core.errors import ValidationError

from .enums import OrderType
from .instrument import Instrument
from .numbers import Rounding
from .orders import OrderRequest


def order_problems(instrument: Instrument, request: OrderRequest, reference_price: Decimal | None = None) -> list[str]:
    """Return every problem with a request (empty when it may go on to risk)."""
    problems: list[str] = []
    inst = instrument
    if request.instrument_id != inst.id:
        problems.append(f"order is for {request.instrument_id}, not {inst.id}")
    if not inst.tradable:
        problems.append(f"{inst.symbol} is an index and cannot be traded")
    qty = request.quantity
    if request.quote_quantity is None:
        if not inst.is_whole_lots(qty):
            unit = "lot size" if inst.lot_size > 1 else "quantity step"
            problems.append(f"quantity {qty} is not a multiple of the {unit} {inst.lot_size.normalize():f}")
        if qty < inst.min_quantity:
            problems.append(f"quantity {qty} is below the minimum {inst.min_quantity.normalize():f}")
        if inst.max_quantity is not None and qty > inst.max_quantity:
            problems.append(f"quantity {qty} is above the maximum {inst.max_quantity.normalize():f}")
    for label, price in (("price", request.price), ("trigger price", request.trigger_price)):
        if price is not None and not inst.is_on_tick(price):
            lower = inst.round_price(price, Rounding.DOWN)
            problems.append(f"{label} {price} is off the tick {inst.tick_size.normalize():f} "
                            f"(nearest: {lower} or {lower + inst.tick_size})")
    price_for_notional = request.price if request.order_type.has_price else reference_price
    if inst.min_notional > 0 and price_for_notional is not None and request.quote_quantity is None:
        notional = price_for_notional * qty * inst.multiplier
        if notional < inst.min_notional:
            problems.append(f"order value {notional.normalize():f} {inst.quote_currency} is below the minimum "
                            f"{inst.min_notional.normalize():f} {inst.quote_currency}")
    if request.disclosed_quantity is not None and request.disclosed_quantity > qty:
        problems.append("disclosed quantity cannot exceed the order quantity")
    if request.order_type is OrderType.STOP_LIMIT and request.price is not None and request.trigger_price is not None:
        if request.side.sign * (request.price - request.trigger_price) < 0:
            problems.append(f"a {request.side.value.lower()} stop-limit needs its limit price on the far side of the trigger")
    return problems


def validate_order(instrument: Instrument, request: OrderRequest, reference_price: Decimal | None = None) -> None:
    """Raise ValidationError listing every problem with the request."""
    problems = order_problems(instrument, request, reference_price)
    if problems:
        raise ValidationError(f"{request.instrument_id.symbol}: " + "; ".join(problems))

