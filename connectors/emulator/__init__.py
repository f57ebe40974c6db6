"""Local exchange emulator: Binance and Kite protocol servers on loopback, driven by core's matching engine."""
