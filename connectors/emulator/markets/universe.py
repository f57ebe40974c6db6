"""The emulator's instruments, with the venues' real metadata (ticks, steps, lots, Kite symbol formats).

Binance: BTCUSDT, ETHUSDT, SOLUSDT spot and the BTCUSDT USD-M perpetual. NSE: NIFTY 50 and NIFTY BANK
indices, five large stocks, NIFTY and BANKNIFTY futures (this month and next) and options (NIFTY: two
weekly expiries plus the monthly, on Tuesdays; BANKNIFTY: the monthly), strikes around the money.
Kite instrument tokens carry the segment in their low byte (1 NSE, 2 NFO, 9 indices).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Venue

IST = ZoneInfo("Asia/Kolkata")
D = Decimal
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKLY_MONTH = "123456789OND"  # Kite weekly symbols: month as 1-9, O, N, D


@dataclass(frozen=True)
class Spec:
    """An instrument plus what the simulation needs to move it."""

    market: str  # "spot", "usdm", "NSE", "NFO"
    instrument: Instrument
    start_price: float
    annual_vol: float
    underlying_symbol: str = ""  # for derivatives: the index symbol whose value drives them
    has_book: bool = True


def _inst(venue: Venue, symbol: str, kind: InstrumentKind, exchange: str, tick: str, lot: str, **kw: object) -> Instrument:
    return Instrument(InstrumentId(venue, symbol), kind, exchange, D(tick), D(lot), **kw)  # type: ignore[arg-type]


def binance_specs() -> list[Spec]:
    spot = [("BTCUSDT", "BTC", "0.01", "0.00001", 97000.0, 0.55), ("ETHUSDT", "ETH", "0.01", "0.0001", 3600.0, 0.7),
            ("SOLUSDT", "SOL", "0.01", "0.001", 230.0, 0.9)]
    out = [Spec("spot", _inst(Venue.BINANCE, s, InstrumentKind.SPOT, "SPOT", tick, step, quote_currency="USDT", base_currency=base,
                               min_quantity=D(step), max_quantity=D("9000"), min_notional=D("5"), venue_token=s, name=f"{base}/USDT"),
                price, vol) for s, base, tick, step, price, vol in spot]
    out.append(Spec("usdm", _inst(Venue.BINANCE_USDM, "BTCUSDT", InstrumentKind.FUTURE, "USDM", "0.1", "0.001", quote_currency="USDT",
                                  base_currency="BTC", min_quantity=D("0.001"), max_quantity=D("1000"), min_notional=D("100"),
                                  venue_token="BTCUSDT", name="BTCUSDT perpetual", underlying="BTC"), 97050.0, 0.55))
    return out


def last_tuesday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    while d.weekday() != 1:
        d -= timedelta(days=1)
    return d


def next_tuesdays(today: date, n: int) -> list[date]:
    d = today + timedelta(days=(1 - today.weekday()) % 7)
    return [d + timedelta(weeks=i) for i in range(n)]


def monthly_expiries(today: date, n: int) -> list[date]:
    out, y, m = [], today.year, today.month
    while len(out) < n:
        e = last_tuesday(y, m)
        if e >= today:
            out.append(e)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def option_symbol(name: str, expiry: date, strike: int, right: OptionRight, monthly: bool) -> str:
    """Kite tradingsymbol: NIFTY25DEC25000CE (monthly) or NIFTY25D0925000CE (weekly)."""
    yy = f"{expiry.year % 100:02d}"
    if monthly:
        return f"{name}{yy}{MONTHS[expiry.month - 1]}{strike}{right.value}"
    return f"{name}{yy}{WEEKLY_MONTH[expiry.month - 1]}{expiry.day:02d}{strike}{right.value}"


class _Tokens:
    def __init__(self) -> None:
        self.n = 1000

    def next(self, segment: int) -> str:
        self.n += 1
        return str(self.n << 8 | segment)


def nse_specs(today: date, strikes_each_side: int = 15) -> list[Spec]:
    tokens = _Tokens()
    out = [
        Spec("NSE", _inst(Venue.ZERODHA, "NIFTY 50", InstrumentKind.INDEX, "NSE", "0.05", "1", venue_token="256265", name="NIFTY 50"),
             25000.0, 0.13, has_book=False),
        Spec("NSE", _inst(Venue.ZERODHA, "NIFTY BANK", InstrumentKind.INDEX, "NSE", "0.05", "1", venue_token="260105", name="NIFTY BANK"),
             55000.0, 0.16, has_book=False),
    ]
    for sym, token, name, price, vol in (("RELIANCE", "738561", "RELIANCE INDUSTRIES", 1300.0, 0.22),
                                          ("INFY", "408065", "INFOSYS", 1600.0, 0.24), ("HDFCBANK", "341249", "HDFC BANK", 1700.0, 0.2),
                                          ("TCS", "2953217", "TATA CONSULTANCY SERV", 3500.0, 0.2), ("SBIN", "779521", "STATE BANK OF INDIA", 800.0, 0.26)):
        out.append(Spec("NSE", _inst(Venue.ZERODHA, sym, InstrumentKind.EQUITY, "NSE", "0.05", "1", venue_token=token, name=name,
                                     min_quantity=D(1)), price, vol))
    for name, index, lot, step, price, freeze in (("NIFTY", "NIFTY 50", "75", 50, 25000.0, "1800"),
                                                  ("BANKNIFTY", "NIFTY BANK", "35", 100, 55000.0, "900")):
        months = monthly_expiries(today, 2)
        for expiry in months:
            exp_dt = datetime.combine(expiry, time(15, 30), IST)
            sym = f"{name}{expiry.year % 100:02d}{MONTHS[expiry.month - 1]}FUT"
            out.append(Spec("NFO", _inst(Venue.ZERODHA, sym, InstrumentKind.FUTURE, "NFO", "0.10", lot, expiry=exp_dt, underlying=name,
                                         venue_token=tokens.next(2), name=name, min_quantity=D(lot), freeze_quantity=D(freeze)),
                            price, 0.0, underlying_symbol=index))
        option_expiries = [(e, e in months[:1]) for e in next_tuesdays(today, 2)] if name == "NIFTY" else []
        option_expiries += [(months[0], True)]
        seen: set[date] = set()
        atm = int(round(price / step) * step)
        for expiry, monthly in option_expiries:
            if expiry in seen:
                continue
            seen.add(expiry)
            is_monthly = monthly or expiry == last_tuesday(expiry.year, expiry.month)
            exp_dt = datetime.combine(expiry, time(15, 30), IST)
            for i in range(-strikes_each_side, strikes_each_side + 1):
                strike = atm + i * step
                for right in OptionRight:
                    sym = option_symbol(name, expiry, strike, right, is_monthly)
                    out.append(Spec("NFO", _inst(Venue.ZERODHA, sym, InstrumentKind.OPTION, "NFO", "0.05", lot, expiry=exp_dt,
                                                 strike=D(strike), right=right, underlying=name, venue_token=tokens.next(2),
                                                 name=name, min_quantity=D(lot), freeze_quantity=D(freeze)),
                                    0.0, 0.0, underlying_symbol=index))
    return out
