"""Public market-data answers (exchangeInfo, depth, trades, klines, tickers) for spot and USD-M.

Each function takes the server state and the request parameters and returns the JSON body; the REST
routes and the WS API both use them.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..contract import Market
from .errors import BinanceError, mandatory
from .filters import USDM_ORDER_TYPES, SPOT_ORDER_TYPES, filters_json, fmt
from .formats import ms
from .rest_common import int_param
from .state import ServerState

INTERVALS = {"1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400,
             "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400, "3d": 259200, "1w": 604800, "1M": 2592000}
NS = 1_000_000_000
WEEK_ORIGIN_NS = 4 * 86_400 * NS  # Binance weeks start on Monday 00:00 UTC; 1970-01-05 was a Monday


def kline_origin_ns(interval: str) -> int:
    """Where an interval's buckets are anchored: Monday for weeks, the UTC epoch otherwise."""
    return WEEK_ORIGIN_NS if interval == "1w" else 0


def depth_weight(params: dict[str, str], futures: bool = False) -> int:
    try:
        limit = int(params.get("limit") or (500 if futures else 100))
    except ValueError:
        limit = 100
    if futures:
        return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _num(value: Decimal | None, futures: bool) -> str:
    if value is None:
        return "0" if futures else fmt(None)
    return format(value, "f") if futures else fmt(value)


def _symbol_json(state: ServerState, m: Market) -> dict[str, Any]:
    inst = m.instrument
    if state.futures:
        return {"symbol": m.symbol, "pair": m.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000, "status": "TRADING", "baseAsset": inst.base_currency,
                "quoteAsset": inst.quote_currency, "marginAsset": inst.quote_currency,
                "pricePrecision": inst.price_decimals, "quantityPrecision": inst.quantity_decimals,
                "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "triggerProtect": "0.0500",
                "liquidationFee": "0.012500", "marketTakeBound": "0.05", "orderTypes": USDM_ORDER_TYPES,
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"], "filters": filters_json(inst, True)}
    return {"symbol": m.symbol, "status": "TRADING", "baseAsset": inst.base_currency, "baseAssetPrecision": 8,
            "quoteAsset": inst.quote_currency, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8, "orderTypes": SPOT_ORDER_TYPES,
            "icebergAllowed": True, "ocoAllowed": False, "otoAllowed": False, "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": True,
            "amendAllowed": False, "pegInstructionsAllowed": False, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "filters": filters_json(inst, False), "permissions": [],
            "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]}


def exchange_info(state: ServerState, params: dict[str, str]) -> dict[str, Any]:
    markets = state.markets()
    if params.get("symbol"):
        markets = [state.symbol(params["symbol"])]
    elif params.get("symbols"):
        try:
            names = json.loads(params["symbols"])
        except ValueError:
            raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'; legal range is "
                                      "'^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'.") from None
        markets = [state.symbol(n) for n in names]
    body: dict[str, Any] = {"timezone": "UTC", "serverTime": state.server_ms(), "rateLimits": state.limits.rate_limits(),
                            "exchangeFilters": [], "symbols": [_symbol_json(state, m) for m in markets]}
    if state.futures:
        body["assets"] = [{"asset": a, "marginAvailable": True, "autoAssetExchange": "0"}
                          for a in sorted({m.instrument.quote_currency for m in markets})]
    return body


def depth(state: ServerState, params: dict[str, str]) -> dict[str, Any]:
    m = state.symbol(params.get("symbol"))
    limit = int_param(params, "limit", 500 if state.futures else 100) or 100
    if limit < 1 or limit > (1000 if state.futures else 5000):
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1-5000'.")
    snap = state.exchange.depth(state.market, m.symbol, limit)
    body: dict[str, Any] = {"lastUpdateId": snap.last_update_id,
                            "bids": [[_num(p, state.futures), _num(q, state.futures)] for p, q in snap.bids],
                            "asks": [[_num(p, state.futures), _num(q, state.futures)] for p, q in snap.asks]}
    if state.futures:
        now = state.server_ms()
        body = {"lastUpdateId": snap.last_update_id, "E": now, "T": now, "bids": body["bids"], "asks": body["asks"]}
    return body


def trades(state: ServerState, params: dict[str, str]) -> list[dict[str, Any]]:
    m = state.symbol(params.get("symbol"))
    limit = min(int_param(params, "limit", 500) or 500, 1000)
    return [{"id": t.trade_id, "price": _num(t.price, state.futures), "qty": _num(t.quantity, state.futures),
             "quoteQty": _num(t.price * t.quantity, state.futures), "time": ms(t.ts_ns), "isBuyerMaker": t.buyer_is_maker,
             "isBestMatch": True} for t in state.exchange.recent_trades(state.market, m.symbol, limit)]


def agg_trades(state: ServerState, params: dict[str, str]) -> list[dict[str, Any]]:
    m = state.symbol(params.get("symbol"))
    limit = min(int_param(params, "limit", 500) or 500, 1000)
    from_id = int_param(params, "fromId")
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    rows = state.exchange.recent_trades(state.market, m.symbol, 1000)
    rows = [t for t in rows if (from_id is None or t.trade_id >= from_id) and (start is None or ms(t.ts_ns) >= start)
            and (end is None or ms(t.ts_ns) <= end)]
    rows = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
    return [{"a": t.trade_id, "p": _num(t.price, state.futures), "q": _num(t.quantity, state.futures), "f": t.trade_id,
             "l": t.trade_id, "T": ms(t.ts_ns), "m": t.buyer_is_maker, "M": True} for t in rows]


def klines(state: ServerState, params: dict[str, str]) -> list[list[Any]]:
    m = state.symbol(params.get("symbol"))
    interval = params.get("interval")
    if not interval:
        raise mandatory("interval")
    if interval not in INTERVALS:
        raise BinanceError(-1120, "Invalid interval.")
    step = INTERVALS[interval]
    limit = int_param(params, "limit", 500) or 500
    if limit < 1 or limit > (1500 if state.futures else 1000):
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1-1000'.")
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    now_ns = state.exchange.now_ns()
    end_ns = min(end * 1_000_000 if end is not None else now_ns, now_ns)
    start_ns = start * 1_000_000 if start is not None else end_ns - (limit + 1) * step * NS
    candles = [c for c in state.exchange.candles(state.market, m.symbol, step, max(start_ns, 0), end_ns,
                                                 kline_origin_ns(interval))
               if start_ns <= c.start_ns <= end_ns]
    candles = candles[:limit] if start is not None else candles[-limit:]
    f = state.futures
    return [[ms(c.start_ns), _num(c.open, f), _num(c.high, f), _num(c.low, f), _num(c.close, f), _num(c.volume, f),
             ms(c.start_ns) + step * 1000 - 1, _num(c.volume * c.close, f), c.trades, _num(None, f), _num(None, f), "0"]
            for c in candles]


def ticker_24hr(state: ServerState, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
    symbols = [state.symbol(params["symbol"])] if params.get("symbol") else state.markets()
    rows = [_ticker(state, m) for m in symbols]
    return rows[0] if params.get("symbol") else rows


def _ticker(state: ServerState, m: Market) -> dict[str, Any]:
    s = state.exchange.summary(state.market, m.symbol)
    f = state.futures
    change = s.last_price - s.open if s.open else Decimal(0)
    now = state.server_ms()
    return {"symbol": m.symbol, "priceChange": _num(change, f),
            "priceChangePercent": f"{(change / s.open * 100) if s.open else Decimal(0):.3f}",
            "weightedAvgPrice": _num(s.average_price, f), "prevClosePrice": _num(s.prev_close, f),
            "lastPrice": _num(s.last_price, f), "lastQty": _num(s.last_quantity, f), "bidPrice": _num(s.bid, f),
            "bidQty": _num(s.bid_quantity, f), "askPrice": _num(s.ask, f), "askQty": _num(s.ask_quantity, f),
            "openPrice": _num(s.open, f), "highPrice": _num(s.high, f), "lowPrice": _num(s.low, f),
            "volume": _num(s.volume, f), "quoteVolume": _num(s.volume * s.average_price, f),
            "openTime": now - 86_400_000, "closeTime": now, "firstId": 0, "lastId": 0, "count": 0}


def book_ticker(state: ServerState, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
    symbols = [state.symbol(params["symbol"])] if params.get("symbol") else state.markets()
    rows = []
    for m in symbols:
        s = state.exchange.summary(state.market, m.symbol)
        f = state.futures
        rows.append({"symbol": m.symbol, "bidPrice": _num(s.bid, f), "bidQty": _num(s.bid_quantity, f),
                     "askPrice": _num(s.ask, f), "askQty": _num(s.ask_quantity, f)})
    return rows[0] if params.get("symbol") else rows


def ticker_price(state: ServerState, params: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
    symbols = [state.symbol(params["symbol"])] if params.get("symbol") else state.markets()
    rows = [{"symbol": m.symbol, "price": _num(state.exchange.summary(state.market, m.symbol).last_price, state.futures)}
            for m in symbols]
    return rows[0] if params.get("symbol") else rows
