"""The instruments dump: parsing (real columns, 100,000 rows), the index, conversion, the day cache, download."""
from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.emulator.server import EmulatorServer
from connectors.zerodha.instruments import COLUMNS, IST, DumpCache, InstrumentIndex, last_refresh, parse_dump
from connectors.zerodha.rest import KiteRest
from core.domain import InstrumentId, InstrumentKind, OptionRight, Venue

HEADER = ",".join(COLUMNS)
MOCK_ROWS = [  # kiteconnect-mocks instruments_all.csv rows (kite.md C9) plus the index and BSE duplicates
    "3813889,14898,CENTRALBK-BE,CENTRAL BANK OF INDIA,0.0,,0.0,0.05,1,EQ,NSE,NSE",
    "12073986,47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05,40,CE,NFO-OPT,NFO",
    "12074242,47165,BANKNIFTY18JAN23500PE,,12.3,2018-01-25,23500.0,0.05,40,PE,NFO-OPT,NFO",
    "256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE",
    "408065,1594,INFY,INFOSYS,1600.0,,0.0,0.05,1,EQ,NSE,NSE",
    "128053508,500209,INFY,INFOSYS,1600.5,,0.0,0.05,1,EQ,BSE,BSE",
    "412675,1612,USDINR21JUNFUT,USDINR,72.5,2021-06-28,0.0,0.0025,1,FUT,CDS-FUT,CDS",
]


def synthetic_dump(rows: int) -> str:
    """A dump shaped like the real one: options on a few underlyings over weekly expiries, plus stocks."""
    lines = [HEADER]
    for i in range(rows):
        token = (100_000 + i) << 8 | 2
        if i % 10 == 0:
            lines.append(f"{(200_000 + i) << 8 | 1},{200_000 + i},STOCK{i},STOCK {i} LTD,{100 + i % 900}.5,,0.0,0.05,1,EQ,NSE,NSE")
            continue
        name = ("NIFTY", "BANKNIFTY", "FINNIFTY", "SENSEX")[i % 4]
        expiry = date(2026, 1 + i % 12, 1 + i % 28).isoformat()
        strike = 10_000 + (i % 400) * 50
        right = "CE" if i % 2 else "PE"
        lines.append(f"{token},{100_000 + i},{name}{i}{right},{name},{i % 500}.25,{expiry},{strike}.0,0.05,75,{right},NFO-OPT,NFO")
    return "\n".join(lines) + "\n"


def test_parse_mock_rows_and_convert() -> None:
    index = InstrumentIndex(parse_dump("\n".join([HEADER, *MOCK_ROWS]).encode()))
    assert len(index) == 7
    assert index.table.row(0) == {"instrument_token": 3813889, "exchange_token": 14898, "tradingsymbol": "CENTRALBK-BE",
                                  "name": "CENTRAL BANK OF INDIA", "last_price": "0.0", "expiry": "", "strike": "0.0",
                                  "tick_size": "0.05", "lot_size": 1, "instrument_type": "EQ", "segment": "NSE", "exchange": "NSE"}
    call = index.instrument(index.find("NFO", "BANKNIFTY18JAN23500CE"))  # type: ignore[arg-type]
    assert (call.kind, call.right, call.strike, call.lot_size, call.tick_size) == (
        InstrumentKind.OPTION, OptionRight.CALL, Decimal("23500.0"), Decimal(40), Decimal("0.05"))
    assert call.underlying == "BANKNIFTY"  # empty name: read from the symbol
    assert call.expiry == datetime(2018, 1, 25, 15, 30, tzinfo=IST)
    assert call.venue_token == "12073986" and call.id == InstrumentId(Venue.ZERODHA, "BANKNIFTY18JAN23500CE")
    nifty = index.instrument(index.by_token(256265))  # type: ignore[arg-type]
    assert (nifty.kind, nifty.tradable, nifty.tick_size, nifty.lot_size) == (InstrumentKind.INDEX, False, Decimal("0.05"), 1)
    nse, bse = (index.instrument(index.find(e, "INFY")) for e in ("NSE", "BSE"))  # type: ignore[arg-type]
    assert (nse.symbol, bse.symbol) == ("INFY", "BSE:INFY")
    assert index.by_symbol("BSE:INFY") == index.find("BSE", "INFY")
    usdinr = index.instrument(index.find("CDS", "USDINR21JUNFUT"))  # type: ignore[arg-type]
    assert (usdinr.tick_size, usdinr.expiry.hour, usdinr.kind) == (Decimal("0.0025"), 12, InstrumentKind.FUTURE)  # type: ignore[union-attr]
    assert {i.symbol for i in index.instruments(["NFO"])} == {"BANKNIFTY18JAN23500CE", "BANKNIFTY18JAN23500PE"}


def test_chain_expiries_and_search() -> None:
    index = InstrumentIndex(parse_dump("\n".join([HEADER, *MOCK_ROWS])))
    assert index.expiries("BANKNIFTY") == [date(2018, 1, 25)]
    chain = index.chain("BANKNIFTY", date(2018, 1, 25))
    assert len(chain) == 1 and chain[0].strike == Decimal(23500)
    assert index.table.tradingsymbol[chain[0].call] == "BANKNIFTY18JAN23500CE"  # type: ignore[index]
    assert index.table.tradingsymbol[chain[0].put] == "BANKNIFTY18JAN23500PE"  # type: ignore[index]
    assert [index.table.tradingsymbol[i] for i in index.search("infy")] == ["INFY", "INFY"]
    assert [index.table.tradingsymbol[i] for i in index.search("banknifty pe")] == ["BANKNIFTY18JAN23500PE"]
    assert index.search("") == []


def test_a_100k_row_dump() -> None:
    text = synthetic_dump(100_000)
    table = parse_dump(text.encode())
    assert len(table) == 100_000
    index = InstrumentIndex(table)
    expiries = index.expiries("NIFTY")
    assert expiries == sorted(expiries) and len(expiries) > 10
    chain = index.chain("NIFTY", expiries[0])
    assert chain and all(row.call is not None or row.put is not None for row in chain)
    assert [index.table.tradingsymbol[i] for i in index.search("stock99990")] == ["STOCK99990"]
    row = index.find("NFO", "BANKNIFTY99997CE")
    assert row is not None and index.instrument(row).underlying == "BANKNIFTY"


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("instrument_token,tradingsymbol\n1,X\n", "lacks columns"),
    (HEADER + "\n1,2,X\n", "row 2 has 3 fields"),
])
def test_bad_dumps_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_dump(text)


def test_cache_is_valid_until_the_next_0830_ist(tmp_path: Path) -> None:
    morning = datetime(2026, 3, 10, 8, 0, tzinfo=IST).timestamp()
    after = datetime(2026, 3, 10, 9, 0, tzinfo=IST).timestamp()
    assert last_refresh(morning) == datetime(2026, 3, 9, 8, 30, tzinfo=IST).timestamp()
    assert last_refresh(after) == datetime(2026, 3, 10, 8, 30, tzinfo=IST).timestamp()
    now = [morning]
    cache = DumpCache(tmp_path, clock=lambda: now[0])
    assert cache.load() is None
    cache.store(b"dump")
    assert cache.load() == b"dump"  # fetched at 08:00: still the latest until 08:30
    now[0] = after
    assert cache.load() is None  # regenerated since
    cache.store(b"fresh")
    os.utime(cache.path, (after, after))
    assert cache.load() == b"fresh"


async def test_download_with_progress_from_the_emulator(emulator: EmulatorServer) -> None:
    rest = KiteRest(emulator.endpoints["kite_rest"], "demo-kite-key")
    seen: list[tuple[int, int | None]] = []
    try:
        data = await rest.download("/instruments", lambda done, total: seen.append((done, total)))
    finally:
        await rest.close()
    index = InstrumentIndex(parse_dump(data))
    assert seen and seen[-1][0] > 0
    assert data.startswith(HEADER.encode())
    infy = index.instrument(index.find("NSE", "INFY"))  # type: ignore[arg-type]
    assert infy.venue_token == "408065" and infy.kind is InstrumentKind.EQUITY
    assert index.expiries("NIFTY") and index.expiries("NIFTY", "FUT")
    for market in emulator.exchange.markets():
        if market.instrument.venue is Venue.ZERODHA:
            ours = index.instrument(index.find(market.market, market.symbol))  # type: ignore[arg-type]
            assert (ours.kind, ours.strike, ours.right, ours.venue_token) == (
                market.instrument.kind, market.instrument.strike, market.instrument.right, market.instrument.venue_token)
            if ours.kind is not InstrumentKind.INDEX:
                assert (ours.tick_size, ours.lot_size) == (market.instrument.tick_size, market.instrument.lot_size)
