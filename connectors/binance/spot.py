"""The Binance Spot connector (Venue.BINANCE).

    client = BinanceSpotClient(bus, SPOT_LIVE, BinanceCredentials.hmac(key, secret))
    client = BinanceSpotClient.from_url(bus, "http://127.0.0.1:8123", api_key="...", secret="...")  # emulator
    await client.connect(); await client.subscribe([iid], [Channel.BOOK]); report = await client.place_order(order)
"""
from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.bus import EventBus
from core.domain import Balance, InstrumentId, Order, Position, Venue, VenueOrderReport
from core.errors import OrderOutcomeUnknown, OrderRejected, ValidationError
from core.venue import RequestSent

from .client import BinanceClient
from .config import BinanceCredentials, BinanceEndpoints, credentials_from
from .errors import ReplaceFailed
from .instruments import validate
from .orders import ReplaceChains, order_params
from .rest import OutcomeUnknown
from .userdata import SpotUserStream
from .wire_account import ExecutionReport, OrderMsg, parse_account_position
from .wire_market import Malformed, dec

log = logging.getLogger(__name__)


class BinanceSpotClient(BinanceClient):
    """Spot: REST /api/v3, combined market streams, user data over the WS API."""

    venue = Venue.BINANCE
    api = "/api/v3"

    def __init__(self, bus: EventBus, endpoints: BinanceEndpoints, credentials: BinanceCredentials | None = None,
                 **options: Any) -> None:
        super().__init__(bus, endpoints, credentials, **options)
        self.chains = ReplaceChains()

    @classmethod
    def from_url(cls, bus: EventBus, base_url: str, api_key: str | None = None, secret: str | None = None,
                 ed25519_pem: bytes | str | None = None, **options: Any) -> "BinanceSpotClient":
        """A client of a server serving everything on one host (the emulator): http://host:port."""
        return cls(bus, BinanceEndpoints.single_host(base_url), credentials_from(api_key, secret, ed25519_pem), **options)

    def _adjust(self, report: VenueOrderReport) -> VenueOrderReport:
        return self.chains.adjust(report)

    def _make_user_stream(self) -> SpotUserStream:
        assert self.credentials is not None
        return SpotUserStream(self.endpoints.ws_api, self.credentials, self.rest, self.bus, self._on_user_event,
                              backoff_s=self.backoff_s)

    def _on_user_event(self, event: dict[str, Any]) -> None:
        try:
            kind = event.get("e")
            if kind == "executionReport":
                msg = ExecutionReport.parse(event)
                report = msg.parse_to_report()
                if self.chains.hides(report):
                    self.chains.replaced(report.client_order_id, report.venue_order_id, msg.z, msg.Z)
                    return
                self._publish_order_event(self.chains.adjust(report), msg.parse_to_fill())
            elif kind == "outboundAccountPosition":
                for balance in parse_account_position(event):
                    self.bus.publish(balance)
        except Malformed as exc:
            log.warning("Binance user event skipped: %s", exc)

    # trading

    async def place_order(self, order: Order, sent: RequestSent | None = None) -> VenueOrderReport:
        inst = self._check(order)
        reference = await self._reference(inst.symbol) if order.request.order_type.has_trigger else None
        return await self._place(order, order_params(order, inst, False, reference), sent)

    async def modify_order(self, order: Order, price: Decimal | None, quantity: Decimal | None,
                           trigger_price: Decimal | None) -> VenueOrderReport:
        """Cancel-replace (STOP_ON_FAILURE): the new order keeps the client id and carries what is left to fill."""
        inst = self.instrument(order.instrument_id)
        if not order.venue_order_id:
            raise ValidationError(f"{order.client_order_id} is not acknowledged yet; nothing to modify")
        total = quantity if quantity is not None else order.quantity
        assert total is not None
        remaining = total - order.filled_quantity
        new_price = price if price is not None else order.price
        new_trigger = trigger_price if trigger_price is not None else order.trigger_price
        request = replace(order.request, quantity=remaining, price=new_price, trigger_price=new_trigger)
        validate(inst, request, self.market.last_price.get(inst.symbol))
        reference = await self._reference(inst.symbol) if request.order_type.has_trigger else None
        params = order_params(order, inst, False, reference, quantity=remaining, price=new_price, trigger=new_trigger)
        params += [("cancelReplaceMode", "STOP_ON_FAILURE"), ("cancelOrderId", order.venue_order_id)]
        old = order.venue_order_id
        self.chains.begin(order.client_order_id, old)
        try:
            answer = await self.rest.request("POST", f"{self.api}/order/cancelReplace", params, weight=1, signed=True,
                                             orders=1, is_order=True)
        except OutcomeUnknown as exc:
            report = await self._resolve_unknown(order, exc)
            if report.venue_order_id == old:
                if self.chains.hides(report):  # cancelled by the replace; the new order is not visible yet
                    raise OrderOutcomeUnknown(f"modify of {order.client_order_id}: {exc}") from None
                self.chains.abort(old)
            return report
        except ReplaceFailed as exc:
            if not exc.cancelled:
                self.chains.abort(old)
            else:
                self.chains.forget(old)
            raise OrderRejected(f"{exc} ({_replace_detail(exc.data)})", code=exc.code, http_status=exc.http_status) from None
        except Exception:
            self.chains.abort(old)
            raise
        cancelled = answer["cancelResponse"]
        new = OrderMsg.parse(answer["newOrderResponse"])
        self.chains.replaced(order.client_order_id, old, dec(cancelled["executedQty"]), dec(cancelled["cummulativeQuoteQty"]),
                             str(new.orderId))
        return self._report(new)

    async def cancel_all(self, instrument_id: InstrumentId) -> list[VenueOrderReport]:
        """Cancel every working order of a symbol (DELETE openOrders)."""
        inst = self.instrument(instrument_id)
        try:
            answer = await self.rest.request("DELETE", f"{self.api}/openOrders", {"symbol": inst.symbol}, weight=1,
                                             signed=True, is_order=True)
        except OutcomeUnknown as exc:
            raise OrderOutcomeUnknown(f"cancel all {inst.symbol}: {exc}") from None
        except OrderRejected as exc:
            if exc.code == -2011:
                return []
            raise
        return [self._report(OrderMsg.parse(o)) for o in answer if "orderId" in o]

    async def positions(self) -> list[Position]:
        """Spot holds balances, not positions."""
        return []

    async def balances(self) -> list[Balance]:
        answer = await self.rest.request("GET", f"{self.api}/account", {"omitZeroBalances": "true"}, weight=20, signed=True)
        return [Balance(self.venue, str(b["asset"]), dec(b["free"]), dec(b["locked"])) for b in answer["balances"]]


def _replace_detail(data: dict[str, Any]) -> str:
    cancel, new = data.get("cancelResponse") or {}, data.get("newOrderResponse") or {}
    parts = [f"cancel {data.get('cancelResult')}" + (f": {cancel.get('msg')}" if "msg" in cancel else ""),
             f"new order {data.get('newOrderResult')}" + (f": {new.get('msg')}" if "msg" in new else "")]
    return "; ".join(parts)

