"""Zerodha Kite Connect v3 connector: httpx REST, the binary Kite Ticker over websockets, login.

    ZerodhaClient(bus, KiteEndpoints(...), api_key, api_secret=..., token_store=..., cache_dir=...)
    demo_client(bus, emulator_endpoints, api_key, api_secret)   the emulator's demo account (logs itself in)
    parse_frame(payload) -> list[KiteTick]     the pure binary parser (MalformedFrame on a bad message)
"""
from .auth import KiteSession, MemoryTokenStore, TokenStore
from .client import KiteEndpoints, ZerodhaClient, demo_client
from .ratelimit import KiteLimits
from .ticker import KiteTick, MalformedFrame, parse_frame

__all__ = ["KiteEndpoints", "KiteLimits", "KiteSession", "KiteTick", "MalformedFrame", "MemoryTokenStore", "TokenStore",
           "ZerodhaClient", "demo_client", "parse_frame"]
