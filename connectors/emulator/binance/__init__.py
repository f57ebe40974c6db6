"""The Binance protocol servers of the exchange emulator (spot and USD-M), on top of contract.ExchangeApi."""
from .app import build_spot_app, build_usdm_app
from .auth import DEMO_ACCOUNT, DEMO_API_KEY, DEMO_SECRET, register_ed25519_key, register_hmac_key

__all__ = ["DEMO_ACCOUNT", "DEMO_API_KEY", "DEMO_SECRET", "build_spot_app", "build_usdm_app", "register_ed25519_key",
           "register_hmac_key"]
