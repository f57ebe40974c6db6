"""Core domain types: identifiers, instruments, orders, fills, market and account events."""
from .account import Balance, ConnectionChanged, FillEvent, OrderUpdated, Position, ProgressEvent, VenueOrderReport
from .enums import ConnectionStatus, InstrumentKind, OptionRight, OrderStatus, OrderType, Product, Side, TimeInForce, Venue
from .instrument import Instrument, InstrumentId
from .market import BarEvent, BookDelta, PriceLevel, Tick, TradePrint
from .numbers import Rounding, is_multiple, round_price, round_quantity, round_to_increment, to_decimal
from .validation import order_problems, validate_order
from .orders import TRANSITIONS, ClientOrderId, Fill, IllegalTransition, Order, OrderRequest

__all__ = [
    "Balance", "BarEvent", "BookDelta", "ClientOrderId", "ConnectionChanged", "ConnectionStatus", "Fill",
    "FillEvent", "IllegalTransition", "Instrument", "InstrumentId", "InstrumentKind", "OptionRight", "Order",
    "OrderRequest", "OrderStatus", "OrderType", "OrderUpdated", "Position", "ProgressEvent", "PriceLevel", "Product", "Rounding",
    "Side", "TRANSITIONS", "Tick", "TimeInForce", "TradePrint", "Venue", "VenueOrderReport", "is_multiple",
    "order_problems", "round_price", "round_quantity", "round_to_increment", "to_decimal", "validate_order",
]
