"""The emulator's endpoints and their listening sockets, with nothing heavier than the socket module.

`python -m connectors.emulator` binds these and prints the endpoints before it imports the servers
and builds the markets: a terminal that starts it builds its clients meanwhile, and their first
requests wait in the sockets' backlog until the servers answer.
"""
from __future__ import annotations

import socket

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# endpoint name -> (app module, builder, extra websocket key on the same port)
APPS: tuple[tuple[str, str, str, str], ...] = (
    ("binance_rest", "connectors.emulator.binance.app", "build_spot_app", "binance_ws"),
    ("binance_fapi", "connectors.emulator.binance.app", "build_usdm_app", "binance_fstream"),
    ("kite_rest", "connectors.emulator.kite.app", "build_rest_app", ""),
    ("kite_ws", "connectors.emulator.kite.app", "build_ticker_app", ""),
    ("kite_login", "connectors.emulator.kite.app", "build_login_app", ""),
)


def check_loopback(host: str) -> None:
    """Refuse any host but loopback: the emulator's demo accounts need no keys."""
    if host not in LOOPBACK:
        raise ValueError("the emulator serves on loopback only")


def bind(host: str, port: int = 0) -> dict[str, socket.socket]:
    """A listening socket per endpoint: ephemeral ports for port 0, else port, port + 1, ... in APPS order."""
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: dict[str, socket.socket] = {}
    try:
        for offset, (key, *_) in enumerate(APPS):
            sockets[key] = socket.create_server((host, port + offset if port else 0), family=family)
    except OSError:
        for sock in sockets.values():
            sock.close()
        raise
    return sockets


def endpoints(host: str, sockets: dict[str, socket.socket]) -> dict[str, str]:
    """The URLs of the bound sockets (keys binance_rest, binance_ws, ..., kite_login)."""
    urls: dict[str, str] = {}
    for key, _, _, ws_key in APPS:
        if key in sockets:
            port = sockets[key].getsockname()[1]
            urls[key] = f"{'ws' if key == 'kite_ws' else 'http'}://{host}:{port}"
            if ws_key:
                urls[ws_key] = f"ws://{host}:{port}"
    return urls
