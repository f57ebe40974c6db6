"""exchangeInfo symbols built from the emulator's instruments, and the filter checks they imply.

Filter values come from the core Instrument (tick, step, min/max quantity, min notional); anything the
Instrument has no field for can be set through Instrument.extra under the filter field's name (e.g.
"maxPrice", "bidMultiplierUp", "maxNumOrders"), else a typical production value is used. Checks use
exact Decimal arithmetic and fail with the real codes and messages (binance.md A9, A6).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import Instrument

from .errors import BinanceError, filter_failure, illegal, mandatory

_DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
MAX_DECIMALS = 8
ZERO = Decimal(0)

# TAKE_PROFIT(_LIMIT) trigger on a move against the stop direction, which the matching engine does not
# model (its stops trigger on a rise for buys, a fall for sells), so the emulator does not offer them.
SPOT_ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"]
USDM_ORDER_TYPES = ["LIMIT", "MARKET"]


def fmt(value: Decimal | None, places: int = 8) -> str:
    """Format a decimal as Binance does: fixed places ("0.00100000")."""
    if value is None:
        value = ZERO
    return f"{value:.{places}f}"


def _extra(inst: Instrument, name: str, default: str) -> Decimal:
    return Decimal(inst.extra.get(name, default))


def filter_values(inst: Instrument, futures: bool) -> dict[str, dict[str, Decimal]]:
    """The filters of a symbol as Decimals, keyed by filterType."""
    max_qty = inst.max_quantity if inst.max_quantity is not None else Decimal("9000")
    filters: dict[str, dict[str, Decimal]] = {
        "PRICE_FILTER": {"minPrice": _extra(inst, "minPrice", str(inst.tick_size)),
                         "maxPrice": _extra(inst, "maxPrice", "1000000"), "tickSize": inst.tick_size},
        "LOT_SIZE": {"minQty": inst.min_quantity or inst.lot_size, "maxQty": max_qty, "stepSize": inst.lot_size},
        "MARKET_LOT_SIZE": {"minQty": ZERO, "maxQty": _extra(inst, "marketMaxQty", str(max_qty)), "stepSize": ZERO},
        "MAX_NUM_ORDERS": {"maxNumOrders": _extra(inst, "maxNumOrders", "200")},
        "MAX_NUM_ALGO_ORDERS": {"maxNumAlgoOrders": _extra(inst, "maxNumAlgoOrders", "5" if not futures else "10")},
    }
    if futures:
        filters["MIN_NOTIONAL"] = {"notional": inst.min_notional}
        filters["PERCENT_PRICE"] = {"multiplierUp": _extra(inst, "multiplierUp", "1.0500"),
                                    "multiplierDown": _extra(inst, "multiplierDown", "0.9500"),
                                    "multiplierDecimal": Decimal(4)}
    else:
        filters["NOTIONAL"] = {"minNotional": inst.min_notional, "maxNotional": _extra(inst, "maxNotional", "9000000"),
                               "avgPriceMins": Decimal(5)}
        filters["PERCENT_PRICE_BY_SIDE"] = {
            "bidMultiplierUp": _extra(inst, "bidMultiplierUp", "5"), "bidMultiplierDown": _extra(inst, "bidMultiplierDown", "0.2"),
            "askMultiplierUp": _extra(inst, "askMultiplierUp", "5"), "askMultiplierDown": _extra(inst, "askMultiplierDown", "0.2"),
            "avgPriceMins": Decimal(5)}
        filters["ICEBERG_PARTS"] = {"limit": Decimal(100)}
    return filters


def filters_json(inst: Instrument, futures: bool) -> list[dict[str, Any]]:
    """The `filters` array of exchangeInfo: decimal strings, integers and booleans as Binance sends them."""
    out: list[dict[str, Any]] = []
    for name, fields in filter_values(inst, futures).items():
        entry: dict[str, Any] = {"filterType": name}
        for key, value in fields.items():
            if key in ("maxNumOrders", "maxNumAlgoOrders", "limit", "avgPriceMins", "multiplierDecimal"):
                entry[key] = int(value)
            elif futures:
                entry[key] = format(value.normalize(), "f")
            else:
                entry[key] = fmt(value)
        if name == "NOTIONAL":
            entry.update(applyMinToMarket=True, applyMaxToMarket=False)
        out.append(entry)
    return out


def decimal_param(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
    """Parse a DECIMAL parameter: -1102 when required and missing, -1100/-1111 when malformed."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    if not _DECIMAL_RE.match(raw):
        raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$") from None
    if "." in raw and len(raw.split(".")[1].rstrip("0")) > MAX_DECIMALS:
        raise BinanceError(-1111, "Precision is over the maximum defined for this asset.")
    return value


def check_order(inst: Instrument, futures: bool, side: str, order_type: str, price: Decimal | None,
                stop_price: Decimal | None, quantity: Decimal | None, quote_quantity: Decimal | None,
                reference: Decimal | None, open_orders: int, reduce_only: bool = False) -> None:
    """Apply the symbol's filters to a new order; raise -1013 "Filter failure: ..." on the first failure."""
    f = filter_values(inst, futures)
    for value in (price, stop_price):
        if value is None:
            continue
        pf = f["PRICE_FILTER"]
        if (pf["minPrice"] and value < pf["minPrice"]) or (pf["maxPrice"] and value > pf["maxPrice"]) or (
                pf["tickSize"] and value % pf["tickSize"] != 0):
            raise filter_failure("PRICE_FILTER")
    if price is not None and reference:
        _percent_price(f, futures, side, price, reference)
    if quantity is not None:
        lot = f["MARKET_LOT_SIZE"] if order_type == "MARKET" else f["LOT_SIZE"]
        name = "MARKET_LOT_SIZE" if order_type == "MARKET" else "LOT_SIZE"
        if order_type == "MARKET" and not _lot_ok(f["LOT_SIZE"], quantity, check_min=True):
            raise filter_failure("LOT_SIZE")
        if not _lot_ok(lot, quantity, check_min=order_type != "MARKET"):
            raise filter_failure(name)
    notional_price = price if order_type in ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") else reference
    notional = quote_quantity if quote_quantity is not None else (
        notional_price * quantity if notional_price is not None and quantity is not None else None)
    if notional is not None:
        if futures:
            minimum = f["MIN_NOTIONAL"]["notional"]
            if notional < minimum and not reduce_only:
                raise BinanceError(-4164, f"Order's notional must be no smaller than {minimum.normalize():f} "
                                          "(unless you choose reduce only).")
        else:
            n = f["NOTIONAL"]
            if notional < n["minNotional"] or (order_type != "MARKET" and n["maxNotional"] and notional > n["maxNotional"]):
                raise filter_failure("NOTIONAL")
    if open_orders + 1 > f["MAX_NUM_ORDERS"]["maxNumOrders"]:
        raise filter_failure("MAX_NUM_ORDERS")


def _lot_ok(lot: dict[str, Decimal], qty: Decimal, check_min: bool) -> bool:
    if qty <= 0 or (check_min and lot["minQty"] and qty < lot["minQty"]):
        return False
    if lot["maxQty"] and qty > lot["maxQty"]:
        return False
    return not (lot["stepSize"] and qty % lot["stepSize"] != 0)


def _percent_price(f: dict[str, dict[str, Decimal]], futures: bool, side: str, price: Decimal, ref: Decimal) -> None:
    if futures:
        pp = f["PERCENT_PRICE"]
        up, down = pp["multiplierUp"], pp["multiplierDown"]
        name = "PERCENT_PRICE"
    else:
        pp = f["PERCENT_PRICE_BY_SIDE"]
        prefix = "bid" if side == "BUY" else "ask"
        up, down = pp[f"{prefix}MultiplierUp"], pp[f"{prefix}MultiplierDown"]
        name = "PERCENT_PRICE"  # by-side violations carry the PERCENT_PRICE message (binance.md A6)
    if price > ref * up or price < ref * down:
        raise filter_failure(name)
