"""Market data answers of the Kite API (kite.md C9-C11): the instruments CSV dump, quote/ohlc/ltp and
historical candles, from the exchange's NSE and NFO markets."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import InstrumentKind, Venue

from ..contract import ExchangeApi, Market
from .errors import input_error

IST = ZoneInfo("Asia/Kolkata")
CSV_COLUMNS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size",
               "lot_size", "instrument_type", "segment", "exchange")
QUOTE_LIMITS = {"quote": 500, "ohlc": 1000, "ltp": 1000}
INTERVALS = {"minute": 60, "3minute": 180, "5minute": 300, "10minute": 600, "15minute": 900, "30minute": 1800,
             "60minute": 3600, "day": 86400}
MAX_SPAN_DAYS = {"minute": 60, "3minute": 100, "5minute": 100, "10minute": 100, "15minute": 200, "30minute": 200,
                 "60minute": 400, "day": 2000}
CIRCUIT = Decimal("0.20")
# Kite's candles: days start at 00:00 IST, intraday candles are anchored to the 09:15 IST open
DAY_ORIGIN_NS = int(datetime(1970, 1, 1, tzinfo=IST).timestamp()) * 1_000_000_000
SESSION_ORIGIN_NS = int(datetime(1970, 1, 1, 9, 15, tzinfo=IST).timestamp()) * 1_000_000_000


def kite_markets(exchange: ExchangeApi) -> list[Market]:
    """The exchange's markets that Kite lists (instruments of Venue.ZERODHA)."""
    return [m for m in exchange.markets() if m.instrument.venue is Venue.ZERODHA]


def kite_exchanges(exchange: ExchangeApi) -> list[str]:
    """The Kite exchanges the emulator lists (NSE, NFO)."""
    return sorted({m.market for m in kite_markets(exchange)})


def instruments_csv(exchange: ExchangeApi, only: str | None = None) -> str:
    """The dump: header row, one row per instrument, the real columns in the real order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for market in kite_markets(exchange):
        if only is not None and market.market != only:
            continue
        inst = market.instrument
        token = int(inst.venue_token)
        index = inst.kind is InstrumentKind.INDEX
        kind = {InstrumentKind.FUTURE: "FUT", InstrumentKind.OPTION: inst.right.value if inst.right else "CE"}.get(inst.kind, "EQ")
        segment = "INDICES" if index else f"{market.market}-{kind if kind == 'FUT' else 'OPT'}" if market.market == "NFO" else market.market
        close = exchange.summary(market.market, market.symbol).prev_close
        writer.writerow((token, token >> 8, market.symbol, inst.name or "", float(close), inst.expiry.date().isoformat() if inst.expiry else "",
                         float(inst.strike or 0), 0.0 if index else float(inst.tick_size), 0 if index else int(inst.lot_size),
                         kind, segment, market.market))
    return out.getvalue()


def quotes(exchange: ExchangeApi, keys: list[str], kind: str) -> dict[str, Any]:
    """/quote, /quote/ohlc, /quote/ltp: a map keyed by "EXCHANGE:tradingsymbol"; unknown keys are left out."""
    if not keys:
        raise input_error("No instruments specified: pass one or more `i` parameters.")
    if len(keys) > QUOTE_LIMITS[kind]:
        raise input_error(f"Too many instruments: at most {QUOTE_LIMITS[kind]} per request.")
    out: dict[str, Any] = {}
    for key in keys:
        exchange_name, _, symbol = key.partition(":")
        try:
            market = exchange.market(exchange_name, symbol)
        except KeyError:
            continue
        if market.instrument.venue is not Venue.ZERODHA:
            continue
        out[key] = _quote(exchange, market, kind)
    return out


def _quote(exchange: ExchangeApi, market: Market, kind: str) -> dict[str, Any]:
    s = exchange.summary(market.market, market.symbol)
    token = int(market.instrument.venue_token)
    if kind == "ltp":
        return {"instrument_token": token, "last_price": s.last_price}
    ohlc = {"open": s.open, "high": s.high, "low": s.low, "close": s.prev_close}
    if kind == "ohlc":
        return {"instrument_token": token, "last_price": s.last_price, "ohlc": ohlc}
    snapshot = exchange.depth(market.market, market.symbol, 5)
    tick = market.instrument.tick_size
    return {
        "instrument_token": token, "timestamp": _ist(exchange.now_ns()), "last_trade_time": _ist(s.last_trade_ns),
        "last_price": s.last_price, "last_quantity": int(s.last_quantity), "buy_quantity": int(s.total_buy_quantity),
        "sell_quantity": int(s.total_sell_quantity), "volume": int(s.volume), "average_price": s.average_price,
        "oi": int(s.open_interest), "oi_day_high": int(s.oi_day_high), "oi_day_low": int(s.oi_day_low),
        "net_change": s.last_price - s.prev_close,
        "lower_circuit_limit": (s.prev_close * (1 - CIRCUIT) / tick).to_integral_value() * tick,
        "upper_circuit_limit": (s.prev_close * (1 + CIRCUIT) / tick).to_integral_value() * tick,
        "ohlc": ohlc,
        "depth": {"buy": _levels(snapshot.bids, market), "sell": _levels(snapshot.asks, market)},
    }


def orders_at(quantity: Decimal, lot: Decimal) -> int:
    """A plausible order count for a depth level (the book keeps quantities, not orders)."""
    return max(1, min(65535, int(quantity / max(lot, Decimal(1))) // 3 + 1))


def _levels(levels: Iterable[tuple[Decimal, Decimal]], market: Market) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"price": p, "quantity": int(q), "orders": orders_at(q, market.instrument.lot_size)}
                                 for p, q in list(levels)[:5]]
    return out + [{"price": 0, "quantity": 0, "orders": 0}] * (5 - len(out))


def historical(exchange: ExchangeApi, token: str, interval: str, params: dict[str, str]) -> dict[str, Any]:
    """/instruments/historical/:token/:interval?from=&to=&oi=: candles with IST ISO times (and OI)."""
    market = next((m for m in kite_markets(exchange) if m.instrument.venue_token == token), None)
    if market is None:
        raise input_error("invalid token")
    if interval not in INTERVALS:
        raise input_error(f"invalid interval {interval!r}")
    start, end = _time_param(params, "from"), _time_param(params, "to")
    if end < start:
        raise input_error("`from` date must be before `to` date")
    if (end - start).days > MAX_SPAN_DAYS[interval]:
        raise input_error(f"interval exceeds max limit: {MAX_SPAN_DAYS[interval]} days")
    with_oi = params.get("oi") in ("1", "true")
    origin = DAY_ORIGIN_NS if interval == "day" else SESSION_ORIGIN_NS
    candles = exchange.candles(market.market, market.symbol, INTERVALS[interval], int(start.timestamp() * 1e9),
                               int(end.timestamp() * 1e9), origin)
    rows = []
    for c in candles:
        row: list[Any] = [datetime.fromtimestamp(c.start_ns / 1e9, IST).strftime("%Y-%m-%dT%H:%M:%S%z"), c.open, c.high, c.low,
                          c.close, int(c.volume)]
        if with_oi:
            row.append(int(c.open_interest or 0))
        rows.append(row)
    return {"candles": rows}


def _time_param(params: dict[str, str], name: str) -> datetime:
    raw = params.get(name, "")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    raise input_error(f"invalid {name} date {raw!r}: use yyyy-mm-dd hh:mm:ss")


def _ist(ns: int) -> str | None:
    return datetime.fromtimestamp(ns / 1e9, IST).strftime("%Y-%m-%d %H:%M:%S") if ns else None
