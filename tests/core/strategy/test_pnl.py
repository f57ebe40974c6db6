"""Per-strategy P&L: fills are attributed by their order's source tag, valued as the portfolio values them."""
from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import ClientOrderId, Fill, InstrumentId, Order, OrderRequest, OrderType, Side, Venue
from core.strategy.pnl import StrategyPnl, strategy_of

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
NIFTY = InstrumentId(Venue.ZERODHA, "NIFTY24DECFUT")


def order(cid: str, source: str, iid: InstrumentId = BTC, side: Side = Side.BUY) -> Order:
    return Order(ClientOrderId(cid), OrderRequest(iid, side, D(1), OrderType.MARKET, source=source))


def fill(cid: str, side: Side, qty: str, price: str, trade: str, iid: InstrumentId = BTC, fee: str = "0") -> Fill:
    return Fill(ClientOrderId(cid), "V", trade, iid, side, D(qty), D(price), D(fee))


def test_strategy_of_reads_the_source_tag() -> None:
    assert strategy_of(order("a", "strategy:ema1")) == "ema1"
    assert strategy_of(order("b", "console")) is None and strategy_of(order("c", "ui")) is None


def test_fills_are_attributed_by_the_order_source_and_counted_once() -> None:
    book = StrategyPnl()
    book.on_order(order("e1", "strategy:ema1"))
    book.on_order(order("e2", "strategy:ema1", side=Side.SELL))
    book.on_order(order("m1", "strategy:mm2"))
    book.on_order(order("u1", "ui"))
    assert book.on_fill(fill("e1", Side.BUY, "0.02", "100", "t1", fee="0.1")) == "ema1"
    assert book.on_fill(fill("e1", Side.BUY, "0.02", "100", "t1", fee="0.1")) is None  # the same fill again
    assert book.on_fill(fill("u1", Side.BUY, "5", "100", "t2")) is None  # not a strategy's
    assert book.on_fill(fill("m1", Side.BUY, "1", "99", "t3")) == "mm2"
    book.on_fill(fill("e2", Side.SELL, "0.01", "110", "t4", fee="0.05"))
    ema = book.summary("ema1", lambda iid: D("120"))
    assert ema.realised == D("0.1") and ema.unrealised == D("0.2") and ema.fees == D("0.15")
    (position,) = ema.open_positions
    assert position.quantity == D("0.01") and position.average_price == D("100")
    assert book.summary("mm2", lambda iid: None).unrealised is None  # an open position without a mark
    assert book.summary("nobody", lambda iid: D(1)).positions == ()


def test_multiplier_and_a_closed_position() -> None:
    book = StrategyPnl(lambda iid: D(25) if iid == NIFTY else D(1))
    book.on_order(order("n1", "strategy:orb1", NIFTY))
    book.on_order(order("n2", "strategy:orb1", NIFTY, Side.SELL))
    book.on_fill(fill("n1", Side.BUY, "50", "24000", "t1", NIFTY))
    book.on_fill(fill("n2", Side.SELL, "50", "24010.5", "t2", NIFTY))
    summary = book.summary("orb1", lambda iid: None)  # flat: no mark needed
    assert summary.realised == D("13125.0") and summary.unrealised == 0 and summary.open_positions == ()
    assert len(summary.positions) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 50), st.integers(90, 110)), min_size=1,
                max_size=30), st.integers(80, 120))
def test_realised_plus_unrealised_is_the_cash_flow(trades: list[tuple[Side, int, int]], mark: int) -> None:
    book = StrategyPnl()
    cash, held = D(0), D(0)
    for k, (side, qty, price) in enumerate(trades):
        book.on_order(order(f"o{k}", "strategy:s", side=side))
        book.on_fill(fill(f"o{k}", side, str(qty), str(price), f"t{k}"))
        cash -= side.sign * qty * price
        held += side.sign * qty
    summary = book.summary("s", lambda iid: D(mark))
    assert summary.unrealised is not None
    # equal up to the average price's division (28 significant digits)
    assert abs(summary.realised + summary.unrealised - (cash + held * mark)) < D("1e-20")
