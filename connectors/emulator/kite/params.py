"""Validation of order parameters as the Kite API applies it, with its InputException messages.

Kite rejects (kite.md C5, C7): unknown variety/exchange/type/product/validity; LIMIT and SL without a
price; SL and SL-M without a trigger price; quantities off the lot; prices off the tick; a tag over 20
characters; iceberg legs outside 2-10; TTL without minutes; and, under the 2026 retail-algo rules,
MARKET and SL-M orders without market protection (market_protection missing or 0).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from core.domain import Instrument, OrderType, Side

from .errors import KiteError, input_error

VARIETIES = ("regular", "amo", "co", "iceberg")
ORDER_TYPES = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "SL": OrderType.STOP_LIMIT, "SL-M": OrderType.STOP_MARKET}
PRODUCTS = ("CNC", "NRML", "MIS", "MTF", "CO")
VALIDITIES = ("DAY", "IOC", "TTL")
NO_PROTECTION = ("Market orders without market protection are not allowed via API. Please set market protection or use a "
                 "Limit order.")
ZERO = Decimal(0)
InstrumentLookup = Callable[[str, str], Instrument]  # (exchange, tradingsymbol) -> instrument, or InputException


@dataclass(frozen=True)
class OrderParams:
    """A validated order as the Kite API understands it."""

    variety: str
    exchange: str
    tradingsymbol: str
    side: Side
    order_type: str  # MARKET LIMIT SL SL-M
    quantity: int
    product: str
    price: Decimal = ZERO
    trigger_price: Decimal = ZERO
    validity: str = "DAY"
    validity_ttl: int | None = None
    disclosed_quantity: int = 0
    tag: str | None = None
    market_protection: Decimal = ZERO
    iceberg_legs: int = 0
    iceberg_quantity: int = 0

    @property
    def core_type(self) -> OrderType:
        return ORDER_TYPES[self.order_type]


def parse_place(variety: str, form: Mapping[str, str], instrument_of: InstrumentLookup) -> OrderParams:
    """Validate a placement; InputException says what is wrong."""
    if variety == "auction":
        raise input_error("Auction orders are not supported by the emulator.")
    if variety not in VARIETIES:
        raise input_error(f"Invalid `variety` {variety!r}.")
    exchange, symbol = _required(form, "exchange"), _required(form, "tradingsymbol")
    instrument = instrument_of(exchange, symbol)
    side = _choice(form, "transaction_type", ("BUY", "SELL"))
    order_type = _choice(form, "order_type", tuple(ORDER_TYPES))
    product = _choice(form, "product", PRODUCTS)
    params = OrderParams(
        variety, exchange, symbol, Side(side), order_type, _int(form, "quantity", required=True), product,
        price=_decimal(form, "price"), trigger_price=_decimal(form, "trigger_price"),
        validity=_choice(form, "validity", VALIDITIES, default="DAY"), validity_ttl=_int(form, "validity_ttl") or None,
        disclosed_quantity=_int(form, "disclosed_quantity"), tag=(form.get("tag") or None),
        market_protection=_decimal(form, "market_protection"), iceberg_legs=_int(form, "iceberg_legs"),
        iceberg_quantity=_int(form, "iceberg_quantity"))
    check(params, instrument)
    return params


def parse_modify(current: OrderParams, form: Mapping[str, str], instrument: Instrument) -> OrderParams:
    """Apply the fields a modification sends (quantity, price, trigger_price, order_type, validity, disclosed)."""
    changes: dict[str, object] = {}
    if form.get("order_type"):
        changes["order_type"] = _choice(form, "order_type", tuple(ORDER_TYPES))
    if form.get("validity"):
        changes["validity"] = _choice(form, "validity", VALIDITIES)
    for name in ("quantity", "disclosed_quantity"):
        if form.get(name):
            changes[name] = _int(form, name)
    for name in ("price", "trigger_price", "market_protection"):
        if form.get(name):
            changes[name] = _decimal(form, name)
    updated = replace(current, **changes)  # type: ignore[arg-type]
    check(updated, instrument)
    return updated


def check(p: OrderParams, inst: Instrument) -> None:
    """Raise InputException for the first rule the order breaks."""
    if p.quantity <= 0:
        raise input_error("Quantity should be greater than zero.")
    lot = int(inst.lot_size) or 1
    if p.quantity % lot:
        raise input_error(f"Quantity should be a multiple of lot size ({lot}).")
    if p.order_type in ("LIMIT", "SL") and p.price <= 0:
        raise input_error("Invalid `price`. Price should be greater than zero for LIMIT and SL orders.")
    if p.order_type in ("SL", "SL-M") and p.trigger_price <= 0:
        raise input_error("Invalid `trigger_price`. Trigger price is required for SL and SL-M orders.")
    if p.variety == "co" and (p.trigger_price <= 0 or p.order_type not in ("MARKET", "LIMIT")):
        raise input_error("Cover orders need a MARKET or LIMIT entry and a stop-loss `trigger_price`.")
    for name, value in (("price", p.price), ("trigger price", p.trigger_price)):
        if value and value % inst.tick_size:
            raise input_error(f"Tick size for this script is {inst.tick_size.normalize():f}. Kindly enter {name} in the "
                              "multiple of tick size for this script.")
    if p.order_type in ("MARKET", "SL-M") and p.market_protection == 0:
        raise input_error(NO_PROTECTION)
    if not (p.market_protection == -1 or 0 <= p.market_protection <= 100):
        raise input_error("Invalid `market_protection`: use -1 (automatic) or a percentage up to 100.")
    if p.tag is not None and (len(p.tag) > 20 or not p.tag.replace(" ", "").replace("_", "").replace("-", "").isalnum()):
        raise input_error("Invalid `tag`: up to 20 letters and digits.")
    if p.validity == "TTL" and not p.validity_ttl:
        raise input_error("`validity_ttl` (minutes) is required for TTL validity.")
    if not 0 <= p.disclosed_quantity <= p.quantity:
        raise input_error("Disclosed quantity should be between zero and the order quantity.")
    if p.variety == "iceberg":
        if not 2 <= p.iceberg_legs <= 10:
            raise input_error("Invalid `iceberg_legs`: an iceberg order has 2 to 10 legs.")
        if p.iceberg_quantity <= 0 or p.iceberg_quantity % lot or not (
                p.iceberg_quantity * (p.iceberg_legs - 1) < p.quantity <= p.iceberg_quantity * p.iceberg_legs):
            raise input_error("Invalid `iceberg_quantity`: it should be the quantity divided by the legs, in lots.")
        if p.order_type not in ("LIMIT", "SL"):
            raise input_error("Iceberg orders must be LIMIT or SL orders.")


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise input_error(f"Missing or empty field `{name}`.")
    return value


def _choice(form: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = form.get(name) or default
    if value is None:
        raise input_error(f"Missing or empty field `{name}`.")
    if value not in allowed:
        raise input_error(f"Invalid `{name}`: {value!r} (one of {', '.join(allowed)}).")
    return value


def _int(form: Mapping[str, str], name: str, required: bool = False) -> int:
    raw = form.get(name)
    if not raw:
        if required:
            raise input_error(f"Missing or empty field `{name}`.")
        return 0
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise input_error(f"Invalid `{name}` (failed to decode {name}, got: {raw} (expected integer))") from None
    if value != value.to_integral_value():
        raise input_error(f"Invalid `{name}` (failed to decode {name}, got: {raw} (expected integer))")
    return int(value)


def _decimal(form: Mapping[str, str], name: str) -> Decimal:
    raw = form.get(name)
    if not raw:
        return ZERO
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise KiteError("InputException", f"Invalid request (failed to decode {name}, got: {raw} (expected decimal))") from None
    if not value.is_finite():
        raise input_error(f"Invalid `{name}`.")
    return value
