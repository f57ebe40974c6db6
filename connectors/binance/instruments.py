"""exchangeInfo symbols -> core Instruments, and the Binance filter checks done before sending.

Every filter is kept in Instrument.extra as "<filterType>.<field>" (decimal strings), plus "status",
"orderTypes" and "quoteOrderQtyMarketAllowed", so checks need nothing but the Instrument. The core
checks (tick, step, min/max quantity, min notional) come from core.domain.validation; this adds the
rest: price bounds, MARKET_LOT_SIZE, max notional, PERCENT_PRICE(_BY_SIDE), allowed order types and
symbol status.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from core.domain import Instrument, InstrumentId, InstrumentKind, OrderRequest, OrderType, Side, TimeInForce, Venue
from core.domain.validation import order_problems
from core.errors import ValidationError

from .wire_market import Malformed

ZERO = Decimal(0)


def parse_symbol(venue: Venue, s: dict[str, Any]) -> Instrument:
    """Build an Instrument from one exchangeInfo symbol (spot or USD-M)."""
    try:
        extra: dict[str, str] = {"status": str(s["status"]), "orderTypes": ",".join(s.get("orderTypes", []))}
        for f in s.get("filters", []):
            kind = f["filterType"]
            for key, value in f.items():
                if key != "filterType":
                    extra[f"{kind}.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
        if "quoteOrderQtyMarketAllowed" in s:
            extra["quoteOrderQtyMarketAllowed"] = str(bool(s["quoteOrderQtyMarketAllowed"])).lower()
        if "timeInForce" in s:
            extra["timeInForce"] = ",".join(s["timeInForce"])
        tick = Decimal(extra.get("PRICE_FILTER.tickSize", "0"))
        step = Decimal(extra.get("LOT_SIZE.stepSize", "0"))
        if tick <= 0 or step <= 0:
            raise Malformed(f"{s.get('symbol')}: no tick or step size")
        futures = venue is Venue.BINANCE_USDM
        min_notional = Decimal(extra.get("MIN_NOTIONAL.notional") if futures else
                               extra.get("NOTIONAL.minNotional", extra.get("MIN_NOTIONAL.minNotional", "0")) or "0")
        max_qty = Decimal(extra.get("LOT_SIZE.maxQty", "0"))
        contract = s.get("contractType", "")
        expiry = None
        if futures and contract not in ("", "PERPETUAL") and s.get("deliveryDate"):
            expiry = datetime.fromtimestamp(int(s["deliveryDate"]) / 1000, tz=timezone.utc)
        return Instrument(
            id=InstrumentId(venue, str(s["symbol"])), kind=InstrumentKind.FUTURE if futures else InstrumentKind.SPOT,
            exchange="USDM" if futures else "SPOT", tick_size=tick.normalize(), lot_size=step.normalize(),
            quote_currency=str(s["quoteAsset"]), base_currency=str(s["baseAsset"]),
            min_quantity=Decimal(extra.get("LOT_SIZE.minQty", "0")).normalize(),
            max_quantity=max_qty.normalize() if max_qty > 0 else None, min_notional=min_notional.normalize(),
            expiry=expiry, underlying=str(s["baseAsset"]) if futures else None, venue_token=str(s["symbol"]),
            name=f"{s['baseAsset']}/{s['quoteAsset']}" + (f" {contract.lower()}" if contract else ""), extra=extra)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise Malformed(f"bad exchangeInfo symbol {s.get('symbol') if isinstance(s, dict) else s!r}: {exc}") from None


def parse_exchange_info(venue: Venue, info: dict[str, Any]) -> list[Instrument]:
    """All instruments of an exchangeInfo answer; symbols that do not parse are skipped."""
    out = []
    for s in info.get("symbols", []):
        try:
            out.append(parse_symbol(venue, s))
        except Malformed:
            continue
    return out


def _d(inst: Instrument, key: str) -> Decimal:
    return Decimal(inst.extra.get(key, "0") or "0")


def wire_order_type(request: OrderRequest, futures: bool) -> str:
    """The Binance order type a request becomes (without the stop direction: see orders.py)."""
    if request.order_type is OrderType.MARKET:
        return "MARKET"
    if request.order_type is OrderType.LIMIT:
        return "LIMIT_MAKER" if request.time_in_force is TimeInForce.GTX and not futures else "LIMIT"
    if futures:
        return "STOP" if request.order_type is OrderType.STOP_LIMIT else "STOP_MARKET"
    return "STOP_LOSS_LIMIT" if request.order_type is OrderType.STOP_LIMIT else "STOP_LOSS"


def binance_problems(inst: Instrument, request: OrderRequest, reference_price: Decimal | None = None) -> list[str]:
    """Every reason Binance's filters would refuse this request (core checks included)."""
    problems = order_problems(inst, request, reference_price)
    futures = inst.venue is Venue.BINANCE_USDM
    status = inst.extra.get("status", "TRADING")
    if status != "TRADING":
        problems.append(f"{inst.symbol} is not trading now (status {status})")
    allowed = inst.extra.get("orderTypes", "")
    wire = wire_order_type(request, futures)
    if allowed and wire not in allowed.split(",") and not (wire.startswith("STOP_LOSS") and any(
            t.startswith("TAKE_PROFIT") for t in allowed.split(","))):
        problems.append(f"{inst.symbol} does not take {wire} orders")
    lo, hi = _d(inst, "PRICE_FILTER.minPrice"), _d(inst, "PRICE_FILTER.maxPrice")
    for label, price in (("price", request.price), ("trigger price", request.trigger_price)):
        if price is None:
            continue
        if lo and price < lo:
            problems.append(f"{label} {price} is below the minimum {lo.normalize():f}")
        if hi and price > hi:
            problems.append(f"{label} {price} is above the maximum {hi.normalize():f}")
    if request.order_type is OrderType.MARKET and request.quote_quantity is None:
        mlo, mhi, mstep = (_d(inst, f"MARKET_LOT_SIZE.{k}") for k in ("minQty", "maxQty", "stepSize"))
        if mhi and request.quantity > mhi:
            problems.append(f"market order quantity {request.quantity} is above the maximum {mhi.normalize():f}")
        if mlo and request.quantity < mlo:
            problems.append(f"market order quantity {request.quantity} is below the minimum {mlo.normalize():f}")
        if mstep and request.quantity % mstep:
            problems.append(f"market order quantity {request.quantity} is not a multiple of {mstep.normalize():f}")
    if request.quote_quantity is not None:
        if futures:
            problems.append("USD-M orders take a quantity, not a quote amount")
        elif request.order_type is not OrderType.MARKET:
            problems.append("a quote amount (quoteOrderQty) is only for market orders")
        elif inst.extra.get("quoteOrderQtyMarketAllowed") == "false":
            problems.append(f"{inst.symbol} does not take market orders by quote amount")
        elif inst.min_notional and request.quote_quantity < inst.min_notional:
            problems.append(f"order value {request.quote_quantity} {inst.quote_currency} is below the minimum "
                            f"{inst.min_notional.normalize():f} {inst.quote_currency}")
    max_notional = _d(inst, "NOTIONAL.maxNotional")
    if max_notional and request.price is not None and request.order_type.has_price:
        value = request.price * request.quantity
        if value > max_notional:
            problems.append(f"order value {value.normalize():f} is above the maximum {max_notional.normalize():f}")
    if request.price is not None and reference_price:
        problems += _percent_price(inst, request.side, request.price, reference_price, futures)
    if request.reduce_only and not futures:
        problems.append("reduce-only is a futures order flag")
    return problems


def _percent_price(inst: Instrument, side: Side, price: Decimal, ref: Decimal, futures: bool) -> list[str]:
    if futures:
        up, down = _d(inst, "PERCENT_PRICE.multiplierUp"), _d(inst, "PERCENT_PRICE.multiplierDown")
    elif "PERCENT_PRICE_BY_SIDE.bidMultiplierUp" in inst.extra:
        prefix = "bid" if side is Side.BUY else "ask"
        up, down = _d(inst, f"PERCENT_PRICE_BY_SIDE.{prefix}MultiplierUp"), _d(inst, f"PERCENT_PRICE_BY_SIDE.{prefix}MultiplierDown")
    else:
        up, down = _d(inst, "PERCENT_PRICE.multiplierUp"), _d(inst, "PERCENT_PRICE.multiplierDown")
    if up and price > ref * up:
        return [f"price {price} is more than {up.normalize():f}x the reference price {ref.normalize():f}"]
    if down and price < ref * down:
        return [f"price {price} is less than {down.normalize():f}x the reference price {ref.normalize():f}"]
    return []


def validate(inst: Instrument, request: OrderRequest, reference_price: Decimal | None = None) -> None:
    """Raise ValidationError listing every filter the request breaks."""
    problems = binance_problems(inst, request, reference_price)
    if problems:
        raise ValidationError(f"{inst.symbol}: " + "; ".join(problems))
