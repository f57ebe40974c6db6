"""Generated candle history: made on a book's first query, the same for a seed whatever was queried first."""
from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np

from connectors.emulator.contract import Candle
from connectors.emulator.exchange import Exchange
from connectors.emulator.markets.candles import MINUTE_NS, CandleSeries
from core.domain import InstrumentKind

NOW = int(datetime(2026, 11, 25, 5, 0, 30, tzinfo=timezone.utc).timestamp() * 1e9)
KINDS = (InstrumentKind.INDEX, InstrumentKind.FUTURE, InstrumentKind.OPTION, InstrumentKind.EQUITY)


def exchange(seed: int = 3) -> Exchange:
    return Exchange(seed=seed, clock_ns=lambda: NOW, today=date(2026, 11, 25), history_minutes=120)


def history(ex: Exchange, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[Candle]]:
    return {key: ex.candles(*key, 60, 0, NOW) for key in keys}


def some_books(ex: Exchange) -> list[tuple[str, str]]:
    """BTCUSDT spot and futures, and the first NSE book of each kind (the index, a future, an option, a stock)."""
    first = {}
    for key, book in ex.books.items():
        if book.spec.market in ("NSE", "NFO"):
            first.setdefault(book.spec.instrument.kind, key)
    return [("spot", "BTCUSDT"), ("usdm", "BTCUSDT")] + [first[kind] for kind in KINDS]


def test_a_history_is_the_same_whichever_books_were_queried_before_it() -> None:
    one, other = exchange(), exchange()
    keys = some_books(one)
    assert history(one, keys) == dict(reversed(history(other, keys[::-1]).items()))
    assert history(exchange(seed=4), keys[:1]) != history(one, keys[:1])


def test_a_history_ends_at_the_value_the_book_starts_from() -> None:
    ex = exchange()
    for key, candles in history(ex, some_books(ex)).items():
        book = ex.books[key]
        # 120 closed minutes, then the minute under way: it has a bar before the book's first trade, opened at its start value
        opening = candles[-1]
        minute = NOW - NOW % MINUTE_NS
        assert len(candles) == 121 and [c.start_ns for c in candles[-2:]] == [minute - MINUTE_NS, minute]
        assert opening.open == opening.high == opening.low == opening.close and opening.volume == 0
        assert abs(float(opening.close) - book.fair) <= max(float(book.spec.instrument.tick_size), 0.01), key
        close_enough = 1e-3 if book.spec.instrument.kind is InstrumentKind.OPTION else 1e-9  # options: priced a minute earlier
        assert abs(float(candles[-2].close) - book.fair) <= max(0.01, book.fair * close_enough), key
        if book.spec.instrument.kind is InstrumentKind.FUTURE and book.spec.market == "NFO":  # it follows its index
            index = history(ex, [("NSE", book.spec.underlying_symbol)])[("NSE", book.spec.underlying_symbol)]
            ratio = [float(f.close) / float(i.close) for f, i in zip(candles[:-1], index[:-1])]  # the opening bars are on tick
            assert max(ratio) - min(ratio) < 1e-6


def test_live_minutes_folded_in_before_the_first_query_follow_the_history() -> None:
    series = CandleSeries()
    first = 1_000 * MINUTE_NS
    series.defer(lambda: (first + MINUTE_NS * np.arange(3), np.tile([10.0, 11.0, 9.0, 10.5, 1.0], (3, 1))))
    series.update(first + 3 * MINUTE_NS + 5, 12.0, 2.0)
    series.update(first + 4 * MINUTE_NS, 13.0, 1.0)
    candles = series.query(60, first, first + 10 * MINUTE_NS)
    assert [c.start_ns for c in candles] == [first + i * MINUTE_NS for i in range(5)]
    assert [str(c.close) for c in candles] == ["10.50", "10.50", "10.50", "12.00", "13.00"]
    series.update(first + 5 * MINUTE_NS, 14.0, 1.0)
    assert len(series.query(60, first, first + 10 * MINUTE_NS)) == 6  # made once, then live as before


def test_the_start_up_minute_has_a_bar_even_if_the_book_never_traded_in_it() -> None:
    """An emulator started late in a minute: a chart loaded just after the next minute opens has no hole."""
    clock = [NOW - NOW % MINUTE_NS + MINUTE_NS - 10**8]  # 0.1 s before the minute ends
    ex = Exchange(seed=3, clock_ns=lambda: clock[0], today=date(2026, 11, 25), history_minutes=120)
    started = clock[0] - clock[0] % MINUTE_NS
    clock[0] += 2 * 10**9  # nothing has traded: the simulation has not stepped
    starts = [c.start_ns for c in ex.candles("spot", "BTCUSDT", 60, clock[0] - 3 * MINUTE_NS, clock[0])]
    assert starts == [started - 2 * MINUTE_NS, started - MINUTE_NS, started]
