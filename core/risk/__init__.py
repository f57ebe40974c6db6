"""Pre-trade risk: limits per venue, pure rules, order-rate accounting and the engine that enforces them."""
from .engine import LimitUsage, Rejection, RiskEngine, RiskRejection, RiskSnapshot
from .limits import FreezeMode, RiskLimits, RiskProfile, default_profile
from .rules import OrderContext, Violation

__all__ = ["FreezeMode", "LimitUsage", "OrderContext", "Rejection", "RiskEngine", "RiskLimits", "RiskProfile",
           "RiskRejection", "RiskSnapshot", "Violation", "default_profile"]
