"""EMA crossover on BTCUSDT 1-minute bars: long when the fast EMA crosses above the slow, flat below.

With stop_pct > 0, every entry is protected by a sell stop (stop-market) that far below its fill
price; a crossing down cancels the stop and sells. The stop can trigger in the same moment the exit
is on its way (live as in the backtest), so a position that ends up short is bought back.

Runs unchanged live, on the emulator and in the backtester.
"""
from decimal import ROUND_DOWN, Decimal

from core.domain import Side
from core.indicators.moving import EmaState
from core.strategy import Param, Strategy


class EmaCrossover(Strategy):
    instruments = ("BTCUSDT.BINANCE",)
    timeframes = ("1m",)
    fast = Param(9, "fast EMA length (bars)", minimum=2)
    slow = Param(21, "slow EMA length (bars)", minimum=3)
    size = Param(Decimal("0.01"), "order size (BTC)", minimum=Decimal("0.00001"))
    stop_pct = Param(0.0, "protective stop below the entry, % (0: none)", minimum=0.0, maximum=50.0)
    tick = Param(Decimal("0.01"), "price tick, for the stop's trigger", minimum=Decimal("0.00000001"))

    def on_start(self) -> None:
        if self.fast >= self.slow:
            raise ValueError("fast must be shorter than slow")
        self.fast_ema, self.slow_ema = EmaState(self.fast), EmaState(self.slow)
        self.long = False
        self.prev_diff: float | None = None
        self.held = Decimal(0)  # the position, from our fills
        self.protected = False  # a protective stop is working

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
            self._exit()

    def on_fill(self, fill) -> None:
        self.held += fill.side.sign * fill.quantity
        if fill.side is Side.SELL and self.long:  # only the stop sells while we are long
            self.long = self.protected = False
        elif fill.side is Side.BUY and self.long and self.stop_pct > 0 and not self.protected:
            trigger = (fill.price * Decimal(str(1 - self.stop_pct / 100)) / self.tick).to_integral_value(ROUND_DOWN) * self.tick
            self.ctx.sell(fill.instrument_id, self.size, trigger_price=trigger)
            self.protected = True
        if self.held < 0:  # the stop and an exit both sold
            self.ctx.buy(fill.instrument_id, -self.held)

    def _exit(self) -> None:
        iid = self.instrument_ids()[0]
        if self.protected:
            self.ctx.cancel_all(iid)
            self.protected = False
        self.ctx.sell(iid, self.size)
        self.long = False

    def on_stop(self) -> None:
        if self.long:
            self._exit()
