"""Client-side limiter buckets; instruments from exchangeInfo and the filter checks; core orders in Binance
parameters; cancel-replace bookkeeping."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from connectors.binance.instruments import parse_symbol, validate
from connectors.binance.orders import ReplaceChains, order_params, stop_type
from connectors.binance.ratelimit import RateLimiter
from core.domain import (ClientOrderId, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus, OrderType, Side,
                         TimeInForce, Venue, VenueOrderReport)
from core.errors import RateLimited, ValidationError


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


async def test_limiter_waits_for_the_next_bucket_and_refuses_long_waits() -> None:
    clock = Clock(60_000 * 1000 + 59_990)  # 10 ms before the minute rolls
    limiter = RateLimiter(clock, [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 100}],
                          headroom=0.8)
    for _ in range(8):
        await limiter.acquire(10)
    assert limiter.usage()["REQUEST_WEIGHT-1M"] == (80, 100)
    clock.ms -= 30_000  # now half a minute is left: too long to wait
    with pytest.raises(RateLimited) as raised:
        await limiter.acquire(10)
    assert 29 < raised.value.retry_after <= 31


async def test_limiter_counts_orders_and_rolls_buckets() -> None:
    clock = Clock(10_000 * 5)
    limiter = RateLimiter(clock, [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 5}], headroom=1.0)
    for _ in range(5):
        await limiter.acquire(1, orders=1)
    clock.ms += 10_000
    await limiter.acquire(1, orders=1)
    assert limiter.usage()["ORDERS-10S"] == (1, 5)
    limiter.observe({"x-mbx-order-count-10s": "4"})
    assert limiter.usage()["ORDERS-10S"] == (4, 5)


SYMBOL: dict[str, Any] = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "quoteOrderQtyMarketAllowed": True,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "80.00000000", "stepSize": "0.00000000"},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True, "maxNotional": "9000000.00000000",
         "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5",
         "askMultiplierDown": "0.2", "avgPriceMins": 5},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}]}
IID = InstrumentId(Venue.BINANCE, "BTCUSDT")


def test_exchange_info_symbol_becomes_an_instrument_keeping_every_filter() -> None:
    inst = parse_symbol(Venue.BINANCE, SYMBOL)
    assert (inst.tick_size, inst.lot_size, inst.min_quantity, inst.max_quantity, inst.min_notional) == (
        D("0.01"), D("0.00001"), D("0.00001"), D(9000), D(5))
    assert inst.kind is InstrumentKind.SPOT and inst.base_currency == "BTC" and inst.quote_currency == "USDT"
    assert inst.extra["MAX_NUM_ORDERS.maxNumOrders"] == "200" and inst.extra["NOTIONAL.applyMinToMarket"] == "true"
    futures = parse_symbol(Venue.BINANCE_USDM, {**SYMBOL, "contractType": "PERPETUAL", "filters": [
        *SYMBOL["filters"][:2], {"filterType": "MIN_NOTIONAL", "notional": "100"}]})
    assert futures.min_notional == D(100) and futures.kind is InstrumentKind.FUTURE and futures.expiry is None


@pytest.mark.parametrize(("request_", "message"), [
    (OrderRequest(IID, Side.BUY, D("0.001"), OrderType.LIMIT, D("30000.005")), "off the tick"),
    (OrderRequest(IID, Side.BUY, D("0.0000101"), OrderType.LIMIT, D("30000")), "not a multiple"),
    (OrderRequest(IID, Side.BUY, D("0.0001"), OrderType.LIMIT, D("30000")), "below the minimum 5"),
    (OrderRequest(IID, Side.BUY, D("100"), OrderType.MARKET), "above the maximum 80"),
    (OrderRequest(IID, Side.SELL, D("0.001"), OrderType.LIMIT, D("200000")), "more than 5x the reference"),
    (OrderRequest(IID, Side.BUY, D("0.001"), OrderType.LIMIT, D("2000000")), "above the maximum 1000000"),
    (OrderRequest(IID, Side.BUY, D(0), OrderType.MARKET, quote_quantity=D("1")), "below the minimum 5"),
])
def test_orders_are_checked_against_the_filters_with_readable_messages(request_: OrderRequest, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate(parse_symbol(Venue.BINANCE, SYMBOL), request_, reference_price=D(30000))


def _order(request: OrderRequest, cid: str = "SQ1") -> Order:
    return Order(ClientOrderId(cid), request)


def test_order_params_map_types_and_time_in_force() -> None:
    inst = parse_symbol(Venue.BINANCE, SYMBOL)
    limit = dict(order_params(_order(OrderRequest(IID, Side.BUY, D("0.5"), OrderType.LIMIT, D("30000.10"))), inst, False))
    assert limit == {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": D("0.5"),
                     "price": D("30000.10"), "newClientOrderId": "SQ1", "newOrderRespType": "RESULT"}
    maker = dict(order_params(_order(OrderRequest(IID, Side.SELL, D(1), OrderType.LIMIT, D(1), time_in_force=TimeInForce.GTX)),
                              inst, False))
    assert maker["type"] == "LIMIT_MAKER" and "timeInForce" not in maker
    by_quote = dict(order_params(_order(OrderRequest(IID, Side.BUY, D(0), OrderType.MARKET, quote_quantity=D(50))), inst, False))
    assert by_quote["quoteOrderQty"] == D(50) and "quantity" not in by_quote and "timeInForce" not in by_quote
    post_only_futures = dict(order_params(_order(OrderRequest(IID, Side.SELL, D(1), OrderType.LIMIT, D(1),
                                                              time_in_force=TimeInForce.GTX, reduce_only=True)), inst, True))
    assert post_only_futures["timeInForce"] == "GTX" and post_only_futures["reduceOnly"] is True


def test_stop_orders_pick_stop_loss_or_take_profit_by_the_trigger_side() -> None:
    inst = parse_symbol(Venue.BINANCE, SYMBOL)
    buy_stop = _order(OrderRequest(IID, Side.BUY, D(1), OrderType.STOP_LIMIT, D("31010"), D("31000"), TimeInForce.IOC))
    params = dict(order_params(buy_stop, inst, False, reference=D(30000)))
    assert (params["type"], params["stopPrice"], params["timeInForce"]) == ("STOP_LOSS_LIMIT", D(31000), "IOC")
    assert stop_type("STOP_LOSS_LIMIT", Side.BUY, D(29000), D(30000)) == "TAKE_PROFIT_LIMIT"
    assert stop_type("STOP_LOSS", Side.SELL, D(31000), D(30000)) == "TAKE_PROFIT"
    assert stop_type("STOP_LOSS", Side.SELL, D(29000), D(30000)) == "STOP_LOSS"
    with pytest.raises(ValidationError, match="algo"):
        order_params(buy_stop, inst, True)


def test_replace_chain_hides_the_replaced_cancel_and_counts_from_the_first_order() -> None:
    chains = ReplaceChains()

    def report(vid: str, status: OrderStatus, filled: str, qty: str, avg: str | None = None) -> VenueOrderReport:
        return VenueOrderReport(Venue.BINANCE, ClientOrderId("SQ1"), vid, status, IID, D(filled), D(avg) if avg else None,
                                D(100), D(qty))

    chains.begin("SQ1", "1")
    cancel = report("1", OrderStatus.CANCELLED, "0.4", "1", "100")
    assert chains.hides(cancel)
    chains.replaced("SQ1", "1", D("0.4"), D(40))
    fresh = chains.adjust(report("2", OrderStatus.OPEN, "0", "0.6"))
    assert (fresh.filled_quantity, fresh.quantity, fresh.average_price) == (D("0.4"), D(1), D(100))
    part = chains.adjust(report("2", OrderStatus.PARTIALLY_FILLED, "0.2", "0.6", "110"))
    assert part.filled_quantity == D("0.6") and part.average_price == (D(40) + D(22)) / D("0.6")
    late_old_fill = chains.adjust(report("1", OrderStatus.PARTIALLY_FILLED, "0.4", "1", "100"))
    assert late_old_fill.filled_quantity == D("0.4")  # the old order keeps its own base (none)
    assert not chains.hides(report("2", OrderStatus.CANCELLED, "0.2", "0.6"))
