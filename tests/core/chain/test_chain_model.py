from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import numpy as np
import pytest

from core import options
from core.chain.model import OptionChainModel, max_pain
from core.domain import Instrument, InstrumentId, InstrumentKind, OptionRight, Tick, Venue
from core.instruments import InstrumentCatalog

Z = Venue.ZERODHA
EXPIRY = datetime(2025, 12, 30, 10, 0)
SPOT = InstrumentId(Z, "NIFTY 50")
FUT = InstrumentId(Z, "NIFTY25DECFUT")
T = 10 / 365
STRIKES = range(24500, 25550, 50)


def build() -> tuple[OptionChainModel, dict[InstrumentId, Tick]]:
    instruments = [Instrument(SPOT, InstrumentKind.INDEX, "NSE", D("0.05"), D("1")),
                   Instrument(FUT, InstrumentKind.FUTURE, "NFO", D("0.05"), D("75"), expiry=EXPIRY, underlying="NIFTY")]
    ticks = {SPOT: Tick(SPOT, 0, last_price=D("24990")), FUT: Tick(FUT, 0, last_price=D("25020"))}
    for k in STRIKES:
        for right in OptionRight:
            iid = InstrumentId(Z, f"NIFTY25DEC{k}{right.value}")
            instruments.append(Instrument(iid, InstrumentKind.OPTION, "NFO", D("0.05"), D("75"), expiry=EXPIRY,
                                          strike=D(k), right=right, underlying="NIFTY"))
            vol = 0.13 + 0.00002 * abs(k - 25000)  # a smile
            px = float(options.price("black76", right is OptionRight.CALL, 25020.0, float(k), T, vol, rate=0.0))
            oi = D(1000 + (k - 24500)) if right is OptionRight.CALL else D(3000 - (k - 24500))
            mid = D(str(round(px, 2)))
            ticks[iid] = Tick(iid, 0, last_price=mid, bid=mid - D("0.05"), ask=mid + D("0.05"), open_interest=oi, volume=D(500))
    model = OptionChainModel(InstrumentCatalog(instruments), "NIFTY", SPOT, lambda e: T, strikes_each_side=5, rate=0.0)
    return model, ticks


def test_chain_rows_centre_on_the_atm_of_the_forward() -> None:
    model, ticks = build()
    assert model.expiries() == [EXPIRY]
    snap = model.snapshot(EXPIRY, ticks)
    assert len(snap.strikes) == 11
    assert snap.strikes[snap.atm_index] == 25000  # nearest strike to the future 25020
    assert snap.forward == 25020 and snap.basis == pytest.approx(30)
    assert snap.itm(OptionRight.CALL).tolist() == [k < 25020 for k in snap.strikes]


def test_iv_recovers_the_smile_and_greeks_have_the_right_signs() -> None:
    model, ticks = build()
    snap = model.snapshot(EXPIRY, ticks)
    expected = 0.13 + 0.00002 * np.abs(snap.strikes - 25000)
    assert np.allclose(snap.calls["iv"], expected, atol=2e-3)  # quotes are rounded to 0.01
    assert np.allclose(snap.puts["iv"], expected, atol=2e-3)
    assert np.all(np.diff(snap.calls["delta"]) < 0) and np.all(snap.puts["delta"] < 0)
    assert np.all(snap.calls["theta"] < 0) and np.all(snap.calls["vega"] > 0)
    assert snap.atm_iv == pytest.approx(0.13, abs=2e-3)


def test_pcr_and_max_pain() -> None:
    model, ticks = build()
    snap = model.snapshot(EXPIRY, ticks)
    assert snap.pcr == pytest.approx(float(np.nansum(snap.puts["oi"]) / np.nansum(snap.calls["oi"])))
    # writers pay 600 / 400 / 200 at settlements 100 / 110 / 120: the least pain is at 120
    assert max_pain(np.array([100.0, 110, 120]), np.array([10.0, 0, 0]), np.array([0.0, 0, 30])) == 120
    assert np.isnan(max_pain(np.array([100.0]), np.array([0.0]), np.array([0.0])))


def test_oi_change_is_against_the_first_oi_seen() -> None:
    model, ticks = build()
    first = model.snapshot(EXPIRY, ticks)
    assert np.nansum(np.abs(first.calls["oi_change"])) == 0
    iid = first.calls.ids[first.atm_index]
    assert iid is not None
    ticks[iid] = Tick(iid, 1, last_price=ticks[iid].last_price, open_interest=ticks[iid].open_interest + 150)
    again = model.snapshot(EXPIRY, ticks)
    assert again.calls["oi_change"][again.atm_index] == 150


def test_missing_quotes_are_nan_not_errors() -> None:
    model, ticks = build()
    for iid in list(ticks):
        if iid.symbol.endswith("PE"):
            del ticks[iid]
    snap = model.snapshot(EXPIRY, ticks)
    assert np.all(np.isnan(snap.puts["iv"])) and not np.any(np.isnan(snap.calls["iv"]))
    with pytest.raises(ValueError, match="no NIFTY options expire"):
        model.snapshot(datetime(2030, 1, 1), ticks)


def test_position_greeks_from_the_market() -> None:
    from core.bus import EventBus
    from core.chain.position_greeks import market_greeks
    from core.marketdata.state import MarketState

    model, ticks = build()
    bus = EventBus()
    market = MarketState(bus)
    for tick in ticks.values():
        bus.publish(tick)
    fn = market_greeks(market, model.catalog, rate=0.0, years=lambda e: T)
    call = model.catalog.get(InstrumentId(Z, "NIFTY25DEC25000CE"))
    g = fn(call)
    assert g is not None and 0.45 < g.delta < 0.6 and g.theta < 0 and g.vega > 0
    assert fn(model.catalog.get(FUT)) is None  # not an option


def test_both_sides_priced_together_match_each_side_priced_alone() -> None:
    model, ticks = build()
    snap = model.snapshot(EXPIRY, ticks)
    for side, is_call in ((snap.calls, True), (snap.puts, False)):
        bid, ask = side["bid"], side["ask"]
        price = np.where(np.isnan(bid) | np.isnan(ask) | (bid <= 0), side["ltp"], (bid + ask) / 2)
        iv = options.implied_vol("black76", is_call, price, snap.forward, snap.strikes, snap.t_years, rate=0.0)
        g = options.greeks("black76", is_call, snap.forward, snap.strikes, snap.t_years, iv, rate=0.0)
        assert np.array_equal(side["iv"], iv) and np.array_equal(side["delta"], g["delta"])  # bit for bit
        assert np.array_equal(side["theta"], options.theta_per_day(g["theta"]))


def test_strikes_listed_later_appear_in_the_chain() -> None:
    model, ticks = build()
    assert 25550 not in model.snapshot(EXPIRY, ticks).strikes
    model.strikes_each_side = 50
    iid = InstrumentId(Z, "NIFTY25DEC25550CE")
    model.catalog.add([Instrument(iid, InstrumentKind.OPTION, "NFO", D("0.05"), D("75"), expiry=EXPIRY, strike=D(25550),
                                  right=OptionRight.CALL, underlying="NIFTY")])
    ticks[iid] = Tick(iid, 0, last_price=D("3.5"))
    snap = model.snapshot(EXPIRY, ticks)
    assert snap.strikes[-1] == 25550 and snap.calls.ids[-1] == iid and snap.puts.ids[-1] is None
    assert snap.calls["ltp"][-1] == 3.5 and np.isnan(snap.puts["ltp"][-1])
