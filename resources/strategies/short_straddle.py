"""Short straddle on NIFTY: sell the ATM call and put of the nearest expiry once the index is known,
and buy both back if their combined premium rises by `stop_pct` percent (or when stopped)."""
from decimal import Decimal

from core.domain import InstrumentId, OptionRight, Side
from core.strategy import Param, Strategy


class ShortStraddle(Strategy):
    instruments = ("NIFTY 50.ZERODHA",)
    underlyings = ("NIFTY",)
    lots = Param(1, "lots per leg", minimum=1, maximum=5)
    stop_pct = Param(30.0, "stop when the straddle premium rises this much (%)", minimum=1.0)

    def on_start(self) -> None:
        self.legs: list[InstrumentId] = []
        self.entry_premium: Decimal | None = None
        self.sold_at: dict[InstrumentId, Decimal] = {}
        self.closed = False

    def on_tick(self, tick) -> None:
        if tick.instrument_id == self.instrument_ids()[0]:
            if not self.legs and tick.last_price is not None:
                self._open(tick.last_price)
            return
        if self.entry_premium is None or self.closed:
            return
        prices = [self.ctx.last_price(leg) for leg in self.legs]
        if None in prices:
            return
        premium = sum(prices)
        self.ctx.record("straddle_premium", float(premium))
        if premium >= self.entry_premium * Decimal(1 + self.stop_pct / 100):
            self.log.warning("stop hit: premium %s vs entry %s", premium, self.entry_premium)
            self._close()

    def _open(self, spot: Decimal) -> None:
        options = [i for i in self.ctx.derivatives("NIFTY") if i.right is not None]
        if not options:
            raise ValueError("no NIFTY options listed")
        expiry = min(o.expiry for o in options)
        chain = [o for o in options if o.expiry == expiry]
        atm = min({o.strike for o in chain}, key=lambda k: abs(k - spot))
        call = next(o for o in chain if o.strike == atm and o.right is OptionRight.CALL)
        put = next(o for o in chain if o.strike == atm and o.right is OptionRight.PUT)
        self.legs = [call.id, put.id]
        self.qty = call.lot_size * self.lots
        self.ctx.subscribe(self.legs)
        for leg in self.legs:
            self.ctx.sell(leg, self.qty)
        self.log.info("sold %s and %s, %s each", call.symbol, put.symbol, self.qty)

    def on_fill(self, fill) -> None:
        if fill.side is Side.SELL and fill.instrument_id in self.legs and not self.closed:
            self.sold_at[fill.instrument_id] = fill.price
            if len(self.sold_at) == len(self.legs):
                self.entry_premium = sum(self.sold_at.values())
                self.log.info("straddle sold for %s", self.entry_premium)

    def _close(self) -> None:
        for leg in self.legs:
            self.ctx.buy(leg, self.qty)
        self.closed = True

    def on_stop(self) -> None:
        if self.legs and not self.closed:
            self._close()
