"""Helpers for backtest tests (imported by name: conftest.py puts this folder on sys.path)."""
from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

from core.domain import BarEvent, Fill, Instrument, InstrumentId, InstrumentKind, Order, Venue
from core.strategy import Param, Strategy

ROOT = Path(__file__).resolve().parents[3]
EMA_PATH = ROOT / "resources" / "strategies" / "ema_crossover.py"
BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
ETH = InstrumentId(Venue.BINANCE, "ETHUSDT")
MINUTE = 60 * 10**9
T0 = 1_704_067_200 * 10**9  # 2024-01-01 00:00 UTC


def spot(iid: InstrumentId) -> Instrument:
    return Instrument(iid, InstrumentKind.SPOT, "SPOT", D("0.01"), D("0.001"), quote_currency="USDT",
                      base_currency=iid.symbol[:3])


def bars(prices: list[tuple[str, str, str, str]], iid: InstrumentId = BTC, start: int = T0) -> list[BarEvent]:
    """1-minute bars from (open, high, low, close) strings."""
    return [BarEvent(iid, "1m", start + k * MINUTE, D(o), D(h), D(l), D(c), D(1), True)
            for k, (o, h, l, c) in enumerate(prices)]


def flat_bars(n: int, price: str = "100", iid: InstrumentId = BTC) -> list[BarEvent]:
    return bars([(price, price, price, price)] * n, iid)


class Scripted(Strategy):
    """Places the orders of `plan` (bar index -> list of ctx.buy/sell keyword dicts) and records what it hears."""

    instruments = ("BTCUSDT.BINANCE",)
    plan: dict[int, list[dict[str, Any]]] = {}

    def on_start(self) -> None:
        self.seen = 0
        self.fills: list[tuple[int, Fill]] = []
        self.orders: list[tuple[int, Order]] = []
        self.placed: list[Order | None] = []

    def on_bar(self, bar: BarEvent) -> None:
        for spec in self.plan.get(self.seen, []):
            spec = dict(spec)
            side = spec.pop("side")
            iid = spec.pop("instrument_id", bar.instrument_id)
            self.placed.append(getattr(self.ctx, side)(iid, **spec))
        self.seen += 1

    def on_fill(self, fill: Fill) -> None:
        self.fills.append((self.ctx.now_ns(), fill))

    def on_order(self, order: Order) -> None:
        self.orders.append((self.ctx.now_ns(), order))


def scripted(plan: dict[int, list[dict[str, Any]]], **attrs: Any) -> type[Scripted]:
    """A Scripted subclass with its own plan (and class attributes such as instruments)."""
    return type("ScriptedPlan", (Scripted,), {"plan": plan, **attrs})


class Raiser(Strategy):
    """Buys once, then raises on every bar from the third on."""

    instruments = ("BTCUSDT.BINANCE",)
    size = Param(D("1"), "order size")

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: BarEvent) -> None:
        self.n += 1
        if self.n == 1:
            self.ctx.buy(bar.instrument_id, self.size, D("1"))  # a resting bid far below: cancelled on failure
        if self.n >= 3:
            raise RuntimeError("boom")
