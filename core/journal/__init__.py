"""The SQLite journal: order intents, state changes, fills, audit log, settings and market caches."""
from .cache import MarketCache
from .journal import AuditEntry, Journal

__all__ = ["AuditEntry", "Journal", "MarketCache"]
