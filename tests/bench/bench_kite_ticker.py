"""Kite Ticker binary parsing, tick conversion and the instruments dump, against plain references.

Reference parser: struct.unpack per field on byte slices into one dict per packet (how the official
Python client parses, kite.md C15). Ours: parse_frame (framing and lengths checked, records decoded on
access), then as_dict() (the same dicts as the reference) or to_tick() (core Ticks, exact Decimals).
Messages: 200 full-mode packets (Kite batches a connection's instruments into one message), a mixed
message (full, quote, ltp and index packets), and a 5-packet message.
Goal (issue 5): parse_frame >= 1,000,000 full-mode ticks/s; a 100,000-row instruments dump parsed well
under a second.
"""
from __future__ import annotations

import random
import struct
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import median_time, print_table  # noqa: E402

from connectors.emulator.kite.packets import RawTick, encode_frame, encode_packet  # noqa: E402
from connectors.zerodha.instruments import COLUMNS, InstrumentIndex, parse_dump  # noqa: E402
from connectors.zerodha.ticker import parse_frame  # noqa: E402
from connectors.zerodha.ticks import to_tick  # noqa: E402
from core.domain import InstrumentId, Venue  # noqa: E402

IID = InstrumentId(Venue.ZERODHA, "X")


def raw_tick(rng: random.Random, token: int) -> RawTick:
    price = rng.randrange(10_000, 5_000_000, 5)
    levels = tuple((rng.randrange(1, 5000), price - 5 * i, rng.randrange(1, 40)) for i in range(1, 6))
    asks = tuple((rng.randrange(1, 5000), price + 5 * i, rng.randrange(1, 40)) for i in range(1, 6))
    return RawTick(token, price, rng.randrange(1, 500), price - 15, rng.randrange(10**6, 10**8), rng.randrange(10**5, 10**6),
                   rng.randrange(10**5, 10**6), price - 500, price + 900, price - 1200, price - 300, 1_750_000_000,
                   rng.randrange(0, 10**7), 0, 0, 1_750_000_001, 0, levels, asks)


def messages() -> dict[str, tuple[bytes, int]]:
    rng = random.Random(7)
    full = [encode_packet(raw_tick(rng, (1000 + i) << 8 | 2), "full") for i in range(200)]
    mixed = []
    for i in range(200):
        token = (2000 + i) << 8 | (9 if i % 10 == 0 else 1)
        mixed.append(encode_packet(raw_tick(rng, token), ("full", "quote", "ltp", "full")[i % 4]))
    return {"200 full packets": (encode_frame(full), 200), "200 mixed packets": (encode_frame(mixed), 200),
            "5 full packets": (encode_frame(full[:5]), 5)}


def _u(b: bytes, start: int, end: int, fmt: str = "I") -> int:
    return int(struct.unpack(">" + fmt, b[start:end])[0])


def reference_parse(message: bytes) -> list[dict[str, Any]]:
    """Struct per field, one dict per packet (prices as float)."""
    if len(message) < 2:
        return []
    count, pos, out = _u(message, 0, 2, "H"), 2, []
    for _ in range(count):
        length = _u(message, pos, pos + 2, "H")
        p = message[pos + 2:pos + 2 + length]
        pos += 2 + length
        token = _u(p, 0, 4)
        segment = token & 0xFF
        div = 10_000_000.0 if segment == 3 else 10_000.0 if segment in (6, 12) else 100.0
        d: dict[str, Any] = {"tradable": segment != 9, "instrument_token": token, "last_price": _u(p, 4, 8, "i") / div}
        if length in (28, 32):
            d["ohlc"] = {"high": _u(p, 8, 12, "i") / div, "low": _u(p, 12, 16, "i") / div, "open": _u(p, 16, 20, "i") / div,
                         "close": _u(p, 20, 24, "i") / div}
            if length == 32:
                d["exchange_timestamp"] = _u(p, 28, 32)
        elif length in (44, 184):
            d.update(last_traded_quantity=_u(p, 8, 12), average_traded_price=_u(p, 12, 16, "i") / div, volume_traded=_u(p, 16, 20),
                     total_buy_quantity=_u(p, 20, 24), total_sell_quantity=_u(p, 24, 28),
                     ohlc={"open": _u(p, 28, 32, "i") / div, "high": _u(p, 32, 36, "i") / div, "low": _u(p, 36, 40, "i") / div,
                           "close": _u(p, 40, 44, "i") / div})
            if length == 184:
                d.update(last_trade_time=_u(p, 44, 48), oi=_u(p, 48, 52), oi_day_high=_u(p, 52, 56), oi_day_low=_u(p, 56, 60),
                         exchange_timestamp=_u(p, 60, 64))
                depth: dict[str, list[dict[str, Any]]] = {"buy": [], "sell": []}
                for i, at in enumerate(range(64, 184, 12)):
                    depth["sell" if i >= 5 else "buy"].append({"quantity": _u(p, at, at + 4), "price": _u(p, at + 4, at + 8, "i") / div,
                                                              "orders": _u(p, at + 8, at + 10, "H")})
                d["depth"] = depth
        out.append(d)
    return out


def dump(rows: int) -> bytes:
    lines = [",".join(COLUMNS)]
    for i in range(rows):
        if i % 10 == 0:
            lines.append(f"{(200_000 + i) << 8 | 1},{200_000 + i},STOCK{i},STOCK {i} LTD,{100 + i % 900}.5,,0.0,0.05,1,EQ,NSE,NSE")
        else:
            right = "CE" if i % 2 else "PE"
            lines.append(f"{(100_000 + i) << 8 | 2},{100_000 + i},NIFTY{i}{right},NIFTY,{i % 500}.25,2026-{1 + i % 12:02d}-"
                         f"{1 + i % 28:02d},{10_000 + (i % 400) * 50}.0,0.05,75,{right},NFO-OPT,NFO")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    rows = []
    for name, (message, n) in messages().items():
        assert [r.as_dict()["last_price"] for r in parse_frame(message)] == [d["last_price"] for d in reference_parse(message)]
        ref = median_time(lambda: reference_parse(message), repeat=7, number=20)
        ours = median_time(lambda: parse_frame(message), repeat=7, number=200)
        dicts = median_time(lambda: [r.as_dict() for r in parse_frame(message)], repeat=7, number=20)
        ticks = median_time(lambda: [to_tick(r, IID, 0) for r in parse_frame(message)], repeat=7, number=20)
        rows.append([name, f"{n / ref:,.0f}", f"{n / ours:,.0f}", f"{ref / ours:.1f}x", f"{n / dicts:,.0f}", f"{n / ticks:,.0f}"])
    print_table(["message", "reference ticks/s", "parse_frame ticks/s", "speed-up", "+ as_dict ticks/s", "+ to_tick ticks/s"], rows)
    print()
    data = dump(100_000)
    parse_s = median_time(lambda: parse_dump(data), repeat=3)
    table = parse_dump(data)
    index_s = median_time(lambda: InstrumentIndex(table), repeat=3)
    convert_s = median_time(lambda: InstrumentIndex(table).instruments(), repeat=1)
    print_table(["instruments dump, 100,000 rows", "seconds"],
                [["parse_dump (CSV to columns)", f"{parse_s:.3f}"], ["InstrumentIndex (lookups, chains)", f"{index_s:.3f}"],
                 ["index + every core Instrument", f"{convert_s:.3f}"]])


if __name__ == "__main__":
    main()
