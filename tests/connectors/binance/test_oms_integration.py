"""The core trading stack (risk, OMS, journal, portfolio) driving our spot connector on the emulator:
the venue's answers and stream updates move the OMS's orders the way the OMS expects, including a
cancel-replace modify that changes the venue's order id under one client order id."""
from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from bn_helpers import away_from_market, freeze, wait_for

from connectors.binance import BinanceSpotClient
from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET
from core.domain import InstrumentId, OrderRequest, OrderStatus, OrderType, Product, Side, TimeInForce, Venue
from core.marketdata.state import MarketState
from core.trading.stack import build_trading
from core.venue import Channel

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")


async def test_trading_stack_places_modifies_cancels_and_fills(spot, bus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = BinanceSpotClient.from_url(bus, spot.url, api_key=DEMO_API_KEY, secret=DEMO_SECRET)
    market = MarketState(bus)
    await freeze(spot.exchange)
    await client.connect()
    await client.subscribe([BTC], [Channel.BOOK])
    await wait_for(lambda: market.last_price(BTC) is not None, what="a price for risk checks")
    stack = build_trading(bus, tmp_path / "journal.db", {Venue.BINANCE: client}, client.instruments(), market)
    await stack.start()
    try:
        price = away_from_market(spot.exchange, "spot", "BTCUSDT", "0.98", D("0.01"))
        resting = await stack.api.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.LIMIT, price,
                                                     time_in_force=TimeInForce.GTC, product=Product.SPOT))
        await resting.wait(lambda o: o.status is OrderStatus.OPEN, timeout=5)
        first_venue_id = resting.order.venue_order_id
        await stack.api.modify(resting.client_order_id, price=price - 1, quantity=D("0.002"))
        await resting.wait(lambda o: (o.price, o.quantity) == (price - 1, D("0.002")), timeout=5)
        assert resting.status is OrderStatus.OPEN and resting.order.venue_order_id != first_venue_id
        await stack.api.cancel(resting.client_order_id)
        assert [o.status for o in await resting.wait_done(timeout=5)] == [OrderStatus.CANCELLED]
        taker = await stack.api.place(OrderRequest(BTC, Side.BUY, D("0.001"), OrderType.MARKET, product=Product.SPOT))
        [done] = await taker.wait_done(timeout=5)
        assert done.status is OrderStatus.FILLED and done.filled_quantity == D("0.001") and done.average_price
        assert stack.oms.open_orders() == []
    finally:
        await stack.stop()
        await client.close()
