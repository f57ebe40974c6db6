"""The official python-binance client, pointed at the emulator, is the referee of our server's fidelity:
REST time, exchangeInfo, depth, klines, order new/query/cancel, account, and its own depth cache built
from our depth socket."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from bn_helpers import away_from_market, freeze
from binance import AsyncClient, BinanceSocketManager, Client, DepthCacheManager
from binance.exceptions import BinanceAPIException

from connectors.emulator.binance import DEMO_API_KEY, DEMO_SECRET


def _sync_client(url: str) -> Client:
    client = Client(DEMO_API_KEY, DEMO_SECRET, ping=False)
    client.API_URL = url + "/api"
    return client


async def test_python_binance_rest_round_trip(spot) -> None:  # type: ignore[no-untyped-def]
    await freeze(spot.exchange)
    far_price = str(away_from_market(spot.exchange, "spot", "BTCUSDT", "0.9", Decimal("0.01")))

    def session() -> dict:
        client = _sync_client(spot.url)
        try:
            out = {"ping": client.ping(), "time": client.get_server_time(), "info": client.get_symbol_info("BTCUSDT"),
                   "depth": client.get_order_book(symbol="BTCUSDT", limit=5),
                   "klines": client.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE, limit=3)}
            placed = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                                         price=far_price, newClientOrderId="pb-1")
            out["placed"] = placed
            out["queried"] = client.get_order(symbol="BTCUSDT", orderId=placed["orderId"])
            out["cancelled"] = client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
            out["account"] = client.get_account()
            try:
                client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                                    price=far_price + "5")
            except BinanceAPIException as exc:
                out["error"] = (exc.status_code, exc.code, exc.message)
            return out
        finally:
            client.close_connection()
            client.loop.close()  # python-binance made this thread an event loop; do not leak it
            asyncio.set_event_loop(None)

    out = await asyncio.to_thread(session)
    assert out["ping"] == {} and abs(out["time"]["serverTime"] - time.time() * 1000) < 5_000
    filters = {f["filterType"]: f for f in out["info"]["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000" and "LOT_SIZE" in filters and "NOTIONAL" in filters
    assert 0 < out["depth"]["lastUpdateId"] <= spot.exchange.depth("spot", "BTCUSDT", 1).last_update_id
    assert len(out["depth"]["bids"]) == 5 and out["depth"]["bids"][0][0] > out["depth"]["bids"][1][0]
    assert len(out["klines"]) == 3 and len(out["klines"][0]) == 12 and out["klines"][1][0] - out["klines"][0][0] == 60_000
    assert out["placed"]["status"] == "NEW" and out["placed"]["clientOrderId"] == "pb-1"
    assert out["queried"]["orderId"] == out["placed"]["orderId"] and Decimal(out["queried"]["price"]) == Decimal(far_price)
    assert out["cancelled"]["status"] == "CANCELED" and out["cancelled"]["origClientOrderId"] == "pb-1"
    assert {b["asset"] for b in out["account"]["balances"]} >= {"BTC", "USDT"}
    assert out["error"] == (400, -1013, "Filter failure: PRICE_FILTER")


async def test_python_binance_depth_cache_matches_the_book(spot) -> None:  # type: ignore[no-untyped-def]
    client = AsyncClient(DEMO_API_KEY, DEMO_SECRET)
    client.API_URL = spot.url + "/api"
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = spot.ws + "/"
    try:
        async with DepthCacheManager(client, "BTCUSDT", bm=manager, limit=1000, ws_interval=100) as cache_socket:
            await asyncio.wait_for(cache_socket.recv(), 5)
            await spot.exchange.stop()  # freeze the market, then take every diff still on its way
            while True:
                try:
                    await asyncio.wait_for(cache_socket.recv(), 0.5)
                except asyncio.TimeoutError:
                    break
            cache = cache_socket.get_depth_cache()
            snap = spot.exchange.depth("spot", "BTCUSDT", 1000)
            assert cache.get_bids() == [[float(p), float(q)] for p, q in snap.bids]
            assert cache.get_asks() == [[float(p), float(q)] for p, q in snap.asks]
            await spot.exchange.start()  # python-binance notices its own close only between messages
    finally:
        await client.close_connection()
