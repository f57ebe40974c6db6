"""Binance Spot and USD-M futures connectors: httpx for REST, websockets for streams, no vendor SDK."""
from .config import SPOT_LIVE, SPOT_TESTNET, USDM_LIVE, USDM_TESTNET, BinanceCredentials, BinanceEndpoints, credentials_from
from .spot import BinanceSpotClient
from .usdm import BinanceUsdmClient

__all__ = ["SPOT_LIVE", "SPOT_TESTNET", "USDM_LIVE", "USDM_TESTNET", "BinanceCredentials", "BinanceEndpoints",
           "BinanceSpotClient", "BinanceUsdmClient", "credentials_from"]
