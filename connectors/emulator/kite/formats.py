"""Kite's JSON shapes built from the exchange's state: orders, trades, positions, quotes, instruments CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import InstrumentKind, OrderStatus, OrderType

from ..contract import Market, MarketSummary, OrderState

IST = ZoneInfo("Asia/Kolkata")
KITE_ORDER_TYPE = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_LIMIT: "SL", OrderType.STOP_MARKET: "SL-M"}
CORE_ORDER_TYPE = {v: k for k, v in KITE_ORDER_TYPE.items()}
CSV_COLUMNS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size",
               "lot_size", "instrument_type", "segment", "exchange")


def ts(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).astimezone(IST).strftime("%Y-%m-%d %H:%M:%S") if ns else ""


def num(value: Decimal | None) -> float:
    return 0.0 if value is None else float(value)


def status_of(state: OrderState, waiting_trigger: bool) -> str:
    if state.status is OrderStatus.FILLED:
        return "COMPLETE"
    if state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        return "CANCELLED"
    if state.status is OrderStatus.REJECTED:
        return "REJECTED"
    return "TRIGGER PENDING" if waiting_trigger else "OPEN"


def order_json(state: OrderState, market: Market, meta: dict[str, Any], user_id: str, waiting_trigger: bool = False) -> dict[str, Any]:
    filled = state.filled_quantity
    pending = Decimal(0) if state.status.is_terminal else state.quantity - filled
    cancelled = state.quantity - filled if state.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) else Decimal(0)
    return {
        "account_id": user_id, "placed_by": user_id, "order_id": str(state.order_id), "exchange_order_id": str(state.order_id + 10**14),
        "parent_order_id": None, "status": status_of(state, waiting_trigger), "status_message": state.reject_reason or None,
        "status_message_raw": state.reject_reason or None, "order_timestamp": ts(state.created_ns),
        "exchange_update_timestamp": ts(state.updated_ns), "exchange_timestamp": ts(state.updated_ns),
        "variety": meta.get("variety", "regular"), "modified": bool(meta.get("modified")), "exchange": state.market,
        "tradingsymbol": state.symbol, "instrument_token": int(market.instrument.venue_token), "order_type": KITE_ORDER_TYPE[state.order_type],
        "transaction_type": state.side.value, "validity": meta.get("validity", "DAY"), "validity_ttl": 0,
        "product": meta.get("product", "MIS"), "quantity": int(state.quantity), "disclosed_quantity": int(meta.get("disclosed_quantity", 0)),
        "price": num(state.price), "trigger_price": num(state.trigger_price), "average_price": num(state.average_price),
        "filled_quantity": int(filled), "pending_quantity": int(pending), "cancelled_quantity": int(cancelled),
        "market_protection": meta.get("market_protection", 0), "meta": {}, "tag": state.tag or None,
        "tags": [state.tag] if state.tag else [], "guid": f"sq{state.order_id}",
    }


def trade_json(state: OrderState, market: Market, product: str) -> dict[str, Any]:
    return {
        "trade_id": str(state.last_trade_id), "order_id": str(state.order_id), "exchange": state.market, "tradingsymbol": state.symbol,
        "instrument_token": int(market.instrument.venue_token), "product": product, "average_price": num(state.last_fill_price),
        "quantity": int(state.last_fill_quantity), "exchange_order_id": str(state.order_id + 10**14), "transaction_type": state.side.value,
        "fill_timestamp": ts(state.updated_ns), "order_timestamp": ts(state.created_ns)[11:], "exchange_timestamp": ts(state.updated_ns),
    }


def quote_json(market: Market, s: MarketSummary, depth: tuple[Any, Any], mode: str) -> dict[str, Any]:
    token = int(market.instrument.venue_token)
    ohlc = {"open": num(s.open), "high": num(s.high), "low": num(s.low), "close": num(s.prev_close)}
    if mode == "ltp":
        return {"instrument_token": token, "last_price": num(s.last_price)}
    if mode == "ohlc":
        return {"instrument_token": token, "last_price": num(s.last_price), "ohlc": ohlc}
    side = lambda levels: [{"price": float(p), "quantity": int(q), "orders": 1} for p, q in levels[:5]] + \
        [{"price": 0, "quantity": 0, "orders": 0}] * (5 - min(5, len(levels)))  # noqa: E731
    return {
        "instrument_token": token, "timestamp": ts(s.last_trade_ns), "last_trade_time": ts(s.last_trade_ns), "last_price": num(s.last_price),
        "last_quantity": int(s.last_quantity), "buy_quantity": int(s.total_buy_quantity), "sell_quantity": int(s.total_sell_quantity),
        "volume": int(s.volume), "average_price": num(s.average_price), "oi": int(s.open_interest), "oi_day_high": int(s.oi_day_high),
        "oi_day_low": int(s.oi_day_low), "net_change": num(s.last_price - s.prev_close),
        "lower_circuit_limit": round(num(s.prev_close) * 0.8, 2), "upper_circuit_limit": round(num(s.prev_close) * 1.2, 2),
        "ohlc": ohlc, "depth": {"buy": side(list(depth[0])), "sell": side(list(depth[1]))},
    }


def instruments_csv(markets: list[Market], last_prices: dict[str, Decimal], exchange: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in markets:
        inst = m.instrument
        if exchange and m.market != exchange and not (exchange == "NSE" and inst.kind is InstrumentKind.INDEX):
            continue
        kind = {InstrumentKind.FUTURE: "FUT", InstrumentKind.OPTION: inst.right.value if inst.right else "CE"}.get(inst.kind, "EQ")
        segment = "INDICES" if inst.kind is InstrumentKind.INDEX else m.market if m.market == "NSE" else f"NFO-{'FUT' if kind == 'FUT' else 'OPT'}"
        writer.writerow([inst.venue_token, int(inst.venue_token) >> 8, inst.symbol, inst.name or inst.underlying or inst.symbol,
                         last_prices.get(inst.symbol, 0), inst.expiry.date().isoformat() if inst.expiry else "",
                         f"{inst.strike:f}" if inst.strike is not None else "0", f"{inst.tick_size:f}", f"{inst.lot_size:f}", kind, segment,
                         "NSE" if inst.kind is InstrumentKind.INDEX else m.market])
    return out.getvalue()
