"""Synthetic order flow that looks and moves like the real markets, deterministic for a seed.

Each book has a fair value: spot instruments, stocks and indices follow geometric Brownian motion in
real time at their own annual vol; futures follow their index with a carry basis; options are
Black-76 on their future with a volatility smile and skew plus a little noise. A market maker keeps a
ladder of resting orders around the fair value (sizes growing away from the touch), moving only the
levels that changed; takers send market orders of heavy-tailed size, more often in bursts. Option
open interest drifts. Binance books step every 100 ms, NSE books and indices every 300 ms, options every
second (NSE books and options taking turns, a slice of them each 100 ms).
"""
from __future__ import annotations

import asyncio
import logging
import math
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np

from core.domain import InstrumentKind, OrderType, Rounding, Side
from core.matching import EngineOrder

from .candles import MINUTE_NS

if TYPE_CHECKING:
    from ..exchange import Book, Exchange

log = logging.getLogger(__name__)
YEAR_S = 365.0 * 86400
RATE = 0.065
# The option market maker's mispricing (relative to Black-76): AR(1) in real time, sd 0.3%, correlation time 2 s.
# It was a fresh 0.3% draw at every step, so at --flow-rate 10 option quotes flickered ten times a second; with the
# underlying's moves, a book step then sent 16.9 cancels and new orders on average (of at most 20), now 13.8
# (151 -> 133 us a book step; 2,480 option steps a second at that rate).
QUOTE_NOISE_SD, QUOTE_NOISE_TAU_S = 0.003, 2.0


@dataclass
class Ladder:
    """The market maker's resting orders of one book, by price; deep_step is the grid of its deep levels."""

    bids: dict[Decimal, int] = field(default_factory=dict)
    asks: dict[Decimal, int] = field(default_factory=dict)
    deep_step: Decimal | None = None


@dataclass
class Profile:
    levels: int
    spread_frac: float  # full spread as a fraction of price (at least one tick)
    gap_ticks: int
    size: float  # typical touch size, in instrument units
    take_prob: float  # chance of a taker per step
    deep_levels: int = 0  # resting liquidity beyond the touch ladder, on a fixed price grid
    deep_step_frac: float = 0.0005  # that grid's step as a fraction of the first price (about 1.5 % out at 30 levels)


DEEP_LEVELS = 30  # a grouped ladder and the depth chart need a book beyond the touch, as on a real venue


def profile_of(book: "Book") -> Profile:
    inst = book.spec.instrument
    if book.spec.market == "spot":
        return Profile(20, 0.00002, max(1, int(book.fair * 1e-6 / float(inst.tick_size))), 2000 / book.fair, 0.5, DEEP_LEVELS)
    if book.spec.market == "usdm":
        return Profile(20, 0.00002, 1, 5000 / book.fair, 0.5, DEEP_LEVELS)
    if inst.kind is InstrumentKind.OPTION:
        return Profile(5, 0.01, 1, float(inst.lot_size) * 20, 0.15)
    if inst.kind is InstrumentKind.FUTURE:
        return Profile(10, 0.0001, 2, float(inst.lot_size) * 10, 0.35, DEEP_LEVELS)
    return Profile(10, 0.0004, 1, 300_000 / book.fair, 0.35, DEEP_LEVELS)


class Simulator:
    def __init__(self, exchange: "Exchange", seed: int, history_minutes: int) -> None:
        self.ex = exchange
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.ladders: dict[tuple[str, str], Ladder] = {}
        self.burst: dict[tuple[str, str], int] = {}
        self.quote_noise: dict[tuple[str, str], tuple[float, int]] = {}  # option book -> (mispricing, clock ns when drawn)
        books = list(exchange.books.values())
        self.indices = {b.spec.instrument.symbol: b for b in books if b.spec.instrument.kind is InstrumentKind.INDEX}
        self.binance = [b for b in books if b.spec.market in ("spot", "usdm")]
        self.nse = [b for b in books if b.spec.market in ("NSE", "NFO") and b.spec.instrument.kind is not InstrumentKind.OPTION
                    and b.engine is not None]
        self.options = [b for b in books if b.spec.instrument.kind is InstrumentKind.OPTION]
        self.atm_vol = {"NIFTY 50": 0.13, "NIFTY BANK": 0.15}
        self._seed_prices()
        self._history(history_minutes)
        for book in books:
            if book.engine is not None:
                self.requote(book)
        for book in books:
            exchange.step_done(book)

    # set-up ---------------------------------------------------------------------------------------------
    def _seed_prices(self) -> None:
        for book in self.ex.books.values():
            inst = book.spec.instrument
            if inst.kind is InstrumentKind.FUTURE and book.spec.underlying_symbol:
                book.fair = self._future_fair(book)
            elif inst.kind is InstrumentKind.OPTION:
                book.fair = self._option_fair(book)
                book.oi = Decimal(int(self.rng.integers(50, 400)) * int(inst.lot_size) * 10)
                book.oi_high = book.oi_low = book.oi
            book.prev_close = inst.round_price(Decimal(repr(book.fair * (1 + self.rng.normal(0, 0.006)))), Rounding.NEAREST)

    def _history(self, minutes: int) -> None:
        """Give every book a 1-minute history up to now, so charts open with data; each is made on its first query.

        A book's history draws from its own generators (seed, book), so it is the same whichever books
        were charted before it, and it ends at the values the book starts from now."""
        now = self.ex.now_ns()
        end = now - now % MINUTE_NS
        self._start_ns, self._start_fair = now, {key: book.fair for key, book in self.ex.books.items()}
        if minutes > 0:
            for book in self.ex.books.values():
                book.candles.defer(partial(self._history_rows, book, end, minutes))
                # the minute under way opens at the start value: a book that has not traded yet since start-up
                # still has a bar there, so the history has no hole between its last closed minute and the live ones
                opening = book.spec.instrument.round_price(Decimal(repr(book.fair)), Rounding.NEAREST)
                book.candles.update(now, float(opening), 0.0, float(book.oi) if book.oi else None)

    def _history_rows(self, book: "Book", end_ns: int, minutes: int) -> tuple[np.ndarray, np.ndarray] | None:
        closes = self._history_closes(book, minutes)
        if closes is None:
            return None
        rng = self._book_rng(book, 1)
        opens = np.concatenate(([closes[0]], closes[:-1]))
        wiggle = np.abs(rng.normal(0, 0.0006, minutes)) * closes
        highs, lows = np.maximum(opens, closes) + wiggle, np.minimum(opens, closes) - wiggle
        vol_units = np.abs(rng.standard_t(3, minutes)) * (profile_of(book).size if book.engine else 0) * 3
        starts = end_ns - MINUTE_NS * np.arange(minutes, 0, -1)
        return starts, np.column_stack([opens, highs, lows, closes, vol_units])

    def _history_closes(self, book: "Book", minutes: int) -> np.ndarray | None:
        """Walk back from the start value; futures follow their index's walk, options price off it (Black-76)."""
        spec, inst = book.spec, book.spec.instrument
        index = self.indices.get(spec.underlying_symbol)
        if inst.kind is InstrumentKind.OPTION:
            if index is None:
                return None
            under = self._history_closes(index, minutes)
            assert under is not None
            t = max(self._years_left(book, self._start_ns), 1e-4) + (minutes - np.arange(minutes)) * 60 / YEAR_S
            vol = self._vol(book, float(under[-1]), self._start_ns)
            closes = _black76_curve(inst.right.value == "CE", under * np.exp(RATE * t), float(inst.strike), t, vol)
            return np.maximum(closes, float(inst.tick_size))
        fair = self._start_fair[book.key]
        if inst.kind is InstrumentKind.FUTURE and index is not None:
            base = self._history_closes(index, minutes)
            assert base is not None
            return base * fair / base[-1]
        sigma = (spec.annual_vol or 0.13) * math.sqrt(60 / YEAR_S)
        steps = self._book_rng(book, 0).normal(0, sigma, minutes)
        # close[i] = fair * exp(-sum of later steps)
        return fair * np.exp(-np.concatenate((np.cumsum(steps[::-1])[::-1][1:], [0.0])))

    def _book_rng(self, book: "Book", stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(f"{book.spec.market}:{book.spec.instrument.symbol}".encode()), stream])

    # time ------------------------------------------------------------------------------------------------
    async def run(self, phase: float = 0.0) -> None:
        """Step the markets forever (cancelled by Exchange.stop), one 100 ms tick at a time.

        NSE books take turns (a third of them each tick) and options too (a tenth each tick), so each still
        steps every 300 ms or 1 s, but at its own moment: stepping all 248 option books at once held the loop
        for ~45 ms and made the whole chain tick together. phase (0..1, --flow-rate's extra loops) starts this
        loop phase * 100 ms and round(10 * phase) ticks later, so N loops spread their steps of every book
        over its period (shifting only the 100 ms start bunched all N option steps into the same 100 ms of
        each second, and the Kite ticker, pushing every 250/N ms, sent each option about 2.5 times a second
        whatever N was)."""
        await asyncio.sleep(0.1 * phase)
        tick = -round(10 * phase)
        while True:
            await asyncio.sleep(0.1)
            tick += 1
            try:
                self.step(self.binance, 0.1)
                if tick % 3 == 0:
                    self.step_indices(0.3)
                self.step(self.nse[tick % 3::3], 0.3)
                self.step(self.options[tick % 10::10], 1.0)
            except Exception:  # the simulation must never die quietly
                log.exception("market simulation step failed")

    def step_indices(self, dt: float) -> None:
        for book in self.indices.values():
            sigma = book.spec.annual_vol * math.sqrt(dt / YEAR_S)
            self.ex.set_index(book, book.fair * math.exp(self.rng.normal(-0.5 * sigma * sigma, sigma)))

    def step(self, books: list["Book"], dt: float) -> None:
        for book in books:
            inst = book.spec.instrument
            if inst.kind is InstrumentKind.FUTURE and book.spec.underlying_symbol:
                book.fair = self._future_fair(book) * (1 + self.rng.normal(0, 0.00005))
            elif inst.kind is InstrumentKind.OPTION:
                book.fair = self._option_fair(book) * (1 + self._quote_noise(book))
                self._drift_oi(book)
            else:
                sigma = book.spec.annual_vol * math.sqrt(dt / YEAR_S)
                book.fair *= math.exp(self.rng.normal(-0.5 * sigma * sigma, sigma))
            self.requote(book)
            self._takers(book)
            self.ex.step_done(book)

    # the market maker -----------------------------------------------------------------------------------
    def requote(self, book: "Book") -> None:
        inst = book.spec.instrument
        prof = profile_of(book)
        tick = inst.tick_size
        fair = Decimal(repr(max(book.fair, float(tick) * 2)))
        half = max(tick, fair * Decimal(repr(prof.spread_frac)) / 2)
        best_bid = ((fair - half) / tick).to_integral_value(rounding=ROUND_DOWN) * tick
        best_ask = best_bid + max(tick, ((2 * half) / tick).to_integral_value(rounding=ROUND_DOWN) * tick)
        gap = tick * prof.gap_ticks
        want_bids = [price for price in (best_bid - i * gap for i in range(prof.levels)) if price > 0]  # best first
        want_asks = [best_ask + i * gap for i in range(prof.levels)]
        ladder = self.ladders.setdefault(book.key, Ladder())
        if prof.deep_levels and want_bids:
            deep_bids, deep_asks = self._deep(ladder, prof, tick, fair, want_bids[-1], want_asks[-1])
            want_bids += deep_bids
            want_asks += deep_asks
        sides = ((Side.BUY, want_bids, ladder.bids), (Side.SELL, want_asks, ladder.asks))
        # Cancel stale levels on both sides first: a new bid placed while an old ask still rests above
        # it could cross the maker's own order, and self-trade prevention would expire it.
        internal = self.ex._internal
        for _, want, have in sides:
            wanted = set(want)
            for price in [p for p in have if p not in wanted or have[p] not in internal]:
                order_id = have.pop(price)
                if order_id in internal:
                    self.ex.internal_cancel(book, order_id)
        missing = [(side, i, price, have) for side, want, have in sides for i, price in enumerate(want) if price not in have]
        for (side, i, price, have), jitter in zip(missing, self.rng.uniform(0.5, 1.5, len(missing)).tolist()):  # one draw
            qty = _qty(prof.size * (1 + 0.6 * i) * jitter, inst.lot_size, inst.min_quantity)
            order = EngineOrder(self.ex.new_id(), "mm", side, OrderType.LIMIT, qty, price)
            self.ex.internal_submit(book, order)
            have[price] = order.order_id

    @staticmethod
    def _deep(ladder: Ladder, prof: Profile, tick: Decimal, fair: Decimal, lowest_bid: Decimal,
              highest_ask: Decimal) -> tuple[list[Decimal], list[Decimal]]:
        """The deep levels beyond the touch ladder, best first: grid prices whose step is fixed at the first
        quote, so they stay put while the touch moves (only a grid line the touch reaches is re-placed)."""
        if ladder.deep_step is None:
            ladder.deep_step = max(tick, (fair * Decimal(repr(prof.deep_step_frac)) / tick).to_integral_value(ROUND_DOWN) * tick)
        step = ladder.deep_step
        first_bid = ((lowest_bid - tick) / step).to_integral_value(ROUND_FLOOR) * step
        first_ask = ((highest_ask + tick) / step).to_integral_value(ROUND_CEILING) * step
        bids = [price for price in (first_bid - i * step for i in range(prof.deep_levels)) if price > 0]
        return bids, [first_ask + i * step for i in range(prof.deep_levels)]

    def _takers(self, book: "Book") -> None:
        prof = profile_of(book)
        burst = self.burst.get(book.key, 0)
        if burst:
            self.burst[book.key] = burst - 1
        elif self.rng.random() < 0.002:
            self.burst[book.key] = int(self.rng.integers(10, 40))
        chance = prof.take_prob * (4 if burst else 1)
        while chance > 0:
            if self.rng.random() < min(chance, 1.0):
                side = Side.BUY if self.rng.random() < 0.5 else Side.SELL
                size = prof.size * float(min(abs(self.rng.standard_t(2.5)), 8.0)) * 0.4
                qty = _qty(size, book.spec.instrument.lot_size, book.spec.instrument.min_quantity)
                self.ex.internal_submit(book, EngineOrder(self.ex.new_id(), "flow", side, OrderType.MARKET, qty))
            chance -= 1.0

    # pricing --------------------------------------------------------------------------------------------
    def _index_value(self, symbol: str) -> float:
        book = self.indices.get(symbol)
        return book.fair if book else 0.0

    def _years_left(self, book: "Book", at_ns: int | None = None) -> float:
        expiry = book.spec.instrument.expiry
        if expiry is None:
            return 0.0
        now_s = (self.ex.now_ns() if at_ns is None else at_ns) / 1e9
        return max((expiry.timestamp() - now_s) / YEAR_S, 1.0 / (365 * 24 * 60))

    def _future_fair(self, book: "Book") -> float:
        return self._index_value(book.spec.underlying_symbol) * math.exp(RATE * self._years_left(book))

    def _vol(self, book: "Book", forward: float, at_ns: int | None = None) -> float:
        inst = book.spec.instrument
        m = math.log(float(inst.strike) / forward)
        atm = self.atm_vol.get(book.spec.underlying_symbol, 0.14)
        t = max(self._years_left(book, at_ns), 1 / 365)
        return max(0.05, atm * (1 + 0.02 / math.sqrt(t * 52)) - 0.35 * m + 2.5 * m * m)

    def _option_fair(self, book: "Book") -> float:
        inst = book.spec.instrument
        now_ns = self.ex.now_ns()
        years = self._years_left(book, now_ns)
        forward = self._index_value(book.spec.underlying_symbol) * math.exp(RATE * years)
        return _black76(inst.right.value == "CE", forward, float(inst.strike), years, self._vol(book, forward, now_ns))

    def _quote_noise(self, book: "Book") -> float:
        """The next value of the book's mispricing (QUOTE_NOISE_*); one normal draw, as the old per-step noise.

        Its step to step change has sd 0.27% a second apart (flow rate 1; the old iid draws: 0.42%) and 0.09%
        at 100 ms (--flow-rate 10), so faster flow no longer means jumpier quotes. A clock that does not
        move (tests) counts as 50 ms."""
        now = self.ex.now_ns()
        value, then = self.quote_noise.get(book.key, (0.0, now - 10 * int(QUOTE_NOISE_TAU_S * 1e9)))  # first: ~stationary
        rho = math.exp(-max((now - then) / 1e9, 0.05) / QUOTE_NOISE_TAU_S)
        value = value * rho + QUOTE_NOISE_SD * math.sqrt(1.0 - rho * rho) * float(self.rng.standard_normal())
        self.quote_noise[book.key] = (value, now)
        return value

    def _drift_oi(self, book: "Book") -> None:
        lot = int(book.spec.instrument.lot_size)
        change = int(self.rng.normal(0.3, 2.0)) * lot
        book.oi = max(Decimal(0), book.oi + change)
        book.oi_high, book.oi_low = max(book.oi_high, book.oi), min(book.oi_low, book.oi)


def _black76(is_call: bool, forward: float, strike: float, t: float, vol: float) -> float:
    sig = vol * math.sqrt(t)
    d1 = (math.log(forward / strike) + 0.5 * sig * sig) / sig
    d2 = d1 - sig
    df = math.exp(-RATE * t)
    return df * (forward * _ndtr(d1) - strike * _ndtr(d2)) if is_call else df * (strike * _ndtr(-d2) - forward * _ndtr(-d1))


def _ndtr(x: float) -> float:
    """The standard normal CDF (math, not scipy.special: that import took a fifth of the emulator's start)."""
    return 0.5 * math.erfc(-x * math.sqrt(0.5))


_black76_curve = np.vectorize(_black76, otypes=[float])  # a history's prices, minute by minute


def _qty(size: float, lot: Decimal, minimum: Decimal) -> Decimal:
    """size rounded down to whole lots, at least the minimum and one lot.

    In floats with the lot's figures cached (0.36 us, was 1.16 us through Decimal(repr(size)); ~10 a step of
    every book): the same quantities, down to their digits, unless size / lot is within a float's rounding of
    a whole number."""
    lot_f, least = _lots(lot, minimum)
    return lot * max(int(size / lot_f), least)


@lru_cache(maxsize=256)
def _lots(lot: Decimal, minimum: Decimal) -> tuple[float, int]:
    """The lot as a float, and the least number of lots an order may have."""
    return float(lot), max(int((max(minimum, lot) / lot).to_integral_value(rounding=ROUND_DOWN)), 1)

