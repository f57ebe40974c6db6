"""Spot account and trading answers (binance.md A7): each a handler (state, req) -> JSON body, used by
the REST routes and the WS API alike."""
from __future__ import annotations

from typing import Any

from core.domain import OrderStatus

from ..contract import OrderState
from . import orders
from .errors import BinanceError, mandatory
from .filters import check_order, decimal_param, fmt
from .formats import OrderMeta, spot_cancel, spot_new_order, spot_order, spot_trade
from .rest_common import Req, int_param
from .state import ServerState

_CANCEL_PARAMS = ("cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId", "cancelReplaceMode",
                  "cancelRestrictions", "orderRateLimitExceededMode")


def _fills(state: ServerState, placed: OrderState) -> list[OrderState]:
    return [s for s in state.exchange.order_history(placed.account, placed.order_id) if s.last_fill_quantity > 0
            and s.last_trade_id and s.filled_quantity <= placed.filled_quantity]


def _answer(state: ServerState, placed: OrderState, meta: OrderMeta, params: dict[str, str]) -> dict[str, Any]:
    default = "FULL" if meta.wire_type in ("LIMIT", "MARKET") else "ACK"
    resp_type = params.get("newOrderRespType") or default
    if resp_type not in ("ACK", "RESULT", "FULL"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'.")
    latest = state.exchange.order(placed.account, state.market, placed.symbol, order_id=placed.order_id)
    return spot_new_order(latest, meta, resp_type, _fills(state, latest) if resp_type == "FULL" else [])


def new_order(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /api/v3/order."""
    req.headers.update(state.limits.count_order(req.account))
    placed, meta = orders.place(state, req.account, req.params)
    return _answer(state, placed, meta, req.params)


def test_order(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /api/v3/order/test: validate only (parameters and filters)."""
    market = state.symbol(req.params.get("symbol"))
    if not req.params.get("side") or not req.params.get("type"):
        raise mandatory("side" if not req.params.get("side") else "type")
    check_order(market.instrument, False, req.params["side"], req.params["type"], decimal_param(req.params, "price"),
                decimal_param(req.params, "stopPrice"), decimal_param(req.params, "quantity"),
                decimal_param(req.params, "quoteOrderQty"), state.reference_price(market.symbol), 0)
    return {}


def get_order(state: ServerState, req: Req) -> dict[str, Any]:
    """GET /api/v3/order."""
    market = state.symbol(req.params.get("symbol"))
    found = orders.find(state, req.account, market, req.params)
    return spot_order(found, state.meta(found))


def cancel_order(state: ServerState, req: Req) -> dict[str, Any]:
    """DELETE /api/v3/order."""
    cancelled = orders.cancel(state, req.account, req.params)
    return spot_cancel(cancelled, state.meta(cancelled), orders.client_id(req.params))


def open_orders(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /api/v3/openOrders (all symbols without `symbol`)."""
    symbol = state.symbol(req.params["symbol"]).symbol if req.params.get("symbol") else None
    return [spot_order(o, state.meta(o)) for o in state.exchange.orders(req.account, state.market, symbol, open_only=True)]


def cancel_all(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """DELETE /api/v3/openOrders: cancel every working order of a symbol."""
    market = state.symbol(req.params.get("symbol"))
    working = state.exchange.orders(req.account, state.market, market.symbol, open_only=True)
    if not working:
        raise BinanceError(-2011, "Unknown order sent.")
    out = []
    for order in working:
        cancelled = state.exchange.cancel(req.account, state.market, market.symbol, order.order_id)
        out.append(spot_cancel(cancelled, state.meta(cancelled), orders.client_id({})))
    return out


def cancel_replace(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /api/v3/order/cancelReplace: cancel, then place (STOP_ON_FAILURE or ALLOW_FAILURE)."""
    p = req.params
    market = state.symbol(p.get("symbol"))
    mode = p.get("cancelReplaceMode")
    if not mode:
        raise mandatory("cancelReplaceMode")
    if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'cancelReplaceMode'; legal range is "
                                  "'STOP_ON_FAILURE, ALLOW_FAILURE'.")
    req.headers.update(state.limits.count_order(req.account))
    cancel_response: dict[str, Any]
    try:
        target = orders.find(state, req.account, market, p, "cancelOrderId", "cancelOrigClientOrderId",
                             missing=(-2011, "Unknown order sent."))
        if target.status.is_terminal:
            raise BinanceError(-2011, "Unknown order sent.")
        cancelled = state.exchange.cancel(req.account, state.market, market.symbol, target.order_id)
        cancel_ok = cancelled.status is OrderStatus.CANCELLED
        cancel_response = spot_cancel(cancelled, state.meta(cancelled), orders.client_id(p, "cancelNewClientOrderId"))
    except BinanceError as exc:
        if exc.code == -1102:
            raise
        cancel_ok, cancel_response = False, exc.body()
    if not cancel_ok and mode == "STOP_ON_FAILURE":
        raise _replace_error(-2022, "FAILURE", "NOT_ATTEMPTED", cancel_response, None)
    new_params = {k: v for k, v in p.items() if k not in _CANCEL_PARAMS}
    try:
        placed, meta = orders.place(state, req.account, new_params)
        new_response: dict[str, Any] = _answer(state, placed, meta, new_params)
        new_ok = True
    except BinanceError as exc:
        new_ok, new_response = False, exc.body()
    if cancel_ok and new_ok:
        return {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": cancel_response,
                "newOrderResponse": new_response}
    if cancel_ok or new_ok:
        raise _replace_error(-2021, "SUCCESS" if cancel_ok else "FAILURE", "SUCCESS" if new_ok else "FAILURE",
                             cancel_response, new_response, status=409)
    raise _replace_error(-2022, "FAILURE", "FAILURE", cancel_response, new_response)


def _replace_error(code: int, cancel: str, new: str, cancel_response: Any, new_response: Any, status: int = 400) -> BinanceError:
    msg = "Order cancel-replace partially failed." if code == -2021 else "Order cancel-replace failed."
    return BinanceError(code, msg, status=status, data={"cancelResult": cancel, "newOrderResult": new,
                                                        "cancelResponse": cancel_response, "newOrderResponse": new_response})


def account(state: ServerState, req: Req) -> dict[str, Any]:
    """GET /api/v3/account."""
    omit_zero = (req.params.get("omitZeroBalances") or "").lower() == "true"
    balances = [{"asset": b.asset, "free": fmt(b.free), "locked": fmt(b.locked)}
                for b in state.wallet(req.account) if not omit_zero or b.free or b.locked]
    return {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": state.server_ms(),
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 1}


def my_trades(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /api/v3/myTrades."""
    market = state.symbol(req.params.get("symbol"))
    order_id = int_param(req.params, "orderId")
    from_id = int_param(req.params, "fromId")
    start, end = int_param(req.params, "startTime"), int_param(req.params, "endTime")
    limit = min(int_param(req.params, "limit", 500) or 500, 1000)
    fills = [f for f in state.exchange.fills(req.account, state.market, market.symbol)
             if (order_id is None or f.order_id == order_id) and (from_id is None or f.last_trade_id >= from_id)
             and (start is None or f.updated_ns // 1_000_000 >= start) and (end is None or f.updated_ns // 1_000_000 <= end)]
    return [spot_trade(f) for f in fills[:limit]]


def all_orders(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /api/v3/allOrders."""
    market = state.symbol(req.params.get("symbol"))
    from_id = int_param(req.params, "orderId")
    limit = min(int_param(req.params, "limit", 500) or 500, 1000)
    found = [o for o in state.exchange.orders(req.account, state.market, market.symbol)
             if from_id is None or o.order_id >= from_id]
    return [spot_order(o, state.meta(o)) for o in found[:limit]]
