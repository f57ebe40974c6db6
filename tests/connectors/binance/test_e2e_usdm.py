"""Our USD-M connector end to end: routed streams (/public book with pu chaining, /market trades), orders
with reduceOnly, in-place modify, the listenKey user stream, positions, leverage, margin type, hedge mode."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from bn_helpers import BusBook, Recorder, away_from_market, freeze, settle_and_compare, wait_for

from connectors.binance import BinanceUsdmClient
from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET
from core.domain import (ClientOrderId, ConnectionChanged, ConnectionStatus, FillEvent, InstrumentId, Order, OrderRequest,
                         OrderStatus, OrderType, Position, Side, TimeInForce, TradePrint, Venue, VenueOrderReport)
from core.errors import OrderRejected, ValidationError
from core.venue import Channel

BTC = InstrumentId(Venue.BINANCE_USDM, "BTCUSDT")
TICK = D("0.1")


async def test_futures_book_and_trades_over_routed_streams(usdm, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceUsdmClient.from_url(bus, usdm.url)
    shown = BusBook(bus, BTC)
    seen = Recorder(bus, TradePrint, ConnectionChanged)
    await client.connect()
    try:
        assert client.market.book_stream.base_url.endswith("/public") and client.market.trade_stream.base_url.endswith("/market")
        await client.subscribe([BTC], [Channel.BOOK, Channel.TRADES])
        await wait_for(lambda: shown.snapshots == 1, what="snapshot")
        await wait_for(lambda: bool(seen.of(TradePrint)), what="public trades")
        await settle_and_compare(usdm.exchange, client, shown, "usdm")
        assert client.market.books["BTCUSDT"].resyncs == 0
        channels = {(e.channel, e.status) for e in seen.of(ConnectionChanged)}
        assert ("market", ConnectionStatus.CONNECTED) in channels and ("ticker", ConnectionStatus.CONNECTED) in channels
    finally:
        await client.close()


async def test_futures_orders_user_stream_and_account_settings(usdm, bus) -> None:  # type: ignore[no-untyped-def]
    client = BinanceUsdmClient.from_url(bus, usdm.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    seen = Recorder(bus, VenueOrderReport, FillEvent, Position)
    await freeze(usdm.exchange)
    await client.connect()
    try:
        price = away_from_market(usdm.exchange, "usdm", "BTCUSDT", "0.97", TICK)
        order = Order(ClientOrderId("SQ-f-1"), OrderRequest(BTC, Side.BUY, D("0.002"), OrderType.LIMIT, price,
                                                          time_in_force=TimeInForce.GTX))
        ack = await client.place_order(order)
        assert ack.status is OrderStatus.OPEN and ack.venue is Venue.BINANCE_USDM
        working = replace(order, venue_order_id=ack.venue_order_id, status=OrderStatus.OPEN)
        moved = await client.modify_order(working, price - TICK, D("0.003"), None)
        assert moved.venue_order_id == ack.venue_order_id and (moved.price, moved.quantity) == (price - TICK, D("0.003"))
        done = await client.cancel_order(replace(working, price=moved.price, quantity=moved.quantity))
        assert done.status is OrderStatus.CANCELLED
        await wait_for(lambda: [r.status for r in seen.of(VenueOrderReport)] ==
                       [OrderStatus.OPEN, OrderStatus.OPEN, OrderStatus.CANCELLED], what="NEW, AMENDMENT, CANCELED on the stream")
        opened = await client.place_order(Order(ClientOrderId("SQ-f-2"), OrderRequest(BTC, Side.BUY, D("0.002"), OrderType.MARKET)))
        assert opened.status is OrderStatus.FILLED
        await wait_for(lambda: any(p.quantity == D("0.002") for p in seen.of(Position)), what="ACCOUNT_UPDATE with the position")
        assert [(p.instrument_id, p.quantity) for p in await client.positions()] == [(BTC, D("0.002"))]
        reduce = Order(ClientOrderId("SQ-f-3"), OrderRequest(BTC, Side.SELL, D("0.002"), OrderType.MARKET, reduce_only=True))
        assert (await client.place_order(reduce)).status is OrderStatus.FILLED
        with pytest.raises(OrderRejected, match="ReduceOnly"):  # nothing left to reduce
            await client.place_order(replace(reduce, client_order_id=ClientOrderId("SQ-f-4")))
        await wait_for(lambda: len({f.fill.client_order_id for f in seen.of(FillEvent)}) == 2, what="both fills")
        assert all(f.fill.product.value == "FUTURES" for f in seen.of(FillEvent))
        assert await client.positions() == []
        assert await client.set_leverage(BTC, 7) == 7 and usdm.exchange.accounts["binance-demo"].leverage["BTCUSDT"] == 7
        await client.set_margin_type(BTC, "ISOLATED")
        await client.set_margin_type(BTC, "ISOLATED")  # already: not an error
        await client.set_hedge_mode(True)
        hedged = Order(ClientOrderId("SQ-f-5"), OrderRequest(BTC, Side.BUY, D("0.002"), OrderType.MARKET), extra={"positionSide": "LONG"})
        assert (await client.place_order(hedged)).status is OrderStatus.FILLED
        with pytest.raises(OrderRejected, match="position side"):  # hedge mode needs LONG/SHORT
            await client.place_order(replace(hedged, client_order_id=ClientOrderId("SQ-f-6"), extra={}))
        assert [b.asset for b in await client.balances()] == ["USDT"]
        with pytest.raises(ValidationError, match="STOP_MARKET"):
            await client.place_order(Order(ClientOrderId("SQ-f-7"), OrderRequest(
                BTC, Side.BUY, D("0.002"), OrderType.STOP_MARKET, trigger_price=price * 2)))
    finally:
        await client.close()
