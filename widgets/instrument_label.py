"""How an instrument is named in lists and pickers: the symbol, marked only where it would be ambiguous."""
from __future__ import annotations

from core.domain import InstrumentId, Venue


def instrument_label(iid: InstrumentId) -> str:
    """The symbol, marked where one symbol trades on two markets (Binance spot and USD-M futures).

    "BTCUSDT.BINANCE_USDM" is long enough to be clipped in a picker; the traders' name is "USD-M".
    """
    return f"{iid.symbol} · USD-M" if iid.venue is Venue.BINANCE_USDM else iid.symbol
