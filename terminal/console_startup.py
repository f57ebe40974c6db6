"""Run inside the console's kernel at start: connect to the engine and put its API in scope.

The kernel is a separate process with a scrubbed environment: it can reach the engine only through
the channel (trading API with risk checks, market data), never the vault or the venue keys.
"""
# This file is executed as cell code in the kernel (top-level await is allowed there).
import os as _os

from core import options  # noqa: F401  (option maths for the user)
from core.domain import InstrumentId, OrderType, Side, TimeInForce  # noqa: F401
from terminal.engine_client import EngineClient as _EngineClient

engine = await _EngineClient.connect(_os.environ.pop("SQ_ENGINE_URL"), _os.environ.pop("SQ_ENGINE_TOKEN"), "console")  # type: ignore[top-level-await]  # noqa: F704
buy, sell, cancel, cancel_all = engine.buy, engine.sell, engine.cancel, engine.cancel_all
orders, positions, quote, book, search = engine.orders, engine.positions, engine.quote, engine.book, lambda q, n=20: engine.call("search", query=q, limit=n)
print("ShrivenQuant console — engine connected. Try: await quote('BTCUSDT'), await buy('BTCUSDT', 0.01), await orders()")
