"""The matching engine: limit order books with price-time priority, shared by the emulator and the backtester."""
from .engine import MatchingEngine
from .events import (Accepted, Amended, Cancelled, EngineOrder, ExecEvent, Expired, ExpireReason, Rejected, RejectReason,
                     Trade, Triggered)

__all__ = ["Accepted", "Amended", "Cancelled", "EngineOrder", "ExecEvent", "ExpireReason", "Expired", "MatchingEngine",
           "RejectReason", "Rejected", "Trade", "Triggered"]
