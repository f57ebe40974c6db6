from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from core.bus import EventBus
from core.domain import (ClientOrderId, Instrument, InstrumentId, InstrumentKind, Order, OrderRequest, OrderStatus,
                         OrderType, Position, Product, Side, Venue)
from core.errors import RiskRejected
from core.risk import FreezeMode, RiskEngine, RiskLimits, RiskProfile, RiskRejection, default_profile
from core.risk.rate import OrderRateLimiter

NIFTY = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DECFUT"), InstrumentKind.FUTURE, "NFO", Decimal("0.05"),
                   Decimal(75), underlying="NIFTY")
BANKNIFTY = Instrument(InstrumentId(Venue.ZERODHA, "BANKNIFTY25DECFUT"), InstrumentKind.FUTURE, "NFO", Decimal("0.05"),
                       Decimal(35), underlying="BANKNIFTY", freeze_quantity=Decimal(600))
BTC = Instrument(InstrumentId(Venue.BINANCE, "BTCUSDT"), InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.001"),
                 quote_currency="USDT")


@dataclass
class Market:
    prices: dict[InstrumentId, Decimal] = field(default_factory=dict)
    stale: bool = False

    def last_price(self, iid: InstrumentId) -> Decimal | None:
        return self.prices.get(iid)

    def age_s(self, iid: InstrumentId) -> float | None:
        return 0.5

    def is_stale(self, iid: InstrumentId, max_age_s: float = 2.0) -> bool:
        return self.stale


@dataclass
class Book:
    held: dict[InstrumentId, Decimal] = field(default_factory=dict)
    pnl: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)

    def position_quantity(self, iid: InstrumentId) -> Decimal:
        return self.held.get(iid, Decimal(0))

    def positions(self, venue: Venue | None = None) -> list[Position]:
        return [Position(i, Product.NRML, q, Decimal(1)) for i, q in self.held.items() if venue in (None, i.venue)]

    def gross_exposure(self, venue: Venue) -> Decimal:
        return self.gross

    def day_pnl(self, venue: Venue) -> Decimal:
        return self.pnl


@dataclass
class Orders:
    working: list[Order] = field(default_factory=list)
    ready: bool = True

    def open_orders(self, venue: Venue | None = None, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [o for o in self.working if instrument_id in (None, o.instrument_id)]

    def working_quantity(self, instrument_id: InstrumentId, side: Side) -> Decimal:
        return sum((o.leaves_quantity for o in self.working if o.instrument_id == instrument_id and o.side is side),
                   Decimal(0))

    def working_count(self, venue: Venue | None = None) -> int:
        return len(self.working)

    def is_ready(self, venue: Venue) -> bool:
        return self.ready


@dataclass
class Kill:
    engaged: bool = False
    reason: str = ""


@dataclass
class Audit:
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def audit(self, kind: str, detail: dict[str, Any]) -> int:
        self.entries.append((kind, detail))
        return len(self.entries)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    engine: RiskEngine
    market: Market
    book: Book
    orders: Orders
    kill: Kill
    audit: Audit
    clock: Clock
    events: list[RiskRejection]


def rig(profile: RiskProfile | None = None, **default_limits: object) -> Rig:
    market = Market({NIFTY.id: Decimal(25000), BANKNIFTY.id: Decimal(55000), BTC.id: Decimal(50000)})
    book, orders, kill, audit, clock = Book(), Orders(), Kill(), Audit(), Clock()
    bus = EventBus()
    events: list[RiskRejection] = []
    bus.subscribe(RiskRejection, events.append)
    profile = profile or RiskProfile.from_dict({"default": default_limits})
    engine = RiskEngine(profile, market, book, orders, kill_switch=kill, freeze_limits={"NIFTY": Decimal(1800)},
                        audit=audit, bus=bus, clock_ns=lambda: 5, monotonic=clock)
    return Rig(engine, market, book, orders, kill, audit, clock, events)


def nifty(qty: int = 75, side: Side = Side.BUY, kind: OrderType = OrderType.LIMIT, price: str = "25000") -> OrderRequest:
    return OrderRequest(NIFTY.id, side, Decimal(qty), kind, price=Decimal(price) if kind.has_price else None,
                        product=Product.NRML, source="hotkey")


def test_an_accepted_order_passes_through_unchanged() -> None:
    r = rig()
    assert r.engine.check(nifty(), NIFTY) == [nifty()]


def test_a_rejection_is_raised_audited_published_and_kept() -> None:
    r = rig(max_order_value="1000000")
    with pytest.raises(RiskRejected, match=r"max_order_value: 1,875,000.00 INR > limit 1,000,000.00 INR") as err:
        r.engine.check(nifty(), NIFTY)
    assert err.value.rule == "max_order_value"
    kind, detail = r.audit.entries[0]
    assert kind == "risk_reject" and detail["rule"] == "max_order_value" and detail["source"] == "hotkey"
    assert r.events[0].rejection.message == "1,875,000.00 INR > limit 1,000,000.00 INR"
    assert list(r.engine.recent_rejections) == [r.events[0].rejection]
    assert r.engine.rate.usage(Venue.ZERODHA).per_second == 0  # a rejection uses no rate budget


def test_freeze_quantity_splits_in_whole_lots_or_rejects() -> None:
    r = rig()
    slices = r.engine.check(nifty(4500), NIFTY)
    assert [s.quantity for s in slices] == [Decimal(1800), Decimal(1800), Decimal(900)]
    assert r.engine.rate.usage(Venue.ZERODHA).per_second == 3
    odd = rig().engine.check(OrderRequest(BANKNIFTY.id, Side.SELL, Decimal(1400), OrderType.LIMIT,
                                          price=Decimal(55000), product=Product.NRML), BANKNIFTY)
    assert [s.quantity for s in odd] == [Decimal(595), Decimal(595), Decimal(210)]  # 600 is not whole lots of 35
    strict = rig(freeze_mode="REJECT")
    with pytest.raises(RiskRejected, match="freeze_quantity: 1,875 > freeze limit 1,800 for NIFTY"):
        strict.engine.check(nifty(1875), NIFTY)
    assert rig().engine.check(nifty(1800), NIFTY) == [nifty(1800)]


def test_freeze_does_not_apply_to_cash_or_crypto() -> None:
    req = OrderRequest(BTC.id, Side.BUY, Decimal(5000), OrderType.LIMIT, price=Decimal(50000))
    assert rig().engine.check(req, BTC) == [req]


def test_max_open_orders_counts_the_slices() -> None:
    r = rig(max_open_orders=3)
    r.orders.working = [Order(ClientOrderId("w"), nifty(), OrderStatus.OPEN)]
    r.engine.check(nifty(3600), NIFTY)  # 1 working + 2 slices
    with pytest.raises(RiskRejected, match="max_open_orders: 4 working orders on ZERODHA > limit 3"):
        r.engine.check(nifty(5400), NIFTY)


def test_order_rate_per_second_per_exchange_minute_and_day() -> None:
    r = rig(orders_per_second=10, orders_per_minute=15, orders_per_day=20)
    for _ in range(10):
        r.engine.check(nifty(), NIFTY)
    with pytest.raises(RiskRejected, match="order_rate: 11 orders in 1 s on NFO > limit 10/s"):
        r.engine.check(nifty(), NIFTY)
    assert r.engine.wait_s(NIFTY) == pytest.approx(1.0)
    r.clock.now += 1.0
    assert r.engine.wait_s(NIFTY) == 0
    for _ in range(5):
        r.engine.check(nifty(), NIFTY)
    with pytest.raises(RiskRejected, match="order_rate: 16 orders in 1 min on ZERODHA > limit 15/min"):
        r.engine.check(nifty(), NIFTY)
    r.clock.now += 60
    for _ in range(5):
        r.engine.check(nifty(), NIFTY)
    with pytest.raises(RiskRejected, match="order_rate: 21 orders today on ZERODHA > limit 20/day"):
        r.engine.check(nifty(), NIFTY)


def test_the_gates_come_first() -> None:
    r = rig(max_order_value="1")
    r.orders.ready = False
    with pytest.raises(RiskRejected, match="venue_not_reconciled: ZERODHA is not reconciled"):
        r.engine.check(nifty(), NIFTY)
    r.orders.ready = True
    r.kill.engaged, r.kill.reason = True, "manual"
    with pytest.raises(RiskRejected, match=r"kill_switch: engaged \(manual\)"):
        r.engine.check(nifty(), NIFTY)
    r.book.held[NIFTY.id] = Decimal(75)
    exit_order = nifty(side=Side.SELL)
    assert r.engine.check(exit_order, NIFTY, exit=True) == [exit_order]  # exits pass the switch and size limits


def test_kite_market_orders_need_protection_by_default() -> None:
    r = rig(default_profile())
    with pytest.raises(RiskRejected, match="market_protection"):
        r.engine.check(nifty(kind=OrderType.MARKET), NIFTY)
    assert r.engine.check(nifty(kind=OrderType.MARKET), NIFTY, market_protection=Decimal(2))


def test_stale_feed_blocks_market_orders_only() -> None:
    r = rig()
    r.market.stale = True
    btc_market = OrderRequest(BTC.id, Side.BUY, Decimal(1), OrderType.MARKET)
    with pytest.raises(RiskRejected, match="stale_feed"):
        r.engine.check(btc_market, BTC)
    r.engine.check(nifty(), NIFTY)


def test_modify_is_checked_for_size_price_freeze_and_rate() -> None:
    r = rig(max_order_quantity=3000)
    working = Order(ClientOrderId("w"), nifty(), OrderStatus.OPEN)
    r.engine.check_modify(working, NIFTY, Decimal(25100), None, None)
    with pytest.raises(RiskRejected, match="price_band"):
        r.engine.check_modify(working, NIFTY, Decimal(30000), None, None)
    with pytest.raises(RiskRejected, match="freeze_quantity: modified quantity 1,875 > freeze limit 1,800"):
        r.engine.check_modify(working, NIFTY, None, Decimal(1875), None)
    assert r.engine.rate.usage(Venue.ZERODHA).per_second == 1


def test_snapshot_reports_usage_for_the_panel() -> None:
    r = rig(daily_loss_limit="10000", max_gross_exposure="1000000", max_position_quantity="300")
    r.book.held[NIFTY.id] = Decimal(-150)
    r.book.pnl, r.book.gross = Decimal(-12000), Decimal(400000)
    r.engine.check(nifty(side=Side.BUY), NIFTY)  # reducing: passes the halted daily loss
    with pytest.raises(RiskRejected, match="daily_loss"):
        r.engine.check(nifty(225, side=Side.BUY), NIFTY)
    snap = r.engine.snapshot(Venue.ZERODHA)
    usage = {u.name: (u.value, u.limit) for u in snap.usages}
    assert usage["daily_loss"] == (Decimal(12000), Decimal(10000))
    assert usage["gross_exposure"] == (Decimal(400000), Decimal(1000000))
    assert usage["max_position"] == (Decimal(150), Decimal(300))
    assert usage["orders_per_second"] == (Decimal(1), Decimal(10))
    assert usage["open_orders"] == (Decimal(0), Decimal(200))
    assert snap.halted and snap.ready and not snap.kill_switch_engaged
    assert [x.rule for x in snap.recent_rejections] == ["daily_loss"]
    assert r.engine.snapshot(Venue.BINANCE).recent_rejections == ()


def test_limits_load_from_toml_with_venue_overrides() -> None:
    profile = RiskProfile.from_toml("""
        [risk.default]
        max_order_value = "1000000"
        freeze_mode = "reject"
        [risk.BINANCE]
        max_order_value = 50000
        price_band_pct = "none"
    """)
    assert profile.for_venue(Venue.ZERODHA).max_order_value == Decimal(1000000)
    assert profile.for_venue(Venue.ZERODHA).require_market_protection
    binance = profile.for_venue(Venue.BINANCE)
    assert (binance.max_order_value, binance.price_band_pct, binance.freeze_mode) == (Decimal(50000), None,
                                                                                      FreezeMode.REJECT)
    assert profile.for_venue(Venue.BINANCE_USDM) == profile.default
    with pytest.raises(ValueError, match="unknown risk limit.*max_oder_value"):
        RiskLimits.from_dict({"max_oder_value": 1})
    with pytest.raises(ValueError, match="unknown risk table"):
        RiskProfile.from_dict({"NSE": {}})
    with pytest.raises(ValueError, match="require_market_protection"):
        RiskLimits.from_dict({"require_market_protection": "yes"})


def test_preview_says_what_check_would_without_recording_anything() -> None:
    r = rig(max_order_value="1000000", orders_per_second=1)
    assert r.engine.preview(nifty(), NIFTY) == ["max_order_value: 1,875,000.00 INR > limit 1,000,000.00 INR"]
    assert r.audit.entries == [] and r.events == [] and not r.engine.recent_rejections
    small = nifty(qty=75, price="10")
    assert r.engine.preview(small, NIFTY) != []  # price band: 10 is far from 25,000
    ok = nifty(qty=75, price="25000")
    r2 = rig(orders_per_second=1)
    for _ in range(3):
        assert r2.engine.preview(ok, NIFTY) == []  # previews use no rate budget
    r2.engine.check(ok, NIFTY)
    assert r2.engine.preview(ok, NIFTY)[0].startswith("order_rate:")
    r2.kill.engaged, r2.kill.reason = True, "test"
    assert r2.engine.preview(ok, NIFTY)[0].startswith("kill_switch: engaged (test)")


def test_the_daily_order_count_starts_again_at_midnight_utc() -> None:
    midnight_ns = int(datetime(2025, 12, 10, tzinfo=timezone.utc).timestamp()) * 10**9
    now = [midnight_ns - 1]  # 23:59:59.999999999 UTC
    limiter = OrderRateLimiter(lambda: now[0] / 1e9, lambda: now[0])
    limiter.record(Venue.ZERODHA, "NFO", 3)
    assert limiter.usage(Venue.ZERODHA).per_day == 3
    assert limiter.problem(Venue.ZERODHA, "NFO", 1, None, None, 3) == "4 orders today on ZERODHA > limit 3/day"
    now[0] = midnight_ns
    assert limiter.usage(Venue.ZERODHA).per_day == 0
    assert limiter.problem(Venue.ZERODHA, "NFO", 3, None, None, 3) is None
