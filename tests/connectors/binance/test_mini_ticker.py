"""`<symbol>@miniTicker`: the parser maps Binance's fields to a partial Tick and refuses anything malformed
with Malformed; end to end over loopback, Channel.TICKS brings the 24 h figures for spot and USD-M and
MarketState then holds the bookTicker touch and the 24 h figures together."""
from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from bn_helpers import Recorder, wait_for
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance import BinanceSpotClient, BinanceUsdmClient
from connectors.binance.config import BinanceEndpoints
from connectors.binance.market_data import MarketData
from connectors.binance.rest import BinanceRest
from connectors.binance.wire_market import Malformed, MiniTickerMsg
from core.bus import EventBus
from core.domain import InstrumentId, Tick, Venue
from core.marketdata.state import MarketState
from core.venue import Channel

IID = InstrumentId(Venue.BINANCE, "BTCUSDT")
numbers = st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False, allow_infinity=False)
ms = st.integers(10**12, 4 * 10**12)


def _raw(event_ms: int, c: Decimal, o: Decimal, h: Decimal, low: Decimal, v: Decimal, q: Decimal, spot: bool) -> dict[str, Any]:
    text = (lambda d: f"{d:.8f}") if spot else (lambda d: format(d.normalize(), "f"))  # spot pads, futures does not
    return {"e": "24hrMiniTicker", "E": event_ms, "s": "BTCUSDT", "c": text(c), "o": text(o), "h": text(h), "l": text(low),
            "v": text(v), "q": text(q)}


@settings(max_examples=200)
@given(ms, numbers, numbers, numbers, numbers, numbers, numbers, st.booleans())
def test_mini_ticker_maps_to_a_partial_tick(event_ms: int, c: Decimal, o: Decimal, h: Decimal, low: Decimal, v: Decimal,
                                            q: Decimal, spot: bool) -> None:
    msg = MiniTickerMsg.parse(_raw(event_ms, c, o, h, low, v, q, spot))
    assert (msg.E, msg.s, msg.q) == (event_ms, "BTCUSDT", q)
    tick = msg.parse_to_tick(IID)
    assert (tick.instrument_id, tick.ts_ns) == (IID, event_ms * 1_000_000)
    assert (tick.last_price, tick.open, tick.high, tick.low, tick.volume) == (c, o, h, low, v)
    assert (tick.bid, tick.bid_quantity, tick.ask, tick.ask_quantity, tick.close) == (None, None, None, None, None)


GOOD = _raw(1_700_000_000_000, *(Decimal(x) for x in ("101", "100", "102", "99", "5", "505")), spot=True)
breakage = st.one_of(
    st.sampled_from(sorted(GOOD)).map(lambda k: ("drop", k, None)),
    st.tuples(st.just("set"), st.sampled_from(["c", "o", "h", "l", "v", "q"]),
              st.one_of(st.integers(), st.floats(), st.none(), st.sampled_from(["", "abc", "NaN", "Infinity", "1e", "--1"]))),
    st.tuples(st.just("set"), st.sampled_from(["E"]), st.one_of(st.text(), st.floats(), st.booleans(), st.none())),
    st.tuples(st.just("set"), st.sampled_from(["e", "s"]), st.one_of(st.integers(), st.none())),
    st.tuples(st.just("set"), st.just("e"), st.sampled_from(["24hrTicker", "bookTicker", ""])),
)


@settings(max_examples=200)
@given(breakage)
def test_malformed_mini_ticker_raises_malformed_only(change: tuple[str, str, Any]) -> None:
    how, key, value = change
    raw = {k: v for k, v in GOOD.items() if k != key} if how == "drop" else {**GOOD, key: value}
    with pytest.raises(Malformed):
        MiniTickerMsg.parse(raw)


@pytest.mark.parametrize("payload", [None, [], "x", 3])
def test_non_object_payload_is_malformed(payload: Any) -> None:
    with pytest.raises(Malformed):
        MiniTickerMsg.parse(payload)


async def _check_ticks(client: Any, bus: EventBus, iid: InstrumentId, exchange: Any, market: str) -> None:
    """Subscribe TICKS, see both tickers arrive, freeze the market, and compare with the exchange's figures."""
    state = MarketState(bus)
    seen = Recorder(bus, Tick)
    await client.connect()
    await client.subscribe([iid], [Channel.TICKS])
    await wait_for(lambda: any(t.volume is not None for t in seen.of(Tick)) and any(t.bid is not None for t in seen.of(Tick)),
                   what="a miniTicker tick and a bookTicker tick")
    await exchange.stop()  # bookTicker is sent on change only, so freeze once both have flowed
    summary = exchange.summary(market, iid.symbol)
    frozen = (summary.last_price, summary.open, summary.high, summary.low, summary.volume)
    await wait_for(lambda: (state.ticks[iid].last_price, state.ticks[iid].open, state.ticks[iid].high, state.ticks[iid].low,
                            state.ticks[iid].volume) == frozen, what="the exchange's 24 h figures in MarketState")
    mini = [t for t in seen.of(Tick) if t.volume is not None]
    assert all(t.bid is None and t.ask is None and t.close is None for t in mini)  # the 24 h tick never blanks the touch
    last = mini[-1]
    assert last.low <= last.open <= last.high and last.low <= last.last_price <= last.high  # type: ignore[operator]
    merged = state.ticks[iid]
    assert merged.bid is not None and merged.ask is not None  # ... while the touch came from bookTicker
    assert (merged.open, merged.high, merged.low, merged.volume) == (last.open, last.high, last.low, last.volume)


async def test_spot_ticks_bring_touch_and_24h_figures_together(spot, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url)
    try:
        assert client.market.book_stream is client.market.trade_stream  # spot: one connection carries both tickers
        await _check_ticks(client, bus, IID, spot.exchange, "spot")
        assert client.market.book_stream.wanted == {"btcusdt@bookTicker", "btcusdt@miniTicker"}
    finally:
        await client.close()


async def test_usdm_mini_ticker_is_routed_on_market(usdm, bus) -> None:  # type: ignore[no-untyped-def]
    iid = InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")
    client = BinanceUsdmClient.from_url(bus, usdm.url)
    try:
        await _check_ticks(client, bus, iid, usdm.exchange, "usdm")
        assert client.market.book_stream.wanted == {"btcusdt@bookTicker"}  # /public
        assert client.market.trade_stream.wanted == {"btcusdt@miniTicker"}  # /market
        await client.unsubscribe([iid], [Channel.TICKS])
        assert client.market.book_stream.wanted == set() and client.market.trade_stream.wanted == set()
    finally:
        await client.close()


async def test_malformed_frame_is_logged_and_skipped(bus, caplog) -> None:  # type: ignore[no-untyped-def]
    endpoints = BinanceEndpoints.single_host("http://127.0.0.1:9")  # never connected: frames are fed by hand
    rest = BinanceRest(endpoints.rest)
    market = MarketData(bus, Venue.BINANCE, rest, endpoints, lambda symbol: IID if symbol == "BTCUSDT" else None)
    seen = Recorder(bus, Tick)
    bad = {**GOOD, "c": 101}  # a JSON number where Binance sends a decimal string
    with caplog.at_level(logging.WARNING, logger="connectors.binance.market_data"):
        for data in (bad, GOOD):
            market._on_frame(json.dumps({"stream": "btcusdt@miniTicker", "data": data}))
    assert [t.volume for t in seen.of(Tick)] == [Decimal("5.00000000")]
    assert any("skipped" in r.getMessage() for r in caplog.records)
    await rest.close()
