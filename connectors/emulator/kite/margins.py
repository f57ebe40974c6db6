"""The Kite margin calculators (kite.md C13) on the emulator's own margin model.

    POST /margins/orders   per order: what it would block on its own
    POST /margins/basket   {initial, final, orders, charges} for the orders as one basket

Per order (the model the exchange locks at placement, accounts.py / exchange.py): futures and option
sells block 15 % of their value (price x quantity x multiplier), reported as span 10 % + exposure 5 %;
option buys block their premium; cash buys their value (MIS: 20 %).

Basket: "initial" is the sum of the orders' own margins (no benefit). "final" gives a spread benefit:
within one underlying, expiry and right, each unit of a short option covered by a unit of a long option
needs at most the spread's worst loss at expiry instead of its span + exposure, i.e.
    calls: max(0, K_long - K_short)      puts: max(0, K_short - K_long)     per unit.
Shorts are covered by the longs that hedge them best (lowest worst loss first), each long unit once.
So a bull call spread's short leg needs nothing beyond the long leg's premium, a naked call its full 15 %.
Open positions are not considered (consider_positions is accepted and ignored); charges are zero.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain import Instrument, InstrumentKind, OptionRight

from ..contract import ExchangeApi
from .errors import input_error

ZERO = Decimal(0)
SPAN_RATE, EXPOSURE_RATE = Decimal("0.10"), Decimal("0.05")


@dataclass
class _Leg:
    """One order of a basket, with its own (unhedged) margin split into Kite's parts."""

    symbol: str
    exchange: str
    instrument: Instrument
    side: str
    quantity: Decimal
    span: Decimal
    exposure: Decimal
    premium: Decimal

    @property
    def blocked(self) -> Decimal:
        return self.span + self.exposure

    def json(self, span: Decimal | None = None, exposure: Decimal | None = None) -> dict[str, Any]:
        span = self.span if span is None else span
        exposure = self.exposure if exposure is None else exposure
        is_equity = self.instrument.kind is InstrumentKind.EQUITY
        return _margin_object(span, exposure, self.premium, self.symbol, self.exchange, var=span if is_equity else ZERO)


def order_margins(exchange: ExchangeApi, orders: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """POST /margins/orders: what each order would block."""
    return [leg.json() for leg in _legs(exchange, orders)]


def basket_margins(exchange: ExchangeApi, orders: list[Mapping[str, Any]]) -> dict[str, Any]:
    """POST /margins/basket: the basket's margin without (initial) and with (final) the spread benefit."""
    legs = _legs(exchange, orders)
    hedged = _hedged_blocked(legs)
    span = exposure = ZERO
    for leg, blocked in zip(legs, hedged):
        if leg.blocked:  # keep Kite's span/exposure proportions on what is left
            span += leg.span * blocked / leg.blocked
            exposure += leg.exposure * blocked / leg.blocked
    premium = sum((leg.premium for leg in legs), ZERO)
    initial = _margin_object(sum((leg.span for leg in legs), ZERO), sum((leg.exposure for leg in legs), ZERO), premium)
    return {"initial": initial, "final": _margin_object(span, exposure, premium), "orders": [leg.json() for leg in legs],
            "charges": _charges()}


def _legs(exchange: ExchangeApi, orders: list[Mapping[str, Any]]) -> list[_Leg]:
    out = []
    for item in orders:
        try:
            market = exchange.market(str(item["exchange"]), str(item["tradingsymbol"]))
            quantity = Decimal(str(item["quantity"]))
            side = str(item["transaction_type"])
            price = Decimal(str(item.get("price") or 0))
        except (KeyError, ArithmeticError, TypeError, AttributeError):
            raise input_error("Each order needs a known exchange and tradingsymbol, transaction_type and quantity.") from None
        if side not in ("BUY", "SELL") or quantity <= 0:
            raise input_error("transaction_type must be BUY or SELL and quantity positive.")
        inst = market.instrument
        value = (price or exchange.summary(market.market, market.symbol).last_price) * quantity * inst.multiplier
        span = exposure = premium = ZERO
        if inst.kind is InstrumentKind.FUTURE or (inst.kind is InstrumentKind.OPTION and side == "SELL"):
            span, exposure = value * SPAN_RATE, value * EXPOSURE_RATE
        elif inst.kind is InstrumentKind.OPTION:
            premium = value
        elif side == "BUY":
            span = value * Decimal("0.20") if item.get("product") == "MIS" else value
        out.append(_Leg(market.symbol, market.market, inst, side, quantity, span, exposure, premium))
    return out


def _hedged_blocked(legs: list[_Leg]) -> list[Decimal]:
    """Each leg's span + exposure after covering short options with longs (module docstring)."""
    blocked = [leg.blocked for leg in legs]
    longs_left = {i: leg.quantity for i, leg in enumerate(legs) if _is_option(leg) and leg.side == "BUY"}
    for i, short in enumerate(legs):
        if not (_is_option(short) and short.side == "SELL"):
            continue
        per_unit = short.blocked / short.quantity
        candidates = sorted((_worst_loss(short.instrument, legs[j].instrument), j) for j in longs_left
                            if _same_series(short.instrument, legs[j].instrument))
        uncovered, need = short.quantity, ZERO
        for loss, j in candidates:
            if uncovered == 0 or loss >= per_unit:
                break
            used = min(uncovered, longs_left[j])
            longs_left[j] -= used
            uncovered -= used
            need += used * loss
        blocked[i] = need + uncovered * per_unit
    return blocked


def _is_option(leg: _Leg) -> bool:
    return leg.instrument.kind is InstrumentKind.OPTION and leg.instrument.strike is not None


def _same_series(a: Instrument, b: Instrument) -> bool:
    return (a.underlying, a.expiry, a.right) == (b.underlying, b.expiry, b.right)


def _worst_loss(short: Instrument, long: Instrument) -> Decimal:
    """Worst loss at expiry per unit of (short, long) of the same right, premiums aside."""
    assert short.strike is not None and long.strike is not None
    width = long.strike - short.strike if short.right is OptionRight.CALL else short.strike - long.strike
    return max(width * short.multiplier, ZERO)


def _margin_object(span: Decimal, exposure: Decimal, premium: Decimal, symbol: str = "", exchange: str = "",
                   var: Decimal = ZERO) -> dict[str, Any]:
    return {"type": "equity", "tradingsymbol": symbol, "exchange": exchange, "span": _round(span),
            "exposure": _round(exposure), "option_premium": _round(premium), "additional": 0, "bo": 0, "cash": 0,
            "var": _round(var), "pnl": {"realised": 0, "unrealised": 0}, "leverage": 1, "charges": _charges(),
            "total": _round(span + exposure + premium)}


def _charges() -> dict[str, Any]:
    return {"transaction_tax": 0, "transaction_tax_type": "stt", "exchange_turnover_charge": 0, "sebi_turnover_charge": 0,
            "brokerage": 0, "stamp_duty": 0, "gst": {"igst": 0, "cgst": 0, "sgst": 0, "total": 0}, "total": 0}


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
