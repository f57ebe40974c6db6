"""The emulator's instruments, their synthetic order flow, and candle history."""
