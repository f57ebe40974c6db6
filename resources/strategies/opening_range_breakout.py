"""Opening-range breakout on the NIFTY future: the high and low of the first 15 minutes (09:15-09:30
IST) set the range; a 1-minute close above it buys one lot, below it sells one lot; one trade a day,
a stop at the other side of the range, and everything is closed at 15:15 IST."""
from datetime import datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.strategy import Param, Strategy

IST = ZoneInfo("Asia/Kolkata")


class OpeningRangeBreakout(Strategy):
    underlyings = ("NIFTY",)  # trades the nearest NIFTY future, found at start
    timeframes = ("1m",)
    lots = Param(1, "lots per trade", minimum=1, maximum=10)
    range_minutes = Param(15, "opening range length", minimum=5, maximum=60)

    def on_start(self) -> None:
        futures = [i for i in self.ctx.derivatives("NIFTY") if i.kind.value == "future"]
        if not futures:
            raise ValueError("no NIFTY future listed")
        nearest = min(futures, key=lambda i: i.expiry)
        self.future, self.lot_size = nearest.id, nearest.lot_size
        self.ctx.subscribe([self.future])
        self.day = None
        self.high = self.low = None
        self.position = 0  # +1 long, -1 short
        self.traded = False

    def on_bar(self, bar) -> None:
        if not bar.closed or bar.instrument_id != self.future:
            return
        ts = datetime.fromtimestamp(bar.start_ns / 1e9, timezone.utc).astimezone(IST)
        if ts.date() != self.day:
            self.day, self.high, self.low, self.traded = ts.date(), None, None, False
        minutes = (ts.hour * 60 + ts.minute) - (9 * 60 + 15)
        qty = self.lot_size * self.lots
        if 0 <= minutes < self.range_minutes:
            self.high = bar.high if self.high is None else max(self.high, bar.high)
            self.low = bar.low if self.low is None else min(self.low, bar.low)
            return
        if self.high is None:
            return
        if ts.time() >= time(15, 15):
            self._flatten(bar.instrument_id, qty)
            return
        if self.position == 0 and not self.traded:
            if bar.close > self.high:
                self.ctx.buy(bar.instrument_id, qty)
                self.position, self.traded = 1, True
            elif bar.close < self.low:
                self.ctx.sell(bar.instrument_id, qty)
                self.position, self.traded = -1, True
        elif (self.position > 0 and bar.close < self.low) or (self.position < 0 and bar.close > self.high):
            self._flatten(bar.instrument_id, qty)

    def _flatten(self, instrument_id, qty: Decimal) -> None:
        if self.position > 0:
            self.ctx.sell(instrument_id, qty)
        elif self.position < 0:
            self.ctx.buy(instrument_id, qty)
        self.position = 0
