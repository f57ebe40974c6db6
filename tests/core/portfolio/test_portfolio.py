from __future__ import annotations

from decimal import Decimal

import pytest

from core.bus import EventBus
from core.domain import (ClientOrderId, Fill, Instrument, InstrumentId, InstrumentKind, OptionRight, Order, OrderRequest,
                         Position, Product, Side, Tick, Venue)
from core.instruments import InstrumentCatalog
from core.portfolio import CostMethod, Greeks, MarkMode, Portfolio, PositionChanged
from core.trading.events import FillApplied

D = Decimal
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
ETH = InstrumentId(Venue.BINANCE, "ETHUSDT")
RELIANCE = InstrumentId(Venue.ZERODHA, "RELIANCE")
CALL = InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE")
PUT = InstrumentId(Venue.ZERODHA, "NIFTY25DEC24000PE")
CATALOG = InstrumentCatalog([
    Instrument(BTC, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.001"), "USDT", "BTC"),
    Instrument(ETH, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.001"), "USDT", "ETH"),
    Instrument(RELIANCE, InstrumentKind.EQUITY, "NSE", D("0.05"), D(1)),
    Instrument(CALL, InstrumentKind.OPTION, "NFO", D("0.05"), D(75), strike=D(25000), right=OptionRight.CALL,
               underlying="NIFTY"),
    Instrument(PUT, InstrumentKind.OPTION, "NFO", D("0.05"), D(75), strike=D(24000), right=OptionRight.PUT,
               underlying="NIFTY"),
])
_trades = iter(range(1, 10_000))


def fill(iid: InstrumentId, side: Side, qty: str, price: str, fee: str = "0", fee_ccy: str = "", ts: int = 10,
         product: Product = Product.SPOT) -> Fill:
    return Fill(ClientOrderId("c"), "v", f"T{next(_trades)}", iid, side, D(qty), D(price), D(fee), fee_ccy, ts,
                product=product)


def tick(iid: InstrumentId, last: str | None = None, bid: str | None = None, ask: str | None = None,
         close: str | None = None) -> Tick:
    return Tick(iid, 1, last_price=D(last) if last else None, bid=D(bid) if bid else None, ask=D(ask) if ask else None,
                close=D(close) if close else None)


def test_fills_from_the_bus_move_positions_and_publish_changes() -> None:
    bus = EventBus()
    pf = Portfolio(bus, CATALOG)
    pf.start()
    changes: list[PositionChanged] = []
    bus.subscribe(PositionChanged, changes.append)
    f = fill(BTC, Side.BUY, "0.5", "50000")
    order = Order(ClientOrderId("c"), OrderRequest(BTC, Side.BUY, D("0.5"), price=D(50000)))
    bus.publish(FillApplied(f, order))
    assert pf.position_quantity(BTC) == D("0.5") and changes[0].view.average_price == 50000
    pf.stop()
    bus.publish(FillApplied(fill(BTC, Side.BUY, "0.5", "50000"), order))
    assert pf.position_quantity(BTC) == D("0.5")


def test_fees_in_quote_base_and_other_assets() -> None:
    pf = Portfolio(EventBus(), CATALOG)
    pf.apply_fill(fill(BTC, Side.BUY, "1", "50000", fee="5", fee_ccy="USDT"))
    pf.apply_fill(fill(BTC, Side.SELL, "0.5", "52000", fee="0.0001", fee_ccy="BTC"))  # valued at the fill price: 5.2
    view = pf.apply_fill(fill(BTC, Side.SELL, "0.5", "52000", fee="0.01", fee_ccy="BNB"))
    assert (view.realised_pnl, view.fees, view.net_pnl) == (D(2000), D("10.2"), D("1989.8"))
    assert pf.other_fees == {(Venue.BINANCE, "BNB"): D("0.01")}


def test_marks_last_or_mid_with_fallback() -> None:
    pf = Portfolio(EventBus(), CATALOG, mark=MarkMode.MID)
    pf.apply_fill(fill(BTC, Side.BUY, "2", "100"))
    assert pf.mark(BTC) is None and pf.views()[0].unrealised_pnl == 0
    pf.on_tick(tick(BTC, last="103"))
    assert pf.mark(BTC) == 103  # no mid yet: the last price
    pf.on_tick(tick(BTC, bid="104", ask="106"))
    assert pf.mark(BTC) == 105 and pf.views()[0].unrealised_pnl == 10
    pf.mark_mode = MarkMode.LAST
    assert pf.views()[0].unrealised_pnl == 6


def test_day_pnl_values_carried_positions_at_the_previous_close() -> None:
    pf = Portfolio(EventBus(), CATALOG)
    pf.load([fill(RELIANCE, Side.BUY, "10", "100", ts=1, product=Product.CNC),
             fill(RELIANCE, Side.BUY, "10", "106", ts=50, product=Product.CNC),
             fill(RELIANCE, Side.SELL, "5", "110", ts=60, product=Product.CNC)], day_start_ns=10)
    pf.on_tick(tick(RELIANCE, last="108", close="105"))
    view = pf.views()[0]
    # average cost: 20 @ 103, sold 5 @ 110 -> realised 35; 15 held marked at 108 -> unrealised 75;
    # the 10 carried in were worth 105 at the start of the day, 50 above their cost: day P&L 35 + 75 - 50.
    assert (view.quantity, view.average_price, view.realised_pnl, view.unrealised_pnl) == (15, 103, 35, 75)
    assert view.day_pnl == 60
    pf.roll_day()
    assert pf.views()[0].day_pnl == 0


def test_day_pnl_fifo_on_the_same_day() -> None:
    pf = Portfolio(EventBus(), CATALOG, method=CostMethod.FIFO)
    pf.load([], day_start_ns=0)
    for f in (fill(RELIANCE, Side.BUY, "10", "100"), fill(RELIANCE, Side.BUY, "10", "110"),
              fill(RELIANCE, Side.SELL, "15", "120", fee="3")):
        pf.apply_fill(f)
    pf.on_tick(tick(RELIANCE, last="115"))
    view = pf.views()[0]
    assert (view.realised_pnl, view.unrealised_pnl, view.fees) == (D(250), D(25), D(3))  # 10x20 + 5x10; 5x(115-110)
    assert view.day_pnl == 272


def test_exposure_and_totals_per_venue() -> None:
    pf = Portfolio(EventBus(), CATALOG)
    pf.apply_fill(fill(BTC, Side.BUY, "1", "50000"))
    pf.apply_fill(fill(ETH, Side.SELL, "10", "3000"))
    pf.apply_fill(fill(RELIANCE, Side.BUY, "5", "2500", product=Product.CNC))
    pf.on_tick(tick(BTC, last="51000"))
    pf.on_tick(tick(ETH, last="2900"))
    pf.set_margin_used(Venue.BINANCE, D(12345))
    totals = pf.totals(Venue.BINANCE)
    assert (totals.gross_exposure, totals.net_exposure) == (D(80000), D(22000))
    assert totals.unrealised_pnl == 2000 and totals.margin_used == 12345
    assert pf.gross_exposure(Venue.ZERODHA) == D(12500) and pf.totals(Venue.ZERODHA).margin_used is None
    assert [p.instrument_id for p in pf.positions(Venue.BINANCE)] == [BTC, ETH]


def test_option_greeks_per_position_and_in_total() -> None:
    per_unit = {CALL: Greeks(0.5, 0.001, 12.0, -8.0), PUT: Greeks(-0.3, 0.002, 10.0, -6.0)}
    pf = Portfolio(EventBus(), CATALOG, greeks=lambda inst: per_unit.get(inst.id))
    pf.apply_fill(fill(CALL, Side.BUY, "150", "200", product=Product.NRML))
    pf.apply_fill(fill(PUT, Side.SELL, "75", "150", product=Product.NRML))
    pf.apply_fill(fill(RELIANCE, Side.BUY, "1", "2500", product=Product.CNC))
    views = {v.instrument_id: v for v in pf.views()}
    assert views[CALL].greeks == Greeks(75.0, 0.15, 1800.0, -1200.0)
    assert views[RELIANCE].greeks is None
    totals = pf.totals(Venue.ZERODHA)
    assert totals.greeks.delta == pytest.approx(75 + 22.5)
    assert totals.greeks.vega == pytest.approx(1800 - 750)
    assert set(totals.greeks_by_underlying) == {"NIFTY"}


def test_adopting_a_venue_position() -> None:
    pf = Portfolio(EventBus(), CATALOG)
    pf.on_tick(tick(RELIANCE, last="2500"))
    pf.adopt(Position(RELIANCE, Product.CNC, D(10), D(2400)))
    view = pf.views()[0]
    assert (view.quantity, view.unrealised_pnl, view.day_pnl) == (10, 1000, 0)
    pf.on_tick(tick(RELIANCE, last="2510", close="2490"))
    assert pf.views()[0].day_pnl == 200
