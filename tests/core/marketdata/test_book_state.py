from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bus import EventBus
from core.domain import BookDelta, ConnectionChanged, ConnectionStatus, InstrumentId, Tick, TradePrint, Venue
from core.marketdata.book import CrossedBook, OrderBook
from core.marketdata.state import MarketState

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


def snap(bids: list[tuple[str, str]], asks: list[tuple[str, str]], uid: int = 1) -> BookDelta:
    return BookDelta(BTC, 0, tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks), uid, True)


def delta(bids: list[tuple[str, str]], asks: list[tuple[str, str]], uid: int) -> BookDelta:
    return BookDelta(BTC, 0, tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks), uid)


def test_snapshot_then_deltas_update_replace_and_remove() -> None:
    book = OrderBook(BTC)
    book.apply(snap([("100", "1"), ("99", "2")], [("101", "1"), ("102", "3")]))
    book.apply(delta([("100", "0"), ("99.5", "4")], [("101", "5")], 2))
    view = book.view(5)
    assert view.bids == ((D("99.5"), D("4")), (D("99"), D("2")))
    assert view.asks == ((D("101"), D("5")), (D("102"), D("3")))
    assert view.spread == D("1.5") and view.mid == D("100.25") and view.update_id == 2


def test_view_is_cached_until_the_next_change() -> None:
    book = OrderBook(BTC)
    book.apply(snap([("100", "1")], [("101", "1")]))
    assert book.view(5) is book.view(5)
    before = book.view(5)
    book.apply(delta([("100", "2")], [], 2))
    assert book.view(5) is not before and book.view(5).bids[0][1] == D("2")


def test_crossed_book_is_detected() -> None:
    book = OrderBook(BTC)
    book.apply(snap([("101", "1")], [("101", "1")]))
    with pytest.raises(CrossedBook):
        book.check_uncrossed()


@settings(max_examples=150)
@given(st.lists(st.tuples(st.booleans(), st.integers(90, 110), st.integers(0, 5)), max_size=60))
def test_book_equals_a_naive_replay(ops: list[tuple[bool, int, int]]) -> None:
    book = OrderBook(BTC)
    book.apply(snap([], []))
    naive: dict[bool, dict[D, D]] = {True: {}, False: {}}
    for i, (is_bid, price, qty) in enumerate(ops):
        level = ((D(price), D(qty)),)
        book.apply(BookDelta(BTC, 0, level if is_bid else (), () if is_bid else level, i + 2))
        side = naive[is_bid]
        if qty:
            side[D(price)] = D(qty)
        else:
            side.pop(D(price), None)
    view = book.view(100)
    assert list(view.bids) == sorted(naive[True].items(), reverse=True)
    assert list(view.asks) == sorted(naive[False].items())


def test_market_state_merges_partial_ticks_and_tracks_staleness() -> None:
    now = [10_000_000_000]
    bus = EventBus()
    state = MarketState(bus, clock_ns=lambda: now[0])
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.CONNECTED))
    bus.publish(Tick(BTC, 1, last_price=D("100"), volume=D("5")))
    bus.publish(Tick(BTC, 2, bid=D("99"), ask=D("101")))
    tick = state.ticks[BTC]
    assert (tick.last_price, tick.bid, tick.ask, tick.volume) == (D("100"), D("99"), D("101"), D("5"))
    assert not state.is_stale(BTC)
    now[0] += 3_000_000_000
    assert state.is_stale(BTC)
    bus.publish(TradePrint(BTC, 3, D("100.5"), D("1")))
    assert not state.is_stale(BTC)
    assert state.last_price(BTC) == D("100")  # the tick's last price wins over the tape


def test_disconnect_clears_books_so_an_old_book_never_looks_live() -> None:
    bus = EventBus()
    state = MarketState(bus)
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.CONNECTED))
    bus.publish(snap([("100", "1")], [("101", "1")]))
    assert state.book(BTC).view().best_bid == D("100")
    bus.publish(ConnectionChanged(Venue.BINANCE, "market", ConnectionStatus.DISCONNECTED))
    assert state.book(BTC).view().bids == () and state.is_stale(BTC)


def test_a_stale_kite_ticker_channel_makes_its_instruments_stale() -> None:
    nifty = InstrumentId(Venue.ZERODHA, "NIFTY 50")
    bus = EventBus()
    state = MarketState(bus)
    bus.publish(ConnectionChanged(Venue.ZERODHA, "ticker", ConnectionStatus.CONNECTED))
    bus.publish(Tick(nifty, 1, last_price=D("25000")))
    assert not state.is_stale(nifty)
    bus.publish(ConnectionChanged(Venue.ZERODHA, "ticker", ConnectionStatus.STALE))
    assert state.is_stale(nifty)
