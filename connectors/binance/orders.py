"""Core orders in Binance's parameters, and the bookkeeping spot cancel-replace needs.

Mapping: LIMIT + GTC/IOC/FOK -> LIMIT with that timeInForce (DAY becomes GTC: crypto never closes);
LIMIT + GTX -> LIMIT_MAKER on spot, timeInForce=GTX on USD-M; MARKET -> MARKET (quoteOrderQty when the
request has a quote amount); STOP_LIMIT -> STOP_LOSS_LIMIT, or TAKE_PROFIT_LIMIT when the trigger lies
on the other side of the market (a buy triggered below it, a sell above it), STOP_MARKET likewise to
STOP_LOSS / TAKE_PROFIT. The client order id is always the OMS's.

Spot has no in-place modify: cancel-replace cancels the order and places a new one (new orderId, same
client id). The OMS keeps counting one order, so ReplaceChains adds what the earlier venue orders had
filled to the reports of the later ones, and hides the CANCELED of an order being replaced.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from core.domain import Instrument, Order, OrderStatus, OrderType, Side, TimeInForce, VenueOrderReport
from core.errors import ValidationError

from .instruments import wire_order_type
from .rest import ParamValue

Params = list[tuple[str, ParamValue]]


def _tif(tif: TimeInForce) -> str:
    return "GTC" if tif in (TimeInForce.DAY, TimeInForce.GTC) else tif.value


def stop_type(base: str, side: Side, trigger: Decimal, reference: Decimal | None) -> str:
    """STOP_LOSS[_LIMIT] or TAKE_PROFIT[_LIMIT] by where the trigger sits against the market."""
    if reference is None:
        return base
    below = trigger < reference
    take_profit = below if side is Side.BUY else trigger > reference
    return base.replace("STOP_LOSS", "TAKE_PROFIT") if take_profit else base


def order_params(order: Order, inst: Instrument, futures: bool, reference: Decimal | None = None,
                 quantity: Decimal | None = None, price: Decimal | None = None,
                 trigger: Decimal | None = None) -> Params:
    """The new-order parameters of an order (quantity/price/trigger override the order's own)."""
    req = order.request
    qty = quantity if quantity is not None else order.quantity
    px = price if price is not None else order.price
    stop = trigger if trigger is not None else order.trigger_price
    wire = wire_order_type(req, futures)
    if req.order_type.has_trigger:
        if futures:
            raise ValidationError("USD-M stop orders go through the algo order service, which this connector does not use")
        assert stop is not None
        wire = stop_type(wire, req.side, stop, reference)
    params: Params = [("symbol", inst.symbol), ("side", req.side.value), ("type", wire)]
    if wire in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        params.append(("timeInForce", "GTX" if futures and req.time_in_force is TimeInForce.GTX else _tif(req.time_in_force)))
    if req.order_type is OrderType.MARKET and req.quote_quantity is not None:
        params.append(("quoteOrderQty", req.quote_quantity))
    else:
        assert qty is not None
        params.append(("quantity", qty))
    if req.order_type.has_price:
        assert px is not None
        params.append(("price", px))
    if req.order_type.has_trigger:
        params.append(("stopPrice", stop))  # type: ignore[arg-type]
    params.append(("newClientOrderId", order.client_order_id))
    if futures:
        position_side = order.extra.get("positionSide", "")
        if position_side and position_side != "BOTH":
            params.append(("positionSide", position_side))
        elif req.reduce_only:
            params.append(("reduceOnly", True))
    params.append(("newOrderRespType", "RESULT"))
    return params


@dataclass(frozen=True, slots=True)
class _Base:
    """What the earlier venue orders of one client order had filled (quantity and quote value)."""

    quantity: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)


class ReplaceChains:
    """Cumulative bookkeeping across the venue orders that cancel-replace makes of one client order."""

    def __init__(self) -> None:
        self._base: dict[str, _Base] = {}  # venue order id -> what came before it
        self._replacing: dict[str, str] = {}  # venue order id being replaced -> client order id
        self._next_base: dict[str, _Base] = {}  # client order id -> base of the coming venue order

    def begin(self, client_order_id: str, venue_order_id: str) -> None:
        """A cancel-replace of venue_order_id is about to go out."""
        self._replacing[venue_order_id] = client_order_id
        self._base.setdefault(venue_order_id, self._next_base.get(client_order_id, _Base()))

    def abort(self, venue_order_id: str) -> None:
        """The cancel-replace failed before cancelling: the order is still the working one."""
        self._replacing.pop(venue_order_id, None)

    def replaced(self, client_order_id: str, old_venue_id: str, old_filled: Decimal, old_quote: Decimal,
                 new_venue_id: str = "") -> None:
        """The old venue order is cancelled with old_filled/old_quote done; the next one starts from there."""
        prior = self._base.get(old_venue_id, _Base())
        base = _Base(prior.quantity + old_filled, prior.quote + old_quote)
        self._next_base[client_order_id] = base
        if new_venue_id:
            self._base.setdefault(new_venue_id, base)

    def hides(self, report: VenueOrderReport) -> bool:
        """True for the CANCELED of a venue order being replaced (the client order lives on)."""
        return report.status is OrderStatus.CANCELLED and report.venue_order_id in self._replacing

    def adjust(self, report: VenueOrderReport) -> VenueOrderReport:
        """Rewrite a venue order's report as the client order's (quantities counted from the first order)."""
        base = self._base.get(report.venue_order_id)
        if base is None:
            base = self._next_base.get(report.client_order_id)
            if base is None:
                return report
            self._base[report.venue_order_id] = base
        if not base.quantity:
            return report
        filled = (report.filled_quantity or Decimal(0)) + base.quantity
        own_quote = (report.average_price or Decimal(0)) * (report.filled_quantity or Decimal(0))
        average = (own_quote + base.quote) / filled if filled else None
        quantity = report.quantity + base.quantity if report.quantity is not None else None
        return replace(report, filled_quantity=filled, average_price=average, quantity=quantity)

    def forget(self, venue_order_id: str) -> None:
        """Drop the bookkeeping of a venue order that is gone."""
        self._replacing.pop(venue_order_id, None)
