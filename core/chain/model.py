"""The option chain model: for one underlying and expiry, strikes around the ATM with both sides.

Everything a chain row shows is computed here, vectorised over the whole chain at once: mid/last
price, IV (Black-76 on the expiry's forward), Greeks, ITM/ATM flags, and the summary line (PCR, max
pain, ATM IV, futures basis). No Qt: the panel renders ChainSnapshot.

Forward: the future of the same expiry if one is quoted, else the spot carried at the rate. Change
in OI is against the first OI this session saw for the contract (Kite's ticks carry no previous-day
OI).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from core import options
from core.domain import Instrument, InstrumentId, OptionRight, Tick
from core.instruments import InstrumentCatalog

YearsToExpiry = Callable[[datetime], float]
SIDE_FIELDS = ("ltp", "change", "bid", "ask", "volume", "oi", "oi_change", "iv", "delta", "gamma", "theta", "vega")
_QUOTE_FIELDS, _GREEK_FIELDS = SIDE_FIELDS[:7], SIDE_FIELDS[7:]  # read from the ticks; computed


@dataclass(frozen=True)
class ChainSide:
    """One side (calls or puts) as float columns aligned with ChainSnapshot.strikes (NaN = no data)."""

    ids: tuple[InstrumentId | None, ...]
    columns: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass(frozen=True)
class ChainSnapshot:
    underlying: str
    expiry: datetime
    strikes: np.ndarray
    calls: ChainSide
    puts: ChainSide
    spot: float
    forward: float
    future: float | None
    atm_index: int
    t_years: float
    pcr: float
    max_pain: float
    atm_iv: float

    @property
    def basis(self) -> float | None:
        """Future minus spot (None without a quoted future)."""
        return None if self.future is None or np.isnan(self.spot) else self.future - self.spot

    def itm(self, right: OptionRight) -> np.ndarray:
        """Boolean mask of in-the-money strikes for a side (against the forward)."""
        return self.strikes < self.forward if right is OptionRight.CALL else self.strikes > self.forward


@dataclass(frozen=True)
class _Layout:
    """The static part of one expiry's chain, valid while the catalog's derivatives list is `source`."""

    source: list[Instrument]
    strikes: np.ndarray  # every strike listed, ascending
    contracts: tuple[list[Instrument | None], list[Instrument | None]]  # the call and the put of each strike
    future: Instrument | None


@dataclass
class OptionChainModel:
    catalog: InstrumentCatalog
    underlying: str  # e.g. "NIFTY"
    spot_id: InstrumentId  # e.g. NIFTY 50 index
    years_to_expiry: YearsToExpiry
    strikes_each_side: int = 15
    rate: float = 0.065
    _oi_base: dict[InstrumentId, float] = field(default_factory=dict)
    _layouts: dict[datetime, _Layout] = field(default_factory=dict)  # shared by replace() copies, as _oi_base is

    def expiries(self) -> list[datetime]:
        """Expiries listed for the underlying, nearest first."""
        return sorted({i.expiry for i in self.catalog.options(self.underlying) if i.expiry is not None})

    def future_for(self, expiry: datetime) -> Instrument | None:
        """The future expiring with (or nearest after) this expiry, if listed."""
        return next((i for i in self.catalog.futures(self.underlying) if i.expiry is not None and i.expiry >= expiry),
                    None)

    def contracts(self, expiry: datetime) -> list[Instrument]:
        """Every option contract of one expiry."""
        return [i for i in self.catalog.options(self.underlying) if i.expiry == expiry]

    def snapshot(self, expiry: datetime, ticks: dict[InstrumentId, Tick]) -> ChainSnapshot:
        """Compute the chain for an expiry from the latest ticks."""
        layout = self._layout(expiry)
        all_strikes = layout.strikes
        spot = _price(ticks.get(self.spot_id))
        future_inst = layout.future
        future = _price(ticks.get(future_inst.id)) if future_inst else float("nan")
        t = max(self.years_to_expiry(expiry), 1e-6)
        forward = future if not np.isnan(future) and future_inst is not None and future_inst.expiry == expiry else \
            spot * float(np.exp(self.rate * t)) if not np.isnan(spot) else future
        if len(all_strikes) == 0:
            raise ValueError(f"no {self.underlying} options expire on {expiry:%Y-%m-%d}")
        centre = int(np.argmin(np.abs(all_strikes - forward))) if not np.isnan(forward) else len(all_strikes) // 2
        lo, hi = max(0, centre - self.strikes_each_side), min(len(all_strikes), centre + self.strikes_each_side + 1)
        strikes = all_strikes[lo:hi]
        calls, puts = self._sides(strikes, [side[lo:hi] for side in layout.contracts], ticks, forward, t)
        atm = centre - lo
        call_oi, put_oi = np.nansum(calls["oi"]), np.nansum(puts["oi"])
        atm_ivs = [v for v in (calls["iv"][atm], puts["iv"][atm]) if not np.isnan(v)] if len(strikes) else []
        return ChainSnapshot(
            underlying=self.underlying, expiry=expiry, strikes=strikes, calls=calls, puts=puts, spot=spot, forward=forward,
            future=None if np.isnan(future) else future, atm_index=atm, t_years=t,
            pcr=float(put_oi / call_oi) if call_oi > 0 else float("nan"),
            max_pain=max_pain(strikes, np.nan_to_num(calls["oi"]), np.nan_to_num(puts["oi"])),
            atm_iv=float(np.mean(atm_ivs)) if atm_ivs else float("nan"),
        )

    def _layout(self, expiry: datetime) -> _Layout:
        """The expiry's strikes, contracts by (strike, right) and future, rebuilt only when the catalog's list
        of derivatives on the underlying is a new one (it is replaced whenever instruments are added).
        Listing and sorting them cost ~0.15 ms a snapshot, and the term structure takes one per expiry."""
        source = self.catalog.derivatives(self.underlying)
        layout = self._layouts.get(expiry)
        if layout is None or layout.source is not source:
            contracts = self.contracts(expiry)
            strikes = sorted({float(i.strike) for i in contracts if i.strike is not None})
            by_key = {(float(i.strike), i.right): i for i in contracts if i.strike is not None}  # type: ignore[arg-type]
            layout = _Layout(source, np.array(strikes), ([by_key.get((k, OptionRight.CALL)) for k in strikes],
                                                         [by_key.get((k, OptionRight.PUT)) for k in strikes]),
                             self.future_for(expiry))
            self._layouts[expiry] = layout
        return layout

    def _sides(self, strikes: np.ndarray, contracts: list[list[Instrument | None]], ticks: dict[InstrumentId, Tick],
               forward: float, t: float) -> tuple[ChainSide, ChainSide]:
        """Both sides, the calls' strikes then the puts' in one array, so that the IV solver and the Greeks run
        once per snapshot rather than once per side: their cost is mostly per call, not per option (+-10
        strikes: 1.2 -> 0.7 ms a snapshot). Every result is elementwise, so each side's is as computed alone."""
        n = len(strikes)
        ids: list[InstrumentId | None] = []
        rows: list[tuple[float, ...]] = []
        nan = float("nan")
        blank = (nan,) * len(_QUOTE_FIELDS)
        oi_base = self._oi_base
        for side in contracts:
            for inst in side:
                iid = inst.id if inst else None
                ids.append(iid)
                tick = ticks.get(iid) if iid else None
                if tick is None:
                    rows.append(blank)
                    continue
                oi = _f(tick.open_interest)
                rows.append((_f(tick.last_price), _f(tick.change), _f(tick.bid), _f(tick.ask), _f(tick.volume), oi,
                             nan if oi != oi else oi - oi_base.setdefault(iid, oi)))  # type: ignore[arg-type]
        quotes = np.array(rows, dtype=float).reshape(2 * n, len(_QUOTE_FIELDS)).T.copy()
        cols = {name: quotes[j] for j, name in enumerate(_QUOTE_FIELDS)}
        ltp, bid, ask = cols["ltp"], cols["bid"], cols["ask"]
        price = np.where(np.isnan(bid) | np.isnan(ask) | (bid <= 0), ltp, (bid + ask) / 2)
        for name in _GREEK_FIELDS:
            cols[name] = np.full(2 * n, np.nan)
        if not np.isnan(forward) and n:
            is_call = np.repeat(np.array([True, False]), n)
            both = np.concatenate((strikes, strikes))
            with np.errstate(all="ignore"):
                iv = options.implied_vol("black76", is_call, price, forward, both, t, rate=self.rate)
                g = options.greeks("black76", is_call, forward, both, t, np.where(np.isnan(iv), 0.2, iv), rate=self.rate)
            has_iv = ~np.isnan(iv)
            cols["iv"] = np.asarray(iv, dtype=float)
            cols["delta"] = np.where(has_iv, g["delta"], np.nan)
            cols["gamma"] = np.where(has_iv, g["gamma"], np.nan)
            cols["theta"] = np.where(has_iv, options.theta_per_day(g["theta"]), np.nan)
            cols["vega"] = np.where(has_iv, options.vega_per_pct(g["vega"]), np.nan)
        return tuple(ChainSide(tuple(ids[s * n:(s + 1) * n]), {name: cols[name][s * n:(s + 1) * n] for name in SIDE_FIELDS})
                     for s in range(2))  # type: ignore[return-value]


def max_pain(strikes: np.ndarray, call_oi: np.ndarray, put_oi: np.ndarray) -> float:
    """The expiry price at which option buyers' total intrinsic payout is smallest (writers' pain least)."""
    if len(strikes) == 0 or (call_oi.sum() == 0 and put_oi.sum() == 0):
        return float("nan")
    settle = strikes[:, None]
    payout = (np.maximum(settle - strikes[None, :], 0) * call_oi[None, :]).sum(1) + \
        (np.maximum(strikes[None, :] - settle, 0) * put_oi[None, :]).sum(1)
    return float(strikes[int(np.argmin(payout))])


def _f(value: Decimal | None) -> float:
    return float("nan") if value is None else float(value)


def _price(tick: Tick | None) -> float:
    if tick is None:
        return float("nan")
    if tick.last_price is not None:
        return float(tick.last_price)
    mid = tick.mid
    return float("nan") if mid is None else float(mid)
