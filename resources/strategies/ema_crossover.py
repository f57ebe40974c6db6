"""EMA crossover on BTCUSDT 1-minute bars: long when the fast EMA crosses above the slow, flat below.

Runs unchanged live, on the emulator and in the backtester.
"""
from decimal import Decimal

from core.indicators.moving import EmaState
from core.strategy import Param, Strategy


class EmaCrossover(Strategy):
    instruments = ("BTCUSDT.BINANCE",)
    timeframes = ("1m",)
    fast = Param(9, "fast EMA length (bars)", minimum=2)
    slow = Param(21, "slow EMA length (bars)", minimum=3)
    size = Param(Decimal("0.01"), "order size (BTC)", minimum=Decimal("0.00001"))

    def on_start(self) -> None:
        if self.fast >= self.slow:
            raise ValueError("fast must be shorter than slow")
        self.fast_ema, self.slow_ema = EmaState(self.fast), EmaState(self.slow)
        self.long = False
        self.prev_diff: float | None = None

    def on_bar(self, bar) -> None:
        if not bar.closed:
            return
        diff = self.fast_ema.update(float(bar.close)) - self.slow_ema.update(float(bar.close))
        if diff != diff:  # NaN while the slow EMA warms up
            return
        crossed_up = self.prev_diff is not None and self.prev_diff <= 0 < diff
        crossed_down = self.prev_diff is not None and self.prev_diff >= 0 > diff
        self.prev_diff = diff
        self.ctx.record("ema_diff", diff)
        if crossed_up and not self.long:
            self.ctx.buy(bar.instrument_id, self.size)
            self.long = True
        elif crossed_down and self.long:
            self.ctx.sell(bar.instrument_id, self.size)
            self.long = False

    def on_stop(self) -> None:
        if self.long:
            self.ctx.sell(self.instrument_ids()[0], self.size)
            self.long = False
