from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import (BarEvent, ClientOrderId, Fill, Instrument, InstrumentId, InstrumentKind, OptionRight, Order,
                         OrderRequest, OrderStatus, OrderType, Product, Side, TimeInForce, Venue)
from core.journal import Journal
from core.journal.codec import instrument_from_dict, instrument_to_dict, request_from_dict, request_to_dict

BTC = InstrumentId(Venue.BINANCE, "BTCUSDT")
DAY = date(2025, 12, 9)
NOON_NS = int(datetime(2025, 12, 9, 12, tzinfo=timezone.utc).timestamp()) * 10**9


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "sub" / "journal.db", clock_ns=lambda: NOON_NS)
    yield j
    j.close()


def new_order(cid: str, created_ns: int = NOON_NS) -> Order:
    req = OrderRequest(BTC, Side.BUY, Decimal("0.5"), OrderType.LIMIT, price=Decimal("50000.10"), source="console",
                       tag="t1")
    return Order(ClientOrderId(cid), req, created_ns=created_ns, updated_ns=created_ns, extra={"bracket.stop": "1"})


def test_the_file_is_in_wal_mode(journal: Journal) -> None:
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.path.exists()


def test_an_order_reads_back_with_its_latest_state(journal: Journal) -> None:
    order = new_order("A1")
    journal.record_intent(order)
    acked = order.transition(OrderStatus.OPEN, venue_order_id="V1", venue_seq=4, updated_ns=NOON_NS + 1)
    journal.record_update(acked, "report")
    filled = acked.with_fill(Decimal("0.5"), Decimal("49999.9"), NOON_NS + 2)
    journal.record_update(filled, "fill")
    back = journal.order("A1")
    assert back == filled and back.extra == {"bracket.stop": "1"}
    assert journal.open_orders() == []
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_intent(order)  # one intent per id, ever


def test_open_orders_and_orders_of_a_day(journal: Journal) -> None:
    journal.record_intent(new_order("A1"))
    journal.record_intent(new_order("A2", NOON_NS - 86_400 * 10**9))
    done = new_order("A3").transition(OrderStatus.REJECTED, reject_reason="no")
    journal.record_intent(new_order("A3"))
    journal.record_update(done, "not_placed")
    assert [o.client_order_id for o in journal.open_orders()] == ["A1", "A2"]
    assert journal.open_orders(Venue.ZERODHA) == []
    assert [o.client_order_id for o in journal.orders_on(DAY)] == ["A1", "A3"]


def test_tables_are_append_only(journal: Journal) -> None:
    journal.record_intent(new_order("A1"))
    journal.audit("user_action", {"action": "place"})
    for sql in ("UPDATE order_events SET status = 'FILLED'", "DELETE FROM order_intents", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            journal._db.execute(sql)


def test_fills_are_idempotent_on_trade_id(journal: Journal) -> None:
    fill = Fill(ClientOrderId("A1"), "V1", "T9", BTC, Side.BUY, Decimal("0.2"), Decimal(50000), Decimal("0.01"), "USDT",
                NOON_NS, True, Product.SPOT)
    assert journal.record_fill(fill) and not journal.record_fill(fill)
    assert journal.fills() == [fill] and journal.fills("A1") == [fill] and journal.fills(since_ns=NOON_NS + 1) == []
    assert journal.has_fill(Venue.BINANCE, "T9") and not journal.has_fill(Venue.ZERODHA, "T9")
    assert journal.fill_totals(["A1", "A2"]) == {"A1": Decimal("0.2")}


def test_a_venue_order_id_links_to_one_order_only(journal: Journal) -> None:
    assert journal.link_venue_order(Venue.BINANCE, "V1", ClientOrderId("A1")) == "A1"
    assert journal.link_venue_order(Venue.BINANCE, "V1", ClientOrderId("B2")) == "A1"
    assert journal.client_order_id_for(Venue.BINANCE, "V1") == "A1"
    assert journal.client_order_id_for(Venue.ZERODHA, "V1") is None


def test_audit_settings_and_sequences_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    j = Journal.open(path)
    j.audit("risk_reject", {"rule": "max_order_value", "value": Decimal("1.5")})
    j.put("kill_switch", "on", durable=True)
    assert [j.next_sequence("ids") for _ in range(3)] == [1, 2, 3]
    j.close()
    j = Journal.open(path)
    entry = j.audit_entries("risk_reject")[0]
    assert entry.detail == {"rule": "max_order_value", "value": "1.5"}
    assert j.get("kill_switch") == "on" and j.get("missing", "x") == "x"
    assert j.next_sequence("ids") == 4 and j.next_sequence("other") == 1
    assert j.next_sequence("ids", 10) == 5 and j.next_sequence("ids") == 15
    with pytest.raises(ValueError, match="positive count"):
        j.next_sequence("ids", 0)
    j.close()


def test_instrument_and_candle_caches(journal: Journal) -> None:
    opt = Instrument(InstrumentId(Venue.ZERODHA, "NIFTY25DEC25000CE"), InstrumentKind.OPTION, "NFO", Decimal("0.05"),
                     Decimal(75), expiry=datetime(2025, 12, 30, 15, 30), strike=Decimal(25000), right=OptionRight.CALL,
                     underlying="NIFTY", venue_token="12345", freeze_quantity=Decimal(1800), extra={"segment": "NFO-OPT"})
    assert journal.cache.store_instruments(Venue.ZERODHA, [opt]) == 1
    assert journal.cache.load_instruments(Venue.ZERODHA) == [opt]
    assert journal.cache.instruments_updated_ns(Venue.ZERODHA) == NOON_NS
    assert journal.cache.instruments_updated_ns(Venue.BINANCE) is None
    D1 = Decimal(1)
    bars = [BarEvent(BTC, "1m", i * 60, Decimal(1), Decimal(2), Decimal("0.5"), Decimal("1.5"), Decimal(10), True)
            for i in range(3)]
    journal.cache.store_candles(bars + [BarEvent(BTC, "1m", 180, D1, D1, D1, D1, D1, False)])
    journal.cache.store_candles(bars[:1])  # re-storing is harmless
    assert journal.cache.load_candles(BTC, "1m") == bars
    assert journal.cache.load_candles(BTC, "1m", 60, 120) == bars[1:2]


decimals = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**9), places=3, allow_nan=False)


@settings(max_examples=100)
@given(side=st.sampled_from(Side), qty=decimals, price=decimals, trigger=st.none() | decimals,
       tif=st.sampled_from(TimeInForce), product=st.sampled_from(Product), reduce=st.booleans(), tag=st.text(max_size=5))
def test_request_codec_round_trips(side: Side, qty: Decimal, price: Decimal, trigger: Decimal | None, tif: TimeInForce,
                                   product: Product, reduce: bool, tag: str) -> None:
    kind = OrderType.STOP_LIMIT if trigger is not None else OrderType.LIMIT
    req = OrderRequest(BTC, side, qty, kind, price, trigger, tif, product, reduce_only=reduce, tag=tag)
    assert request_from_dict(request_to_dict(req)) == req


def test_instrument_codec_round_trips_a_spot_pair() -> None:
    inst = Instrument(BTC, InstrumentKind.SPOT, "SPOT", Decimal("0.01"), Decimal("0.00001"), "USDT", "BTC",
                      max_quantity=Decimal(9000), min_notional=Decimal(5))
    assert instrument_from_dict(instrument_to_dict(inst)) == inst
