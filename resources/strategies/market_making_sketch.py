"""A market-making sketch on BTCUSDT: quote one bid and one ask `half_spread_ticks` around the mid,
requote when the mid moves by `requote_ticks`, and skew quotes against inventory so it stays within
`max_inventory`. A sketch to learn from, not a production market maker (no queue position model,
no adverse-selection guard)."""
from decimal import Decimal

from core.domain import Side
from core.strategy import Param, Strategy


class MarketMakingSketch(Strategy):
    instruments = ("BTCUSDT.BINANCE",)
    size = Param(Decimal("0.001"), "quote size (BTC)")
    half_spread_ticks = Param(5, "distance of each quote from the mid, in ticks", minimum=1)
    requote_ticks = Param(3, "requote when the mid moved this many ticks", minimum=1)
    max_inventory = Param(Decimal("0.01"), "largest position either way (BTC)")
    tick_size = Param(Decimal("0.01"), "instrument tick")

    def on_start(self) -> None:
        self.quoted_mid: Decimal | None = None
        self.inventory = Decimal(0)

    def on_tick(self, tick) -> None:
        if tick.bid is None or tick.ask is None:
            return
        mid = (tick.bid + tick.ask) / 2
        if self.quoted_mid is not None and abs(mid - self.quoted_mid) < self.requote_ticks * self.tick_size:
            return
        self.ctx.cancel_all(tick.instrument_id)
        skew = (self.inventory / self.max_inventory) * self.half_spread_ticks * self.tick_size
        half = self.half_spread_ticks * self.tick_size
        bid = ((mid - half - skew) / self.tick_size).to_integral_value() * self.tick_size
        ask = ((mid + half - skew) / self.tick_size).to_integral_value() * self.tick_size
        if self.inventory + self.size <= self.max_inventory:
            self.ctx.buy(tick.instrument_id, self.size, bid)
        if self.inventory - self.size >= -self.max_inventory:
            self.ctx.sell(tick.instrument_id, self.size, ask)
        self.quoted_mid = mid

    def on_fill(self, fill) -> None:
        self.inventory += fill.quantity if fill.side is Side.BUY else -fill.quantity
        self.ctx.record("inventory", float(self.inventory))
