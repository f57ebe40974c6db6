"""Instrument search while typing: InstrumentCatalog.search over 100,000 Kite-like instruments.

The synthetic universe is shaped like a Kite instruments dump plus Binance: index options (NIFTY,
BANKNIFTY, FINNIFTY, MIDCPNIFTY, SENSEX; 8 expiries x 100 strikes x CE/PE), stock options (150
underlyings incl. INFY and RELIANCE; 3 monthly expiries x 60 strikes x CE/PE), their futures, NSE/BSE
equities up to 100,000 in all, and Binance spot/USD-M symbols (BTCUSDT, ...). Each query prefix that a
user types ("n", "ni", ... "nifty 25000 ce"), then "infy" and "btc", is searched repeatedly.
Goal: p99 < 16 ms (one frame at 60 Hz), so results can follow every keystroke.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402

from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Venue  # noqa: E402
from core.instruments import InstrumentCatalog  # noqa: E402

TOTAL = 100_000
REPEAT = 25
TYPED = "nifty 25000 ce"
QUERIES = [TYPED[:n] for n in range(1, len(TYPED) + 1) if not TYPED[:n].endswith(" ")] + ["infy", "btc"]
IST = timezone(timedelta(hours=5, minutes=30))
INDICES = {"NIFTY": (25000, 50), "BANKNIFTY": (55000, 100), "FINNIFTY": (26000, 50), "MIDCPNIFTY": (13000, 25),
           "SENSEX": (82000, 100)}
STOCKS = ["INFY", "RELIANCE", "TCS", "HDFCBANK", "SBIN", "ICICIBANK", "ITC", "LT", "AXISBANK", "KOTAKBANK"]
STOCKS += [f"STOCK{i:03d}" for i in range(150 - len(STOCKS))]
CRYPTO = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "BTCFDUSD", "ETHBTC", "DOGEUSDT", "ADAUSDT", "BTCUSDC"]


def option(und: str, expiry: datetime, strike: int, right: OptionRight, exchange: str, weekly: bool) -> Instrument:
    """Kite's trading symbols: NIFTY25D1125000CE (weekly: YY, month code, day), NIFTY25DEC25000CE (monthly)."""
    code = f"{expiry:%y}{'123456789OND'[expiry.month - 1]}{expiry:%d}" if weekly else f"{expiry:%y%b}".upper()
    symbol = f"{und}{code}{strike}{right.value}"
    return Instrument(InstrumentId(Venue.ZERODHA, symbol), InstrumentKind.OPTION, exchange, Decimal("0.05"), Decimal(75),
                      expiry=expiry, strike=Decimal(strike), right=right, underlying=und, name=und)


def universe() -> list[Instrument]:
    """About 100,000 instruments shaped like Kite's dump plus a few Binance symbols."""
    now = datetime(2025, 12, 4, 15, 30, tzinfo=IST)
    weekly = [now + timedelta(days=7 * w) for w in range(8)]
    monthly = [datetime(2025 + (11 + m) // 12, (11 + m) % 12 + 1, 25, 15, 30, tzinfo=IST) for m in range(3)]
    out: list[Instrument] = []
    for und, (atm, step) in INDICES.items():
        exchange = "BFO" if und == "SENSEX" else "NFO"
        for expiry in weekly:
            for k in range(-50, 50):
                out += [option(und, expiry, atm + k * step, right, exchange, True) for right in OptionRight]
    for n, und in enumerate(STOCKS):
        atm = 500 + 37 * n
        step = max(5, atm // 100)
        for expiry in monthly:
            for k in range(-30, 30):
                out += [option(und, expiry, atm + k * step, right, "NFO", False) for right in OptionRight]
    for und in [*INDICES, *STOCKS]:
        out += [Instrument(InstrumentId(Venue.ZERODHA, f"{und}{e:%y%b}FUT".upper()), InstrumentKind.FUTURE, "NFO",
                           Decimal("0.05"), Decimal(75), expiry=e, underlying=und, name=und) for e in monthly]
    for spot in CRYPTO:
        out.append(Instrument(InstrumentId(Venue.BINANCE, spot), InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.00001"),
                              quote_currency="USDT", name=spot))
        out.append(Instrument(InstrumentId(Venue.BINANCE_USDM, spot), InstrumentKind.FUTURE, "USDM", Decimal("0.1"),
                              Decimal("0.001"), quote_currency="USDT", name=spot))
    equities = [*STOCKS, *(f"EQ{i:05d}" for i in range(TOTAL))]
    i = 0
    while len(out) < TOTAL:
        sym = equities[i // 2]
        out.append(Instrument(InstrumentId(Venue.ZERODHA, sym if i % 2 == 0 else f"{sym}-BSE"),
                              InstrumentKind.EQUITY, "NSE" if i % 2 == 0 else "BSE", Decimal("0.05"), Decimal(1),
                              name=f"{sym} LIMITED"))
        i += 1
    return out[:TOTAL]


def main() -> None:
    built = time.perf_counter()
    instruments = universe()
    catalog = InstrumentCatalog(instruments)
    assert len(catalog) == len(instruments) == TOTAL, "instrument ids must be unique"
    build_s = time.perf_counter() - built
    rows = []
    every: list[float] = []
    for query in QUERIES:
        catalog.search(query)  # warm-up
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            hits = catalog.search(query)
            times.append((time.perf_counter() - started) * 1000)
        every += times
        p50, p99 = np.percentile(times, [50, 99])
        first = hits[0].symbol if hits else "-"
        rows.append([repr(query), f"{p50:.2f}", f"{p99:.2f}", len(hits), first, "yes" if p99 < 16 else "NO"])
    p50, p99 = np.percentile(every, [50, 99])
    rows.append(["all keystrokes", f"{p50:.2f}", f"{p99:.2f}", "", "", "yes" if p99 < 16 else "NO"])
    print_table(["query", "p50 ms", "p99 ms", "results (limit 50)", "first result", "p99 < 16 ms"], rows)
    print(f"\n{len(catalog):,} instruments, catalog built in {build_s:.2f} s; {REPEAT} searches per query after one warm-up.")


if __name__ == "__main__":
    main()
