"""Order requests in Binance parameters, checked as Binance checks them, then sent to the exchange.

Shared by the REST endpoints and the WS API. Parameter errors raise -1102/-1100/-1106/-1116/-1117,
filter failures -1013, engine refusals -2010 with Binance's wording; cancels of unknown orders -2011.
"""
from __future__ import annotations

import re
import secrets
from decimal import Decimal

from core.domain import OrderStatus, OrderType, Side, TimeInForce

from ..contract import Market, NewOrder, OrderState
from .errors import BinanceError, illegal, mandatory
from .filters import SPOT_ORDER_TYPES, USDM_ORDER_TYPES, check_order, decimal_param
from .formats import OrderMeta
from .rest_common import flag, int_param
from .state import ServerState

_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "GTX": TimeInForce.GTX}
_NEEDS_TIF = {"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}
_NEEDS_PRICE = {"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}
_STOPS = {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}


def reject_message(reason: str) -> str:
    """Binance's -2010 wording for an engine refusal."""
    text = reason.lower()
    if "balance" in text or "margin" in text or "fund" in text:
        return "Account has insufficient balance for requested action."
    if "post" in text or "immediately match" in text or "would take" in text or "cross" in text:
        return "Order would immediately match and take."
    if "trigger" in text:
        return "Order would trigger immediately."
    if "duplicate" in text:
        return "Duplicate order sent."
    if "reduce" in text:
        return "ReduceOnly Order is rejected."
    return reason or "Order rejected."


def client_id(params: dict[str, str], name: str = "newClientOrderId") -> str:
    """The client's id for a new order, or one made up as Binance does when none is sent."""
    cid = params.get(name) or ""
    if not cid:
        return "x-" + secrets.token_hex(10)
    if not _CLIENT_ID.match(cid):
        raise illegal(name, "^[.A-Z:/a-z0-9_-]{1,36}$")
    return cid


def _side(params: dict[str, str]) -> Side:
    raw = params.get("side")
    if not raw:
        raise mandatory("side")
    if raw not in ("BUY", "SELL"):
        raise BinanceError(-1117, "Invalid side.")
    return Side(raw)


def place(state: ServerState, account: str, params: dict[str, str]) -> tuple[OrderState, OrderMeta]:
    """Validate a new-order request and place it; raise BinanceError if Binance would refuse it."""
    market = state.symbol(params.get("symbol"))
    side = _side(params)
    wire_type = params.get("type") or ""
    if not wire_type:
        raise mandatory("type")
    if wire_type not in (USDM_ORDER_TYPES if state.futures else SPOT_ORDER_TYPES):
        raise BinanceError(-1116, "Invalid orderType.")
    tif_text = params.get("timeInForce") or ""
    if wire_type in _NEEDS_TIF and not tif_text:
        raise mandatory("timeInForce")
    if tif_text and wire_type not in _NEEDS_TIF:
        raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
    if tif_text and (tif_text not in _TIF or (tif_text == "GTX" and not state.futures)):
        raise BinanceError(-1115, "Invalid timeInForce.")
    quantity = decimal_param(params, "quantity")
    quote_qty = decimal_param(params, "quoteOrderQty") if not state.futures else None
    if quantity is None and (wire_type != "MARKET" or quote_qty is None):
        raise mandatory("quantity")
    if quantity is not None and quote_qty is not None:
        raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
    price = decimal_param(params, "price", required=wire_type in _NEEDS_PRICE)
    if price is not None and wire_type not in _NEEDS_PRICE:
        raise BinanceError(-1106, "Parameter 'price' sent when not required.")
    stop = decimal_param(params, "stopPrice", required=wire_type in _STOPS)
    reduce_only = flag(params, "reduceOnly") if state.futures else False
    position_side = _position_side(state, account, params)
    cid = client_id(params)
    if any(o.client_order_id == cid for o in state.exchange.orders(account, state.market, market.symbol, open_only=True)):
        raise BinanceError(-2010, "Duplicate order sent.")
    reference = state.reference_price(market.symbol)
    open_count = len(state.exchange.orders(account, state.market, market.symbol, open_only=True))
    check_order(market.instrument, state.futures, side.value, wire_type, price, stop, quantity, quote_qty, reference,
                open_count, reduce_only)
    if stop is not None and reference is not None:
        _check_trigger(wire_type, side, stop, reference)
    order = NewOrder(account=account, market=state.market, symbol=market.symbol, side=side,
                     order_type=_order_type(wire_type), quantity=quantity or Decimal(0), client_order_id=cid, price=price,
                     trigger_price=stop, time_in_force=_TIF.get(tif_text, TimeInForce.GTC),
                     post_only=wire_type == "LIMIT_MAKER" or tif_text == "GTX", reduce_only=reduce_only,
                     quote_quantity=quote_qty, extra={"binance_type": wire_type, "positionSide": position_side})
    placed = state.exchange.place(order)
    if placed.status is OrderStatus.REJECTED:
        raise BinanceError(-2010, reject_message(placed.reject_reason))
    meta = OrderMeta(wire_type, tif_text or "GTC", quote_qty, position_side, reduce_only)
    state.remember(placed.order_id, meta)
    return placed, meta


def _order_type(wire_type: str) -> OrderType:
    if wire_type in ("LIMIT", "LIMIT_MAKER"):
        return OrderType.LIMIT
    if wire_type == "MARKET":
        return OrderType.MARKET
    return OrderType.STOP_LIMIT if wire_type.endswith("_LIMIT") else OrderType.STOP_MARKET


def _check_trigger(wire_type: str, side: Side, stop: Decimal, last: Decimal) -> None:
    """Stops trigger on a move through stopPrice: one already through it is refused."""
    rising = (side is Side.BUY) == wire_type.startswith("STOP_LOSS")  # BUY stop-loss / SELL take-profit wait for a rise
    if (rising and stop <= last) or (not rising and stop >= last):
        raise BinanceError(-2010, "Order would trigger immediately.")


def _position_side(state: ServerState, account: str, params: dict[str, str]) -> str:
    raw = params.get("positionSide") or "BOTH"
    if not state.futures:
        return "BOTH"
    if raw not in ("BOTH", "LONG", "SHORT"):
        raise BinanceError(-4006, "Position side is invalid.")
    dual = state.dual_side.get(account, False)
    if dual and raw == "BOTH" or not dual and raw != "BOTH":
        raise BinanceError(-4061, "Order's position side does not match user's setting.")
    if dual and params.get("reduceOnly"):
        raise BinanceError(-1106, "Parameter 'reduceonly' sent when not required.")
    return raw


def find(state: ServerState, account: str, market: Market, params: dict[str, str], id_name: str = "orderId",
         client_name: str = "origClientOrderId", missing: tuple[int, str] = (-2013, "Order does not exist.")) -> OrderState:
    """Look an order up by orderId and/or origClientOrderId as the endpoint names them."""
    order_id = int_param(params, id_name)
    cid = params.get(client_name) or None
    if order_id is None and cid is None:
        raise BinanceError(-1102, f"Param '{client_name}' or '{id_name}' must be sent, but both were empty/null!")
    try:
        found = state.exchange.order(account, state.market, market.symbol, order_id=order_id,
                                     client_order_id=None if order_id is not None else cid)
    except KeyError:
        raise BinanceError(*missing) from None
    if order_id is not None and cid is not None and found.client_order_id != cid:
        raise BinanceError(-2039, "Order was not canceled due to mismatched client order id and order id."
                           if missing[0] == -2011 else "Client order id is not valid.")
    return found


def cancel(state: ServerState, account: str, params: dict[str, str]) -> OrderState:
    """Cancel one order; -2011 "Unknown order sent." if it is unknown or no longer working."""
    market = state.symbol(params.get("symbol"))
    order = find(state, account, market, params, missing=(-2011, "Unknown order sent."))
    restriction = params.get("cancelRestrictions")
    if restriction == "ONLY_NEW" and order.status is not OrderStatus.OPEN or \
            restriction == "ONLY_PARTIALLY_FILLED" and order.status is not OrderStatus.PARTIALLY_FILLED:
        raise BinanceError(-2011, "Order was not canceled due to cancel restrictions.")
    if order.status.is_terminal:
        raise BinanceError(-2011, "Unknown order sent.")
    return state.exchange.cancel(account, state.market, market.symbol, order.order_id)
