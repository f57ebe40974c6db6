"""Trading: the one order path (TradingApi -> risk -> OMS -> journal -> connector), reconciliation, the kill
switch and local brackets. Build it all with core.trading.stack.build_trading (not imported here, to keep
core.portfolio free to import core.trading.events)."""
from .events import FillApplied, KillSwitchChanged, ReconciliationReport
from .handle import OrderHandle
from .ids import ClientOrderIdGenerator
from .reconcile import (Difference, DuplicateReport, FillBeforeStatus, MissedFill, OrderGone, PositionMismatch,
                        StatusMismatch, UnknownFill, UnknownOrder, compare_positions, reconcile)

__all__ = ["ClientOrderIdGenerator", "Difference", "DuplicateReport", "FillApplied", "FillBeforeStatus",
           "KillSwitchChanged", "MissedFill", "OrderGone", "OrderHandle", "PositionMismatch", "ReconciliationReport",
           "StatusMismatch", "UnknownFill", "UnknownOrder", "compare_positions", "reconcile"]
