"""Time to expiry in years, from the venue's local expiry time (NSE: 15:30 IST on expiry day).

Calendar basis counts every second (ACT/365). Trading basis counts NSE weekdays that are not
holidays, each a whole day, plus the fraction left of today's session: option decay over a weekend
is then zero, as many Indian desks prefer. The result is floored at one minute so that Greeks stay
finite on expiry afternoon.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
NSE_CLOSE = time(15, 30)
NSE_OPEN = time(9, 15)
MIN_YEARS = 1.0 / (365.0 * 24 * 60)
TRADING_DAYS_PER_YEAR = 252.0


def nse_expiry(day: date) -> datetime:
    """The expiry instant of an NSE contract expiring on `day` (15:30 IST)."""
    return datetime.combine(day, NSE_CLOSE, IST)


def years_to_expiry(expiry: datetime, now: datetime | None = None, basis: str = "calendar",
                    holidays: Collection[date] = ()) -> float:
    """Years from now until expiry (naive datetimes are taken as IST); at least MIN_YEARS."""
    now = now or datetime.now(timezone.utc)
    expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=IST)
    now = now if now.tzinfo else now.replace(tzinfo=IST)
    if basis == "calendar":
        years = (expiry - now).total_seconds() / (365.0 * 86400)
    elif basis == "trading":
        years = _trading_days(now.astimezone(IST), expiry.astimezone(IST), holidays) / TRADING_DAYS_PER_YEAR
    else:
        raise ValueError(f"basis must be 'calendar' or 'trading', got {basis!r}")
    return max(years, MIN_YEARS)


def _trading_days(now: datetime, expiry: datetime, holidays: Collection[date]) -> float:
    if expiry <= now:
        return 0.0
    session = (datetime.combine(now.date(), NSE_CLOSE) - datetime.combine(now.date(), NSE_OPEN)).total_seconds()

    def is_trading(d: date) -> bool:
        return d.weekday() < 5 and d not in holidays

    days = 0.0
    if is_trading(now.date()):
        close = datetime.combine(now.date(), NSE_CLOSE, IST)
        open_ = datetime.combine(now.date(), NSE_OPEN, IST)
        end = min(close, expiry)
        days += max(0.0, (end - max(now, open_)).total_seconds()) / session
    d = now.date() + timedelta(days=1)
    while d <= expiry.date():
        if is_trading(d):
            if d == expiry.date():
                days += max(0.0, (expiry - datetime.combine(d, NSE_OPEN, IST)).total_seconds()) / session
            else:
                days += 1.0
        d += timedelta(days=1)
    return days
