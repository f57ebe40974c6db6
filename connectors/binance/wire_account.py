"""Account wire structs: REST order answers, executionReport (spot), ORDER_TRADE_UPDATE (USD-M), balance
and position events, trades; Binance's field names, with parse_to_* methods to core types."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain import (Balance, ClientOrderId, Fill, InstrumentId, OrderStatus, Position, Product, Side, Venue,
                         VenueOrderReport)

from .wire_market import MS, Malformed, boolean, dec, field, integer, text

STATUS = {
    "NEW": OrderStatus.OPEN, "PENDING_NEW": OrderStatus.PENDING_NEW, "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED, "CANCELED": OrderStatus.CANCELLED, "PENDING_CANCEL": OrderStatus.CANCEL_PENDING,
    "REJECTED": OrderStatus.REJECTED, "EXPIRED": OrderStatus.EXPIRED, "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
ZERO = Decimal(0)


def status(value: Any) -> OrderStatus:
    try:
        return STATUS[text(value)]
    except KeyError:
        raise Malformed(f"unknown order status {value!r}") from None


def side(value: Any) -> Side:
    if value not in ("BUY", "SELL"):
        raise Malformed(f"unknown side {value!r}")
    return Side(value)


def _opt_dec(d: dict[str, Any], name: str) -> Decimal | None:
    value = d.get(name)
    if value is None:
        return None
    number = dec(value)
    return number if number else None


@dataclass(frozen=True, slots=True)
class OrderMsg:
    """An order as REST answers it (spot GET/POST/DELETE order, futures order); fields per Binance."""

    symbol: str
    orderId: int
    clientOrderId: str
    status: str
    side: str
    price: Decimal | None
    origQty: Decimal
    executedQty: Decimal
    cumQuote: Decimal  # spot cummulativeQuoteQty, futures cumQuote
    stopPrice: Decimal | None
    updateTime: int
    origClientOrderId: str = ""

    @classmethod
    def parse(cls, d: Any) -> "OrderMsg":
        quote = d.get("cummulativeQuoteQty", d.get("cumQuote", "0")) if isinstance(d, dict) else "0"
        when = d.get("updateTime", d.get("transactTime", 0)) if isinstance(d, dict) else 0
        status(field(d, "status"))
        return cls(text(field(d, "symbol")), integer(field(d, "orderId")), text(field(d, "clientOrderId")),
                   text(d["status"]), side(field(d, "side")).value, _opt_dec(d, "price"), dec(field(d, "origQty")),
                   dec(field(d, "executedQty")), dec(quote), _opt_dec(d, "stopPrice"), integer(when),
                   text(d.get("origClientOrderId", "")))

    def parse_to_report(self, venue: Venue) -> VenueOrderReport:
        """The order as a VenueOrderReport (a cancel answer reports the original client id)."""
        average = self.cumQuote / self.executedQty if self.executedQty and self.cumQuote > 0 else None
        cid = self.origClientOrderId or self.clientOrderId
        return VenueOrderReport(venue, ClientOrderId(cid), str(self.orderId), status(self.status),
                                InstrumentId(venue, self.symbol), self.executedQty, average, self.price, self.origQty,
                                self.stopPrice, ts_ns=self.updateTime * MS, side=side(self.side))


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """Spot user-data executionReport (the fields we use; see binance.md A12)."""

    E: int
    s: str
    c: str
    S: str
    o: str
    q: Decimal
    p: Decimal
    P: Decimal
    C: str
    x: str
    X: str
    r: str
    i: int
    l: Decimal  # noqa: E741
    z: Decimal
    L: Decimal
    n: Decimal
    N: str | None
    T: int
    t: int
    I: int  # noqa: E741
    m: bool
    Z: Decimal

    @classmethod
    def parse(cls, d: Any) -> "ExecutionReport":
        n = d.get("n") if isinstance(d, dict) else None
        fee_asset = d.get("N") if isinstance(d, dict) else None
        return cls(integer(field(d, "E")), text(field(d, "s")), text(field(d, "c")), text(field(d, "S")),
                   text(field(d, "o")), dec(field(d, "q")), dec(field(d, "p")), dec(field(d, "P")),
                   text(d.get("C") or ""), text(field(d, "x")), text(field(d, "X")), text(d.get("r") or "NONE"),
                   integer(field(d, "i")), dec(field(d, "l")), dec(field(d, "z")), dec(field(d, "L")),
                   dec(n) if n is not None else ZERO, text(fee_asset) if fee_asset is not None else None,
                   integer(field(d, "T")), integer(field(d, "t")), integer(d.get("I", 0)), boolean(field(d, "m")),
                   dec(field(d, "Z")))

    @property
    def client_order_id(self) -> str:
        """The order's own client id: for cancels `c` is the cancel's id and `C` the order's."""
        return self.C or self.c

    def parse_to_report(self) -> VenueOrderReport:
        venue = Venue.BINANCE
        average = self.Z / self.z if self.z else None
        reason = "" if self.r == "NONE" else self.r
        return VenueOrderReport(venue, ClientOrderId(self.client_order_id), str(self.i), status(self.X),
                                InstrumentId(venue, self.s), self.z, average, self.p or None, self.q, self.P or None,
                                reason, ts_ns=self.T * MS, seq=self.I, side=side(self.S))

    def parse_to_fill(self) -> Fill | None:
        """The fill this report carries (execution type TRADE), else None."""
        if self.x != "TRADE" or not self.l:
            return None
        return Fill(ClientOrderId(self.client_order_id), str(self.i), str(self.t), InstrumentId(Venue.BINANCE, self.s),
                    side(self.S), self.l, self.L, self.n, self.N or "", self.T * MS, self.m, Product.SPOT)


@dataclass(frozen=True, slots=True)
class OrderTradeUpdate:
    """USD-M ORDER_TRADE_UPDATE (the `o` object plus the event times)."""

    E: int
    T: int
    s: str
    c: str
    S: str
    q: Decimal
    p: Decimal
    ap: Decimal
    x: str
    X: str
    i: int
    l: Decimal  # noqa: E741
    z: Decimal
    L: Decimal
    N: str
    n: Decimal
    t: int
    m: bool
    R: bool
    ps: str

    @classmethod
    def parse(cls, d: Any) -> "OrderTradeUpdate":
        o = field(d, "o")
        return cls(integer(field(d, "E")), integer(field(d, "T")), text(field(o, "s")), text(field(o, "c")),
                   text(field(o, "S")), dec(field(o, "q")), dec(field(o, "p")), dec(field(o, "ap")), text(field(o, "x")),
                   text(field(o, "X")), integer(field(o, "i")), dec(field(o, "l")), dec(field(o, "z")),
                   dec(field(o, "L")), text(o.get("N") or ""), dec(o.get("n") or "0"), integer(field(o, "t")),
                   boolean(field(o, "m")), boolean(o.get("R", False)), text(o.get("ps") or "BOTH"))

    def parse_to_report(self) -> VenueOrderReport:
        venue = Venue.BINANCE_USDM
        return VenueOrderReport(venue, ClientOrderId(self.c), str(self.i), status(self.X), InstrumentId(venue, self.s),
                                self.z, self.ap or None, self.p or None, self.q, None, ts_ns=self.T * MS, side=side(self.S))

    def parse_to_fill(self) -> Fill | None:
        if self.x != "TRADE" or not self.l:
            return None
        return Fill(ClientOrderId(self.c), str(self.i), str(self.t), InstrumentId(Venue.BINANCE_USDM, self.s),
                    side(self.S), self.l, self.L, self.n, self.N, self.T * MS, self.m, Product.FUTURES)


def parse_account_position(d: Any) -> list[Balance]:
    """Spot outboundAccountPosition -> balances of the assets it lists."""
    return [Balance(Venue.BINANCE, text(field(b, "a")), dec(field(b, "f")), dec(field(b, "l"))) for b in field(d, "B")]


def parse_account_update(d: Any) -> tuple[list[Balance], list[Position]]:
    """USD-M ACCOUNT_UPDATE -> wallet balances and positions."""
    a = field(d, "a")
    balances = [Balance(Venue.BINANCE_USDM, text(field(b, "a")), dec(field(b, "wb"))) for b in field(a, "B")]
    positions = [Position(InstrumentId(Venue.BINANCE_USDM, text(field(p, "s"))), Product.FUTURES, dec(field(p, "pa")),
                          dec(field(p, "ep")), dec(p.get("cr", "0"))) for p in field(a, "P")]
    return balances, positions


@dataclass(frozen=True, slots=True)
class TradeMsg:
    """One of our trades: spot myTrades or futures userTrades."""

    symbol: str
    id: int
    orderId: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commissionAsset: str
    time: int
    is_buyer: bool
    is_maker: bool

    @classmethod
    def parse(cls, d: Any) -> "TradeMsg":
        buyer = d.get("isBuyer", d.get("buyer")) if isinstance(d, dict) else None
        maker = d.get("isMaker", d.get("maker")) if isinstance(d, dict) else None
        return cls(text(field(d, "symbol")), integer(field(d, "id")), integer(field(d, "orderId")), dec(field(d, "price")),
                   dec(field(d, "qty")), dec(field(d, "commission")), text(field(d, "commissionAsset")),
                   integer(field(d, "time")), boolean(buyer), boolean(maker))

    def parse_to_fill(self, venue: Venue, client_order_id: str) -> Fill:
        return Fill(ClientOrderId(client_order_id), str(self.orderId), str(self.id), InstrumentId(venue, self.symbol),
                    Side.BUY if self.is_buyer else Side.SELL, self.qty, self.price, self.commission, self.commissionAsset,
                    self.time * MS, self.is_maker, Product.SPOT if venue is Venue.BINANCE else Product.FUTURES)


def parse_position_risk(d: Any) -> Position:
    """One GET /fapi/v2/positionRisk entry."""
    return Position(InstrumentId(Venue.BINANCE_USDM, text(field(d, "symbol"))), Product.FUTURES,
                    dec(field(d, "positionAmt")), dec(field(d, "entryPrice")))
