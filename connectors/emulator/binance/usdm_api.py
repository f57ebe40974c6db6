"""USD-M futures account and trading answers (binance.md B2): handlers (state, req) -> JSON body."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import orders
from .errors import BinanceError, mandatory
from .filters import check_order, decimal_param
from .formats import usdm_order, usdm_trade
from .rest_common import Req, flag, int_param
from .state import ServerState


def _plain(value: Decimal) -> str:
    return format(value, "f")


def new_order(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /fapi/v1/order (ACK and RESULT both carry the order)."""
    req.headers.update(state.limits.count_order(req.account))
    if req.params.get("newOrderRespType") not in (None, "", "ACK", "RESULT"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT'.")
    placed, meta = orders.place(state, req.account, req.params)
    latest = state.exchange.order(req.account, state.market, placed.symbol, order_id=placed.order_id)
    return usdm_order(latest, meta)


def get_order(state: ServerState, req: Req) -> dict[str, Any]:
    """GET /fapi/v1/order."""
    market = state.symbol(req.params.get("symbol"))
    found = orders.find(state, req.account, market, req.params)
    return usdm_order(found, state.meta(found))


def cancel_order(state: ServerState, req: Req) -> dict[str, Any]:
    """DELETE /fapi/v1/order."""
    cancelled = orders.cancel(state, req.account, req.params)
    return usdm_order(cancelled, state.meta(cancelled))


def modify_order(state: ServerState, req: Req) -> dict[str, Any]:
    """PUT /fapi/v1/order: change price and quantity in place (the order keeps its id)."""
    p = req.params
    market = state.symbol(p.get("symbol"))
    found = orders.find(state, req.account, market, p)
    if not found.status.is_working:
        raise BinanceError(-2013, "Order does not exist.")
    if not p.get("side"):
        raise mandatory("side")
    if p["side"] != found.side.value:
        raise BinanceError(-4028, "Side does not match.")
    quantity = decimal_param(p, "quantity", required=True)
    price = decimal_param(p, "price", required=True)
    assert quantity is not None and price is not None
    if quantity == found.quantity and price == found.price:
        raise BinanceError(-5027, "No need to modify the order.")
    if quantity <= found.filled_quantity:
        raise BinanceError(-2010, "Quantity less than or equal to the executed quantity.")
    check_order(market.instrument, True, found.side.value, "LIMIT", price, None, quantity, None,
                state.reference_price(market.symbol), 0)
    amended = state.exchange.amend(req.account, state.market, market.symbol, found.order_id, price, quantity, None)
    if amended.status.is_terminal and amended.reject_reason:
        raise BinanceError(-2010, orders.reject_message(amended.reject_reason))
    return usdm_order(amended, state.meta(amended))


def cancel_all(state: ServerState, req: Req) -> dict[str, Any]:
    """DELETE /fapi/v1/allOpenOrders."""
    market = state.symbol(req.params.get("symbol"))
    for order in state.exchange.orders(req.account, state.market, market.symbol, open_only=True):
        state.exchange.cancel(req.account, state.market, market.symbol, order.order_id)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def open_orders(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /fapi/v1/openOrders."""
    symbol = state.symbol(req.params["symbol"]).symbol if req.params.get("symbol") else None
    return [usdm_order(o, state.meta(o)) for o in state.exchange.orders(req.account, state.market, symbol, open_only=True)]


def user_trades(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /fapi/v1/userTrades."""
    market = state.symbol(req.params.get("symbol"))
    order_id = int_param(req.params, "orderId")
    from_id = int_param(req.params, "fromId")
    start, end = int_param(req.params, "startTime"), int_param(req.params, "endTime")
    limit = min(int_param(req.params, "limit", 500) or 500, 1000)
    fills = [f for f in state.exchange.fills(req.account, state.market, market.symbol)
             if (order_id is None or f.order_id == order_id) and (from_id is None or f.last_trade_id >= from_id)
             and (start is None or f.updated_ns // 1_000_000 >= start) and (end is None or f.updated_ns // 1_000_000 <= end)]
    return [usdm_trade(f, state.meta(f).position_side) for f in fills[:limit]]


def position_risk(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /fapi/v2/positionRisk (and v3): one entry per symbol (one-way mode)."""
    wanted = state.symbol(req.params["symbol"]).symbol if req.params.get("symbol") else None
    held = {p.symbol: p for p in state.exchange.positions(req.account) if p.market == state.market}
    out = []
    for m in state.markets():
        if wanted is not None and m.symbol != wanted:
            continue
        pos = held.get(m.symbol)
        qty = pos.quantity if pos else Decimal(0)
        entry = pos.average_price if pos else Decimal(0)
        mark = state.reference_price(m.symbol) or entry
        leverage = state.leverage.get((req.account, m.symbol), 20)
        out.append({"symbol": m.symbol, "positionAmt": _plain(qty), "entryPrice": _plain(entry),
                    "breakEvenPrice": _plain(entry), "markPrice": _plain(mark), "unRealizedProfit": _plain((mark - entry) * qty),
                    "liquidationPrice": "0", "leverage": str(leverage), "maxNotionalValue": "1000000",
                    "marginType": state.margin_type.get((req.account, m.symbol), "cross"), "isolatedMargin": "0",
                    "isAutoAddMargin": "false", "positionSide": "BOTH", "notional": _plain(mark * qty),
                    "isolatedWallet": "0", "updateTime": state.server_ms()})
    return out


def balance(state: ServerState, req: Req) -> list[dict[str, Any]]:
    """GET /fapi/v2/balance."""
    quote_assets = {m.instrument.quote_currency for m in state.markets()}
    return [{"accountAlias": "SgsR", "asset": b.asset, "balance": _plain(b.free + b.locked),
             "crossWalletBalance": _plain(b.free + b.locked), "crossUnPnl": "0", "availableBalance": _plain(b.free),
             "maxWithdrawAmount": _plain(b.free), "marginAvailable": True, "updateTime": state.server_ms()}
            for b in state.wallet(req.account) if b.asset in quote_assets]


def leverage(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /fapi/v1/leverage."""
    market = state.symbol(req.params.get("symbol"))
    value = int_param(req.params, "leverage")
    if value is None:
        raise mandatory("leverage")
    if not 1 <= value <= 125:
        raise BinanceError(-4028, f"Leverage {value} is not valid")
    state.exchange.set_leverage(req.account, state.market, market.symbol, value)
    state.leverage[(req.account, market.symbol)] = value
    return {"leverage": value, "maxNotionalValue": "1000000", "symbol": market.symbol}


def margin_type(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /fapi/v1/marginType (ISOLATED | CROSSED)."""
    market = state.symbol(req.params.get("symbol"))
    wanted = req.params.get("marginType")
    if not wanted:
        raise mandatory("marginType")
    if wanted not in ("ISOLATED", "CROSSED"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'marginType'; legal range is 'ISOLATED, CROSSED'.")
    text = "isolated" if wanted == "ISOLATED" else "cross"
    key = (req.account, market.symbol)
    if state.margin_type.get(key, "cross") == text:
        raise BinanceError(-4046, "No need to change margin type.")
    if any(p.symbol == market.symbol and p.quantity for p in state.exchange.positions(req.account) if p.market == state.market):
        raise BinanceError(-4048, "Margin type cannot be changed if there exists position.")
    state.margin_type[key] = text
    return {"code": 200, "msg": "success"}


def position_mode(state: ServerState, req: Req) -> dict[str, Any]:
    """POST /fapi/v1/positionSide/dual (hedge mode on/off)."""
    if "dualSidePosition" not in req.params:
        raise mandatory("dualSidePosition")
    dual = flag(req.params, "dualSidePosition")
    if state.dual_side.get(req.account, False) == dual:
        raise BinanceError(-4059, "No need to change position side.")
    if state.exchange.orders(req.account, state.market, None, open_only=True) or any(
            p.quantity for p in state.exchange.positions(req.account) if p.market == state.market):
        raise BinanceError(-4068, "Position side cannot be changed if there exists position.")
    state.dual_side[req.account] = dual
    return {"code": 200, "msg": "success"}


def get_position_mode(state: ServerState, req: Req) -> dict[str, Any]:
    """GET /fapi/v1/positionSide/dual."""
    return {"dualSidePosition": state.dual_side.get(req.account, False)}
