"""Wire parsers: generated Binance payloads map field by field to core types; anything malformed raises
Malformed (never another exception), so the stream layer can log and skip it."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance.depth import DepthParser
from connectors.binance.wire_account import ExecutionReport, OrderMsg, OrderTradeUpdate, TradeMsg as MyTrade
from connectors.binance.wire_account import parse_account_position, parse_account_update
from connectors.binance.wire_market import AggTradeMsg, BookTickerMsg, KlineMsg, KlineRow, Malformed, TradeMsg
from core.domain import InstrumentId, OrderStatus, Side, Venue

IID = InstrumentId(Venue.BINANCE, "BTCUSDT")
decimals = st.decimals(min_value=0, max_value=10**7, places=8, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=Decimal("0.00000001"), max_value=10**7, places=8, allow_nan=False, allow_infinity=False)
ids = st.integers(0, 2**53)
ms = st.integers(10**12, 4 * 10**12)


def s(d: Decimal) -> str:
    return f"{d:.8f}"


@settings(max_examples=200)
@given(ids, positive, positive, ms, st.booleans())
def test_trade_and_agg_trade(trade_id: int, price: Decimal, qty: Decimal, t: int, maker: bool) -> None:
    raw = {"e": "trade", "E": t, "s": "BTCUSDT", "t": trade_id, "p": s(price), "q": s(qty), "T": t, "m": maker, "M": True}
    tp = TradeMsg.parse(raw).parse_to_trade(IID)
    assert (tp.price, tp.quantity, tp.ts_ns, tp.trade_id) == (price, qty, t * 1_000_000, str(trade_id))
    assert tp.aggressor is (Side.SELL if maker else Side.BUY)
    agg = {"e": "aggTrade", "E": t, "s": "BTCUSDT", "a": trade_id, "p": s(price), "q": s(qty), "f": 1, "l": 2, "T": t, "m": maker}
    assert AggTradeMsg.parse(agg).parse_to_trade(IID) == tp


@settings(max_examples=200)
@given(positive, positive, positive, positive, decimals, ms, st.booleans(), st.sampled_from(["1m", "5m", "1h"]))
def test_kline_stream_and_rest_row(o: Decimal, h: Decimal, low: Decimal, c: Decimal, v: Decimal, t: int, closed: bool,
                                   interval: str) -> None:
    raw = {"e": "kline", "E": t, "s": "BTCUSDT", "k": {"t": t, "T": t + 59_999, "s": "BTCUSDT", "i": interval, "f": 1, "L": 2,
                                                        "o": s(o), "c": s(c), "h": s(h), "l": s(low), "v": s(v), "n": 3,
                                                        "x": closed, "q": "0", "V": "0", "Q": "0", "B": "0"}}
    bar = KlineMsg.parse(raw).parse_to_bar(IID)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.closed, bar.timeframe) == (o, h, low, c, v, closed, interval)
    row = [t, s(o), s(h), s(low), s(c), s(v), t + 59_999, "0", 3, "0", "0", "0"]
    rest_bar = KlineRow.parse(row).parse_to_bar(IID, interval, now_ms=t + 60_000 if closed else t)
    assert rest_bar == bar


@settings(max_examples=200)
@given(ids, positive, decimals, positive, decimals, st.one_of(st.none(), ms))
def test_book_ticker_spot_and_futures(u: int, bid: Decimal, bq: Decimal, ask: Decimal, aq: Decimal, event: int | None) -> None:
    raw: dict[str, Any] = {"u": u, "s": "BTCUSDT", "b": s(bid), "B": s(bq), "a": s(ask), "A": s(aq)}
    if event is not None:
        raw.update(e="bookTicker", E=event, T=event)
    tick = BookTickerMsg.parse(raw).parse_to_tick(IID, now_ns=7)
    assert (tick.bid, tick.bid_quantity, tick.ask, tick.ask_quantity) == (bid, bq, ask, aq)
    empty = BookTickerMsg.parse({**raw, "b": "0.00000000", "B": "0.00000000"}).parse_to_tick(IID, now_ns=7)
    assert (empty.bid, empty.bid_quantity, empty.ask) == (None, None, ask)
    assert tick.ts_ns == (event * 1_000_000 if event is not None else 7)


levels = st.lists(st.tuples(positive, decimals), max_size=20)


@settings(max_examples=200)
@given(ids, ids, levels, levels, st.booleans())
def test_depth_parser_matches_plain_json(first: int, count: int, bids: list, asks: list, combined: bool) -> None:
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": first + count,
            "b": [[s(p), s(q)] for p, q in bids], "a": [[str(p), str(q)] for p, q in asks]}
    frame = json.dumps({"stream": "btcusdt@depth@100ms", "data": data} if combined else data)
    msg = DepthParser().parse(frame)
    assert msg.b == tuple((Decimal(s(p)), Decimal(s(q))) for p, q in bids)
    assert msg.a == tuple((Decimal(str(p)), Decimal(str(q))) for p, q in asks)
    assert (msg.U, msg.u, msg.pu) == (first, first + count, -1)


def _report(x: str, status: str, cancel: bool = False) -> dict[str, Any]:
    return {"e": "executionReport", "E": 2, "s": "BTCUSDT", "c": "cancel-1" if cancel else "SQ1", "S": "BUY", "o": "LIMIT",
            "f": "GTC", "q": "1.00000000", "p": "100.00000000", "P": "0.00000000", "F": "0.00000000", "g": -1,
            "C": "SQ1" if cancel else "", "x": x, "X": status, "r": "NONE", "i": 42, "l": "0.40000000", "z": "0.40000000",
            "L": "99.50000000", "n": "0.00040000", "N": "BTC", "T": 1700000000000, "t": 7, "I": 99, "w": True, "m": True,
            "M": False, "O": 1, "Z": "39.80000000", "Y": "39.80000000", "Q": "0.00000000", "W": 1, "V": "NONE"}


def test_execution_report_trade_carries_a_fill_and_the_cumulative_report() -> None:
    msg = ExecutionReport.parse(_report("TRADE", "PARTIALLY_FILLED"))
    report, fill = msg.parse_to_report(), msg.parse_to_fill()
    assert report.status is OrderStatus.PARTIALLY_FILLED and report.client_order_id == "SQ1"
    assert report.filled_quantity == Decimal("0.4") and report.average_price == Decimal("99.5") and report.seq == 99
    assert report.side is Side.BUY and report.trigger_price is None
    assert fill is not None and (fill.trade_id, fill.quantity, fill.price, fill.fee, fill.fee_currency, fill.is_maker) == (
        "7", Decimal("0.4"), Decimal("99.5"), Decimal("0.0004"), "BTC", True)


def test_execution_report_cancel_names_the_original_client_id() -> None:
    msg = ExecutionReport.parse(_report("CANCELED", "CANCELED", cancel=True))
    assert msg.parse_to_report().client_order_id == "SQ1" and msg.parse_to_fill() is None
    assert msg.parse_to_report().status is OrderStatus.CANCELLED


def test_order_trade_update_and_account_update() -> None:
    event = {"e": "ORDER_TRADE_UPDATE", "E": 5, "T": 4, "o": {
        "s": "BTCUSDT", "c": "SQ9", "S": "SELL", "o": "LIMIT", "f": "GTC", "q": "0.010", "p": "30000", "ap": "30000.5",
        "sp": "0", "x": "TRADE", "X": "FILLED", "i": 8, "l": "0.010", "z": "0.010", "L": "30000.5", "N": "USDT", "n": "0.12",
        "T": 4, "t": 3, "b": "0", "a": "0", "m": False, "R": True, "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH"}}
    msg = OrderTradeUpdate.parse(event)
    report, fill = msg.parse_to_report(), msg.parse_to_fill()
    assert report.venue is Venue.BINANCE_USDM and report.status is OrderStatus.FILLED and report.seq == 0
    assert fill is not None and fill.side is Side.SELL and fill.quantity == Decimal("0.010") and fill.fee == Decimal("0.12")
    balances, positions = parse_account_update({"e": "ACCOUNT_UPDATE", "E": 1, "T": 1, "a": {"m": "ORDER", "B": [
        {"a": "USDT", "wb": "100.5", "cw": "100.5", "bc": "0"}], "P": [
        {"s": "BTCUSDT", "pa": "-0.010", "ep": "30000.5", "bep": "0", "cr": "0", "up": "0", "mt": "cross", "iw": "0", "ps": "BOTH"}]}})
    assert balances[0].free == Decimal("100.5") and positions[0].quantity == Decimal("-0.010")
    assert parse_account_position({"e": "outboundAccountPosition", "E": 1, "u": 1,
                                   "B": [{"a": "BTC", "f": "1.5", "l": "0.5"}]})[0].total == Decimal(2)


def test_rest_order_and_trade_shapes() -> None:
    spot = {"symbol": "BTCUSDT", "orderId": 5, "orderListId": -1, "clientOrderId": "x", "origClientOrderId": "SQ1",
            "price": "100.00000000", "origQty": "2.00000000", "executedQty": "1.00000000", "cummulativeQuoteQty": "99.00000000",
            "status": "CANCELED", "timeInForce": "GTC", "type": "LIMIT", "side": "SELL", "transactTime": 1700000000000}
    report = OrderMsg.parse(spot).parse_to_report(Venue.BINANCE)
    assert report.client_order_id == "SQ1" and report.average_price == Decimal(99) and report.status is OrderStatus.CANCELLED
    futures = {"orderId": 6, "symbol": "BTCUSDT", "status": "NEW", "clientOrderId": "SQ2", "price": "0", "avgPrice": "0",
               "origQty": "1", "executedQty": "0", "cumQuote": "0", "side": "BUY", "updateTime": 1}
    assert OrderMsg.parse(futures).parse_to_report(Venue.BINANCE_USDM).price is None
    trade = {"symbol": "BTCUSDT", "id": 1, "orderId": 5, "price": "1", "qty": "2", "commission": "0.1", "commissionAsset": "BNB",
             "time": 3, "isBuyer": False, "isMaker": True}
    assert MyTrade.parse(trade).parse_to_fill(Venue.BINANCE, "SQ1").side is Side.SELL


PARSERS = [
    (TradeMsg.parse, {"e": "trade", "E": 1, "s": "X", "t": 1, "p": "1", "q": "1", "T": 1, "m": True}),
    (BookTickerMsg.parse, {"u": 1, "s": "X", "b": "1", "B": "1", "a": "1", "A": "1"}),
    (ExecutionReport.parse, _report("NEW", "NEW")),
]


def _mutations() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2),
                     st.just("NaN"), st.just("1e999999"), st.just(float("nan")))


@settings(max_examples=200)
@given(st.integers(0, len(PARSERS) - 1), st.data())
def test_malformed_payloads_raise_only_malformed(which: int, data: st.DataObject) -> None:
    parse, good = PARSERS[which]
    bad = dict(good)
    key = data.draw(st.sampled_from(sorted(bad)))
    if data.draw(st.booleans()):
        del bad[key]
    else:
        bad[key] = data.draw(_mutations())
    try:
        parse(bad)
    except Malformed:
        pass


@pytest.mark.parametrize("payload", [[], "x", None, 5, {"e": "trade"}])
def test_not_even_an_object(payload: Any) -> None:
    with pytest.raises(Malformed):
        TradeMsg.parse(payload)
