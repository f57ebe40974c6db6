"""User and portfolio answers of the Kite API (kite.md C6, C8): profile, margins, positions and
holdings, from the exchange account of the session's user (the margin calculators are in margins.py).

Holdings are a fixed demo portfolio bought before today (today's buys are positions until settlement,
as on Kite).
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..contract import ExchangeApi
from .errors import input_error
from .state import Session

ZERO = Decimal(0)
OPENING_BALANCE = Decimal(1_000_000)
DEMO_HOLDINGS = (("NSE", "INFY", 10, Decimal("1450.00"), "INE009A01021"), ("NSE", "TCS", 5, Decimal("3310.50"), "INE467B01029"))


def profile(session: Session, exchanges: Iterable[str]) -> dict[str, Any]:
    """GET /user/profile."""
    return {"user_id": session.user_id, "user_type": "individual", "email": f"{session.user_id.lower()}@emulator.local",
            "user_name": "Demo Trader", "user_shortname": "Demo", "broker": "ZERODHA", "exchanges": list(exchanges),
            "products": ["CNC", "NRML", "MIS", "CO"], "order_types": ["MARKET", "LIMIT", "SL", "SL-M"], "avatar_url": None,
            "meta": {"demat_consent": "consent"}}


def margins(exchange: ExchangeApi, session: Session, segment: str | None) -> dict[str, Any]:
    """GET /user/margins[/segment] from the account's INR balance."""
    cash = next((b for b in exchange.balances(session.account) if b.asset == "INR"), None)
    free, locked = (cash.free, cash.locked) if cash is not None else (ZERO, ZERO)
    realised = sum((p.realised_pnl for p in exchange.positions(session.account) if p.market in ("NSE", "NFO")), ZERO)
    equity = {"enabled": True, "net": free,
              "available": {"adhoc_margin": 0, "cash": OPENING_BALANCE, "opening_balance": OPENING_BALANCE, "live_balance": free,
                            "collateral": 0, "intraday_payin": 0},
              "utilised": {"debits": OPENING_BALANCE - free, "exposure": 0, "m2m_realised": realised, "m2m_unrealised": 0,
                           "option_premium": 0, "payout": 0, "span": locked, "holding_sales": 0, "turnover": 0,
                           "liquid_collateral": 0, "stock_collateral": 0, "delivery": 0}}
    commodity = {"enabled": False, "net": 0,
                 "available": {k: 0 for k in equity["available"]}, "utilised": {k: 0 for k in equity["utilised"]}}
    both = {"equity": equity, "commodity": commodity}
    if segment is None:
        return both
    if segment not in both:
        raise input_error(f"Invalid segment {segment!r} (equity or commodity).")
    return both[segment]


def positions(exchange: ExchangeApi, session: Session) -> dict[str, list[dict[str, Any]]]:
    """{"net": [...], "day": [...]}: every position is opened today here, so day and net agree."""
    rows = []
    for pos in exchange.positions(session.account):
        if pos.market not in ("NSE", "NFO"):
            continue
        market = exchange.market(pos.market, pos.symbol)
        summary = exchange.summary(pos.market, pos.symbol)
        last, close = summary.last_price, summary.prev_close
        unrealised = (last - pos.average_price) * pos.quantity if pos.quantity else ZERO
        buy_price = pos.buy_value / pos.buy_quantity if pos.buy_quantity else ZERO
        sell_price = pos.sell_value / pos.sell_quantity if pos.sell_quantity else ZERO
        rows.append({
            "tradingsymbol": pos.symbol, "exchange": pos.market, "instrument_token": int(market.instrument.venue_token),
            "product": pos.product, "quantity": int(pos.quantity), "overnight_quantity": 0, "multiplier": 1,
            "average_price": _round(pos.average_price), "close_price": close, "last_price": last,
            "value": pos.sell_value - pos.buy_value, "pnl": _round(pos.realised_pnl + unrealised),
            "m2m": _round(pos.realised_pnl + unrealised), "unrealised": _round(unrealised), "realised": _round(pos.realised_pnl),
            "buy_quantity": int(pos.buy_quantity), "buy_price": _round(buy_price), "buy_value": pos.buy_value, "buy_m2m": pos.buy_value,
            "sell_quantity": int(pos.sell_quantity), "sell_price": _round(sell_price), "sell_value": pos.sell_value,
            "sell_m2m": pos.sell_value, "day_buy_quantity": int(pos.buy_quantity), "day_buy_price": _round(buy_price),
            "day_buy_value": pos.buy_value, "day_sell_quantity": int(pos.sell_quantity), "day_sell_price": _round(sell_price),
            "day_sell_value": pos.sell_value,
        })
    return {"net": rows, "day": [dict(r) for r in rows]}


def holdings(exchange: ExchangeApi) -> list[dict[str, Any]]:
    """GET /portfolio/holdings: the demo portfolio at today's prices."""
    out = []
    for market_name, symbol, quantity, average, isin in DEMO_HOLDINGS:
        try:
            market = exchange.market(market_name, symbol)
        except KeyError:
            continue
        summary = exchange.summary(market_name, symbol)
        last, close = summary.last_price, summary.prev_close
        out.append({
            "tradingsymbol": symbol, "exchange": market_name, "instrument_token": int(market.instrument.venue_token), "isin": isin,
            "product": "CNC", "price": 0, "quantity": quantity, "used_quantity": 0, "t1_quantity": 0, "realised_quantity": quantity,
            "authorised_quantity": 0, "authorised_date": None, "authorisation": {}, "opening_quantity": quantity,
            "short_quantity": 0, "collateral_quantity": 0, "collateral_type": "", "discrepancy": False, "average_price": average,
            "last_price": last, "close_price": close, "pnl": _round((last - average) * quantity),
            "day_change": last - close, "day_change_percentage": _round((last - close) * 100 / close) if close else 0,
            "mtf": {"quantity": 0, "used_quantity": 0, "average_price": 0, "value": 0, "initial_margin": 0},
        })
    return out


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
