"""The instrument catalogue: every instrument the connected venues offer, indexed for lookup and search."""
from .catalog import InstrumentCatalog

__all__ = ["InstrumentCatalog"]
