"""The emulator's Kite Connect v3 servers: login redirect, REST and the binary Kite Ticker (see app.py)."""
