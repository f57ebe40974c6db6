"""The emulator's order states rendered as Binance JSON: REST order shapes, executionReport,
ORDER_TRADE_UPDATE, trade lists. Wire details the engine does not keep (the Binance order type,
quoteOrderQty, positionSide ...) come from the OrderMeta recorded when the order was placed.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain import OrderStatus, OrderType, TimeInForce

from ..contract import OrderState
from .filters import fmt

MS = 1_000_000

_STATUS = {
    OrderStatus.PENDING_NEW: "NEW", OrderStatus.OPEN: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED", OrderStatus.CANCEL_PENDING: "NEW", OrderStatus.CANCELLED: "CANCELED",
    OrderStatus.REJECTED: "REJECTED", OrderStatus.EXPIRED: "EXPIRED",
}


@dataclass
class OrderMeta:
    """Binance-only facts about an order, kept by the protocol server."""

    wire_type: str  # LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, ...
    time_in_force: str  # GTC, IOC, FOK, GTX
    quote_quantity: Decimal | None = None
    position_side: str = "BOTH"
    reduce_only: bool = False
    list_id: int = -1


def default_meta(state: OrderState, futures: bool) -> OrderMeta:
    """Meta for an order placed without one (another protocol, or before a restart)."""
    tif = "GTC" if state.time_in_force in (TimeInForce.DAY, TimeInForce.GTX) else state.time_in_force.value
    wire = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
            OrderType.STOP_MARKET: "STOP_LOSS"}[state.order_type]
    if state.time_in_force is TimeInForce.GTX:
        wire, tif = ("LIMIT", "GTX") if futures else ("LIMIT_MAKER", "GTC")
    return OrderMeta(wire, tif)


def status_text(state: OrderState) -> str:
    return _STATUS[state.status]


def ms(ns: int) -> int:
    return ns // MS


def spot_order(state: OrderState, meta: OrderMeta, full: bool = True) -> dict[str, Any]:
    """GET /api/v3/order shape (also the RESULT body of a new order)."""
    body: dict[str, Any] = {
        "symbol": state.symbol, "orderId": state.order_id, "orderListId": meta.list_id,
        "clientOrderId": state.client_order_id, "price": fmt(state.price), "origQty": fmt(state.quantity),
        "executedQty": fmt(state.filled_quantity), "cummulativeQuoteQty": fmt(state.cumulative_quote),
        "status": status_text(state), "timeInForce": meta.time_in_force, "type": meta.wire_type,
        "side": state.side.value,
    }
    if full:
        body.update(stopPrice=fmt(state.trigger_price), icebergQty=fmt(None), time=ms(state.created_ns),
                    updateTime=ms(state.updated_ns), isWorking=state.status.is_working,
                    workingTime=ms(state.created_ns) if state.status.is_working else -1,
                    origQuoteOrderQty=fmt(meta.quote_quantity), selfTradePreventionMode="EXPIRE_MAKER")
    return body


def spot_new_order(state: OrderState, meta: OrderMeta, resp_type: str, fills: list[OrderState]) -> dict[str, Any]:
    """The answer to POST /api/v3/order in ACK, RESULT or FULL form."""
    ack = {"symbol": state.symbol, "orderId": state.order_id, "orderListId": meta.list_id,
           "clientOrderId": state.client_order_id, "transactTime": ms(state.updated_ns)}
    if resp_type == "ACK":
        return ack
    body = {**ack, **spot_order(state, meta, full=False), "origQuoteOrderQty": fmt(meta.quote_quantity),
            "workingTime": ms(state.created_ns) if state.status.is_working else -1, "selfTradePreventionMode": "EXPIRE_MAKER"}
    if meta.wire_type in ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"):
        body["stopPrice"] = fmt(state.trigger_price)
    if resp_type == "FULL":
        body["fills"] = [{"price": fmt(f.last_fill_price), "qty": fmt(f.last_fill_quantity), "commission": fmt(f.last_fee),
                          "commissionAsset": f.fee_asset, "tradeId": f.last_trade_id} for f in fills]
    return body


def spot_cancel(state: OrderState, meta: OrderMeta, cancel_client_id: str) -> dict[str, Any]:
    """The answer to DELETE /api/v3/order: clientOrderId is the cancel's own id."""
    body = spot_order(state, meta, full=False)
    body.update(origClientOrderId=state.client_order_id, clientOrderId=cancel_client_id,
                transactTime=ms(state.updated_ns), origQuoteOrderQty=fmt(meta.quote_quantity),
                selfTradePreventionMode="EXPIRE_MAKER")
    return body


def execution_report(state: OrderState, meta: OrderMeta, exec_type: str, execution_id: int, now_ms: int,
                     cancel_client_id: str = "") -> dict[str, Any]:
    """The spot user-data executionReport for one change of an order."""
    trade = exec_type == "TRADE"
    return {
        "e": "executionReport", "E": now_ms, "s": state.symbol,
        "c": cancel_client_id or state.client_order_id, "S": state.side.value, "o": meta.wire_type,
        "f": meta.time_in_force, "q": fmt(state.quantity), "p": fmt(state.price), "P": fmt(state.trigger_price),
        "F": fmt(None), "g": meta.list_id, "C": state.client_order_id if cancel_client_id else "",
        "x": exec_type, "X": status_text(state), "r": _reject_code(state) if exec_type == "REJECTED" else "NONE",
        "i": state.order_id, "l": fmt(state.last_fill_quantity if trade else None), "z": fmt(state.filled_quantity),
        "L": fmt(state.last_fill_price if trade else None), "n": fmt(state.last_fee if trade else None),
        "N": state.fee_asset if trade else None, "T": ms(state.updated_ns), "t": state.last_trade_id if trade else -1,
        "I": execution_id, "w": state.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED),
        "m": state.is_maker if trade else False, "M": False, "O": ms(state.created_ns),
        "Z": fmt(state.cumulative_quote),
        "Y": fmt(state.last_fill_price * state.last_fill_quantity if trade else None),
        "Q": fmt(meta.quote_quantity), "W": ms(state.created_ns), "V": "EXPIRE_MAKER",
    }


def _reject_code(state: OrderState) -> str:
    reason = state.reject_reason.lower()
    if "balance" in reason or "margin" in reason:
        return "INSUFFICIENT_BALANCES"
    if "immediately match" in reason or "post" in reason:
        return "WOULD_MATCH_IMMEDIATELY"
    if "trigger" in reason:
        return "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY"
    return "NONE"


def usdm_order(state: OrderState, meta: OrderMeta) -> dict[str, Any]:
    """GET /fapi/v1/order shape (also the RESULT body of a new order)."""
    return {
        "orderId": state.order_id, "symbol": state.symbol, "status": status_text(state),
        "clientOrderId": state.client_order_id, "price": _plain(state.price), "avgPrice": _plain(state.average_price),
        "origQty": _plain(state.quantity), "executedQty": _plain(state.filled_quantity),
        "cumQuote": _plain(state.cumulative_quote), "timeInForce": meta.time_in_force, "type": meta.wire_type,
        "reduceOnly": meta.reduce_only, "closePosition": False, "side": state.side.value,
        "positionSide": meta.position_side, "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
        "origType": meta.wire_type, "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
        "time": ms(state.created_ns), "updateTime": ms(state.updated_ns),
    }


def order_trade_update(state: OrderState, meta: OrderMeta, exec_type: str, now_ms: int,
                       realized: Decimal = Decimal(0)) -> dict[str, Any]:
    """The futures user-data ORDER_TRADE_UPDATE event."""
    trade = exec_type == "TRADE"
    return {"e": "ORDER_TRADE_UPDATE", "E": now_ms, "T": ms(state.updated_ns), "o": {
        "s": state.symbol, "c": state.client_order_id, "S": state.side.value, "o": meta.wire_type,
        "f": meta.time_in_force, "q": _plain(state.quantity), "p": _plain(state.price),
        "ap": _plain(state.average_price), "sp": "0", "x": exec_type, "X": status_text(state), "i": state.order_id,
        "l": _plain(state.last_fill_quantity if trade else None), "z": _plain(state.filled_quantity),
        "L": _plain(state.last_fill_price if trade else None), "N": state.fee_asset or "USDT",
        "n": _plain(state.last_fee if trade else None), "T": ms(state.updated_ns),
        "t": state.last_trade_id if trade else 0, "b": "0", "a": "0", "m": state.is_maker if trade else False,
        "R": meta.reduce_only, "wt": "CONTRACT_PRICE", "ot": meta.wire_type, "ps": meta.position_side, "cp": False,
        "rp": _plain(realized), "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
    }}


def _plain(value: Decimal | None) -> str:
    """Futures decimals: plain, without padding ("0.010", "30000.10" as stored)."""
    return "0" if value is None else format(value, "f")


def spot_trade(fill: OrderState) -> dict[str, Any]:
    """One GET /api/v3/myTrades item."""
    return {"symbol": fill.symbol, "id": fill.last_trade_id, "orderId": fill.order_id, "orderListId": -1,
            "price": fmt(fill.last_fill_price), "qty": fmt(fill.last_fill_quantity),
            "quoteQty": fmt(fill.last_fill_price * fill.last_fill_quantity), "commission": fmt(fill.last_fee),
            "commissionAsset": fill.fee_asset, "time": ms(fill.updated_ns), "isBuyer": fill.side.value == "BUY",
            "isMaker": fill.is_maker, "isBestMatch": True}


def usdm_trade(fill: OrderState, position_side: str) -> dict[str, Any]:
    """One GET /fapi/v1/userTrades item."""
    return {"buyer": fill.side.value == "BUY", "commission": _plain(fill.last_fee), "commissionAsset": fill.fee_asset or "USDT",
            "id": fill.last_trade_id, "maker": fill.is_maker, "orderId": fill.order_id,
            "price": _plain(fill.last_fill_price), "qty": _plain(fill.last_fill_quantity),
            "quoteQty": _plain(fill.last_fill_price * fill.last_fill_quantity), "realizedPnl": "0",
            "side": fill.side.value, "positionSide": position_side, "symbol": fill.symbol, "time": ms(fill.updated_ns)}
