"""The emulator's Kite Connect v3 protocol: login, REST envelope and the binary ticker."""
