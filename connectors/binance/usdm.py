"""The Binance USD-M futures connector (Venue.BINANCE_USDM).

    client = BinanceUsdmClient(bus, USDM_LIVE, BinanceCredentials.hmac(key, secret))
    client = BinanceUsdmClient.from_url(bus, "http://127.0.0.1:8124", api_key="...", secret="...")  # emulator

Orders are LIMIT (GTC/IOC/FOK/GTX) and MARKET, with reduceOnly, or positionSide from
order.extra["positionSide"] in hedge mode; modify is in place (PUT /fapi/v1/order). Positions,
leverage, margin type and position mode have their own methods. User data: listenKey stream.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.bus import EventBus
from core.domain import Balance, InstrumentId, Order, Position, Venue, VenueOrderReport
from core.errors import OrderOutcomeUnknown, ValidationError, VenueError
from core.venue import RequestSent

from .client import BinanceClient, order_ref
from .config import BinanceEndpoints, credentials_from
from .instruments import validate
from .orders import order_params
from .rest import OutcomeUnknown
from .userdata import UsdmUserStream
from .wire_account import OrderTradeUpdate, parse_account_update, parse_position_risk
from .wire_market import Malformed, dec

log = logging.getLogger(__name__)


class BinanceUsdmClient(BinanceClient):
    """USD-M futures: REST /fapi, routed market streams, listenKey user data."""

    venue = Venue.BINANCE_USDM
    api = "/fapi/v1"

    @classmethod
    def from_url(cls, bus: EventBus, base_url: str, api_key: str | None = None, secret: str | None = None,
                 ed25519_pem: bytes | str | None = None, **options: Any) -> "BinanceUsdmClient":
        """A client of a server serving everything on one host (the emulator): http://host:port."""
        return cls(bus, BinanceEndpoints.single_host(base_url, futures=True), credentials_from(api_key, secret, ed25519_pem),
                   **options)

    def _make_user_stream(self) -> UsdmUserStream:
        return UsdmUserStream(self.endpoints.streams, self.rest, self.bus, self._on_user_event,
                              routed=self.endpoints.routed, backoff_s=self.backoff_s)

    def _on_user_event(self, event: dict[str, Any]) -> None:
        try:
            kind = event.get("e")
            if kind == "ORDER_TRADE_UPDATE":
                msg = OrderTradeUpdate.parse(event)
                self._publish_order_event(msg.parse_to_report(), msg.parse_to_fill())
            elif kind == "ACCOUNT_UPDATE":
                balances, positions = parse_account_update(event)
                for item in (*balances, *positions):
                    self.bus.publish(item)
        except Malformed as exc:
            log.warning("Binance USD-M user event skipped: %s", exc)

    # trading

    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        inst = self._check(order)
        return await self._place(order, order_params(order, inst, True), sent)

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        """PUT /fapi/v1/order: price and total quantity change in place; the order keeps its id."""
        inst = self.instrument(order.instrument_id)
        if trigger_price is not None:
            raise ValidationError("USD-M orders here carry no trigger price")
        new_qty = quantity if quantity is not None else order.quantity
        new_price = price if price is not None else order.price
        if new_price is None or new_qty is None:
            raise ValidationError("only limit orders can be modified on USD-M")
        validate(inst, replace(order.request, quantity=new_qty, price=new_price), self.market.last_price.get(inst.symbol))
        params = [("symbol", inst.symbol), order_ref(order), ("side", order.side.value), ("quantity", new_qty),
                  ("price", new_price)]
        return await self._order_request(order, "PUT", "/order", params, orders=1)

    async def cancel_all(self, instrument_id: InstrumentId) -> None:
        """Cancel every working order of a symbol (DELETE allOpenOrders); the stream reports each."""
        inst = self.instrument(instrument_id)
        try:
            await self.rest.request("DELETE", f"{self.api}/allOpenOrders", {"symbol": inst.symbol}, weight=1, signed=True,
                                    is_order=True)
        except OutcomeUnknown as exc:
            raise OrderOutcomeUnknown(f"cancel all {inst.symbol}: {exc}") from None

    # account

    async def positions(self) -> list[Position]:
        rows = await self.rest.request("GET", "/fapi/v2/positionRisk", weight=5, signed=True)
        return [p for p in (parse_position_risk(r) for r in rows) if p.quantity]

    async def balances(self) -> list[Balance]:
        rows = await self.rest.request("GET", "/fapi/v2/balance", weight=5, signed=True)
        return [Balance(self.venue, str(r["asset"]), dec(r["availableBalance"]),
                        dec(r["balance"]) - dec(r["availableBalance"])) for r in rows]

    async def set_leverage(self, instrument_id: InstrumentId, leverage: int) -> int:
        """Set the initial leverage of a symbol; returns what the venue set."""
        inst = self.instrument(instrument_id)
        answer = await self.rest.request("POST", f"{self.api}/leverage", {"symbol": inst.symbol, "leverage": leverage},
                                         weight=1, signed=True)
        return int(answer["leverage"])

    async def set_margin_type(self, instrument_id: InstrumentId, margin_type: str) -> None:
        """ISOLATED or CROSSED; asking for the type already set is not an error."""
        inst = self.instrument(instrument_id)
        try:
            await self.rest.request("POST", f"{self.api}/marginType", {"symbol": inst.symbol, "marginType": margin_type},
                                    weight=1, signed=True)
        except VenueError as exc:
            if exc.code != -4046:  # "No need to change margin type."
                raise

    async def set_hedge_mode(self, hedge: bool) -> None:
        """Switch between one-way (BOTH) and hedge (LONG/SHORT) position mode."""
        try:
            await self.rest.request("POST", f"{self.api}/positionSide/dual", {"dualSidePosition": hedge}, weight=1,
                                    signed=True)
        except VenueError as exc:
            if exc.code != -4059:  # "No need to change position side."
                raise
