"""Panels of the order path: orders, trades, positions, funds and risk."""
