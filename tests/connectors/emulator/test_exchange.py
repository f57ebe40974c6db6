from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest

from connectors.emulator.contract import DepthUpdate, NewOrder, OrderState, PublicTrade
from connectors.emulator.exchange import Exchange
from core.domain import OrderStatus, OrderType, Side

NOW = int(datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc).timestamp() * 1e9)  # a Wednesday, 10:30 IST


@pytest.fixture(scope="module")
def ex() -> Exchange:
    return Exchange(seed=3, clock_ns=lambda: NOW, today=date(2026, 11, 25), history_minutes=60)


class Recorder:
    def __init__(self) -> None:
        self.depth: list[DepthUpdate] = []
        self.trades: list[PublicTrade] = []
        self.orders: list[OrderState] = []

    def on_depth(self, u: DepthUpdate) -> None:
        self.depth.append(u)

    def on_trade(self, t: PublicTrade) -> None:
        self.trades.append(t)

    def on_order(self, s: OrderState) -> None:
        self.orders.append(s)


def order(market: str, symbol: str, side: Side, qty: str, price: str | None = None, account: str = "binance-demo",
          **kw: object) -> NewOrder:
    return NewOrder(account, market, symbol, side, OrderType.LIMIT if price else OrderType.MARKET, D(qty), f"c{qty}{price}",
                    price=D(price) if price else None, **kw)  # type: ignore[arg-type]


def free(ex: Exchange, account: str, asset: str) -> D:
    return next((b.free for b in ex.balances(account) if b.asset == asset), D(0))


def test_limit_buy_locks_quote_and_cancel_unlocks(ex: Exchange) -> None:
    before = free(ex, "binance-demo", "USDT")
    state = ex.place(order("spot", "ETHUSDT", Side.BUY, "1", "1000"))
    assert state.status is OrderStatus.OPEN
    locked = next(b.locked for b in ex.balances("binance-demo") if b.asset == "USDT")
    assert locked == D("1001.000")  # 1000 x 1 with a 0.1 % fee reserve
    assert [o.order_id for o in ex.orders("binance-demo", "spot", None, open_only=True)] == [state.order_id]
    cancelled = ex.cancel("binance-demo", "spot", "ETHUSDT", state.order_id)
    assert cancelled.status is OrderStatus.CANCELLED and free(ex, "binance-demo", "USDT") == before
    assert [s.status for s in ex.order_history("binance-demo", state.order_id)] == [OrderStatus.OPEN, OrderStatus.CANCELLED]


def test_market_buy_settles_base_and_quote_with_fees(ex: Exchange) -> None:
    usdt, btc = free(ex, "binance-demo", "USDT"), free(ex, "binance-demo", "BTC")
    state = ex.place(order("spot", "BTCUSDT", Side.BUY, "0.01"))
    assert state.status is OrderStatus.FILLED and state.average_price is not None
    spent = state.cumulative_quote * D("1.001")
    assert free(ex, "binance-demo", "BTC") == btc + D("0.01")
    assert free(ex, "binance-demo", "USDT") == usdt - spent
    assert [f.last_fill_quantity for f in ex.fills("binance-demo", "spot", "BTCUSDT")][-1] > 0


def test_insufficient_balance_is_a_rejection_with_the_reason(ex: Exchange) -> None:
    state = ex.place(order("spot", "BTCUSDT", Side.BUY, "5", "90000"))
    assert state.status is OrderStatus.REJECTED and "insufficient balance" in state.reject_reason
    assert ex.place(order("spot", "NOPE", Side.BUY, "1", "1")).reject_reason == "unknown symbol NOPE on spot"


def test_usdm_round_trip_realises_pnl(ex: Exchange) -> None:
    wallet = free(ex, "binance-demo", "USDT-FUT")
    buy = ex.place(order("usdm", "BTCUSDT", Side.BUY, "0.01"))
    sell = ex.place(order("usdm", "BTCUSDT", Side.SELL, "0.01"))
    assert buy.status is sell.status is OrderStatus.FILLED
    pnl = (sell.average_price - buy.average_price) * D("0.01")  # type: ignore[operator]
    fees = (buy.cumulative_quote + sell.cumulative_quote) * D("0.0005")
    assert free(ex, "binance-demo", "USDT-FUT") == wallet + pnl - fees
    assert all(p.quantity == 0 for p in ex.positions("binance-demo") if p.market == "usdm")
    reduce = ex.place(order("usdm", "BTCUSDT", Side.SELL, "0.01", reduce_only=True))
    assert reduce.status is OrderStatus.REJECTED and "ReduceOnly" in reduce.reject_reason


def test_kite_option_buy_debits_cash_and_closed_market_refuses(ex: Exchange) -> None:
    option = next(m for m in ex.markets() if m.market == "NFO" and m.symbol.endswith("CE"))
    cash = free(ex, "kite-demo", "INR")
    state = ex.place(order("NFO", option.symbol, Side.BUY, str(option.instrument.lot_size), account="kite-demo",
                           extra={"product": "NRML"}))
    assert state.status is OrderStatus.FILLED
    assert free(ex, "kite-demo", "INR") == cash - state.cumulative_quote
    sunday = Exchange(seed=3, clock_ns=lambda: int(datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc).timestamp() * 1e9),
                      nse_always_open=False, today=date(2026, 11, 29), history_minutes=10)
    refused = sunday.place(order("NSE", "INFY", Side.BUY, "1", account="kite-demo"))
    assert refused.status is OrderStatus.REJECTED and "market closed" in refused.reject_reason
    index = sunday.place(order("NSE", "NIFTY 50", Side.BUY, "1", account="kite-demo"))
    assert "index" in index.reject_reason


async def test_depth_updates_are_contiguous_and_match_snapshots() -> None:
    ex = Exchange(seed=5, history_minutes=10)
    rec = Recorder()
    ex.add_listener(rec)
    snap = ex.depth("spot", "BTCUSDT", 1000)
    await ex.start()
    await asyncio.sleep(1.0)
    await ex.stop()
    updates = [u for u in rec.depth if (u.market, u.symbol) == ("spot", "BTCUSDT")]
    assert len(updates) >= 5 and rec.trades
    assert updates[0].first_update_id == snap.last_update_id + 1 and updates[0].prev_update_id == snap.last_update_id
    for a, b in zip(updates, updates[1:]):
        assert b.first_update_id == a.last_update_id + 1 and b.prev_update_id == a.last_update_id
    book = {True: {p: q for p, q in snap.bids}, False: {p: q for p, q in snap.asks}}
    for u in updates:
        for side, levels in ((True, u.bids), (False, u.asks)):
            for p, q in levels:
                if q:
                    book[side][p] = q
                else:
                    book[side].pop(p, None)
    final = ex.depth("spot", "BTCUSDT", 1000)
    assert final.last_update_id == updates[-1].last_update_id
    assert sorted(book[True].items(), reverse=True) == list(final.bids)
    assert sorted(book[False].items()) == list(final.asks)


async def test_the_market_maker_refills_levels_that_takers_consume() -> None:
    ex = Exchange(seed=9, history_minutes=10)
    await ex.start()
    try:
        for _ in range(40):  # four seconds of flow, with user takers sweeping the touch as well
            ex.place(order("spot", "BTCUSDT", Side.SELL, "0.02"))
            await asyncio.sleep(0.1)
            snap = ex.depth("spot", "BTCUSDT", 50)
            assert len(snap.bids) >= 10 and len(snap.asks) >= 10, "a side of the book drained"
    finally:
        await ex.stop()


def test_the_book_has_deep_levels_that_stay_put_while_the_touch_moves() -> None:
    """A grouped ladder and the depth chart need a book beyond the touch: the maker's 20 levels spanned $2 of
    BTC. The deep levels sit on a fixed grid, so the touch moving re-places only the ones it reaches."""
    ex = Exchange(seed=3, clock_ns=lambda: NOW, today=date(2026, 11, 25), history_minutes=0)
    book = ex.books[("spot", "BTCUSDT")]
    snap = ex.depth("spot", "BTCUSDT", 1000)
    mid = (snap.bids[0][0] + snap.asks[0][0]) / 2
    assert len(snap.bids) == len(snap.asks) == 50
    assert snap.bids[-1][0] < mid * D("0.986") and snap.asks[-1][0] > mid * D("1.014")  # ~1.5 % either way
    assert [p for p, _ in snap.bids] == sorted({p for p, _ in snap.bids}, reverse=True)  # no price twice
    ladder = ex.sim.ladders[book.key]
    far = {p: oid for p, oid in {**ladder.bids, **ladder.asks}.items() if abs(p - mid) > mid * D("0.002")}
    for _ in range(20):  # the touch moves 0.02 %, less than one step of the deep grid (0.05 %)
        book.fair *= 1.00001
        ex.sim.requote(book)
    kept = {p: oid for p, oid in {**ladder.bids, **ladder.asks}.items() if far.get(p) == oid}
    assert len(kept) >= len(far) - 2 and len(far) >= 50  # a grid line at most left or came in on each side
