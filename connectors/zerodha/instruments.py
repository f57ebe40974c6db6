"""The Kite instruments dump (CSV, ~100,000 rows) into core Instruments, quickly (csv module, one pass)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Venue

IST = ZoneInfo("Asia/Kolkata")
_CLOSE = time(15, 30)
_KINDS = {"FUT": InstrumentKind.FUTURE, "CE": InstrumentKind.OPTION, "PE": InstrumentKind.OPTION}
_ONE, _ZERO = Decimal(1), Decimal(0)


def parse_instruments(text: str) -> list[Instrument]:
    """Parse the CSV dump (columns as in kite.md C9); rows that do not parse are skipped."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    col = {name: i for i, name in enumerate(header)}
    token_i, sym_i, name_i, exp_i, strike_i = col["instrument_token"], col["tradingsymbol"], col["name"], col["expiry"], col["strike"]
    tick_i, lot_i, type_i, seg_i, exch_i = col["tick_size"], col["lot_size"], col["instrument_type"], col["segment"], col["exchange"]
    decimals: dict[str, Decimal] = {}
    expiries: dict[str, datetime | None] = {"": None}
    out: list[Instrument] = []
    for row in reader:
        try:
            itype, segment = row[type_i], row[seg_i]
            kind = InstrumentKind.INDEX if segment == "INDICES" else _KINDS.get(itype, InstrumentKind.EQUITY)
            tick = decimals.get(row[tick_i]) or decimals.setdefault(row[tick_i], Decimal(row[tick_i]))
            lot = decimals.get(row[lot_i]) or decimals.setdefault(row[lot_i], Decimal(row[lot_i] or "1"))
            exp = row[exp_i]
            if exp not in expiries:
                expiries[exp] = datetime.combine(datetime.strptime(exp, "%Y-%m-%d").date(), _CLOSE, IST)
            option = kind is InstrumentKind.OPTION
            out.append(Instrument(
                InstrumentId(Venue.ZERODHA, row[sym_i]), kind, row[exch_i], tick if tick > 0 else Decimal("0.05"), lot if lot > 0 else _ONE,
                min_quantity=lot if lot > 0 else _ONE, expiry=expiries[exp], strike=Decimal(row[strike_i]) if option else None,
                right=OptionRight(itype) if option else None, underlying=row[name_i] if kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION) else None,
                venue_token=row[token_i], name=row[name_i]))
        except (ValueError, IndexError, KeyError):
            continue
    return out
