"""The Kite daily login from the terminal: open Kite's login page in the browser and catch its redirect.

Kite sessions end every morning (6 AM IST). When the Zerodha connector says "login required", the
engine calls this handler: it listens on the app's registered redirect URL (loopback only, e.g.
http://127.0.0.1:5010/callback, set as redirect_url in the profile's [kite] table and in the Kite
developer console), opens the login page, and hands the request token to the connector, which
exchanges it for the day's access token and keeps it in the vault's token store.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from core.venue import VenueClient

from .engine import LoginHandler
from .settings import Profile

log = logging.getLogger(__name__)
DEFAULT_REDIRECT_URL = "http://127.0.0.1:5010/callback"
LOGIN_TIMEOUT_S = 300.0


def redirect_target(profile: Profile) -> tuple[int, str]:
    """(port, path) of the profile's Kite redirect URL; ValueError unless it points at this machine."""
    url = urlsplit(str(profile.options.get("kite", {}).get("redirect_url") or DEFAULT_REDIRECT_URL))
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        raise ValueError(f"the Kite redirect_url must be http://127.0.0.1:<port>/<path> (got {url.geturl()!r})")
    return url.port, url.path or "/"


def browser_login(profile: Profile, open_url: Callable[[str], Any], timeout_s: float = LOGIN_TIMEOUT_S) -> LoginHandler:
    """A login handler that signs a Zerodha client in through the user's browser."""
    port, path = redirect_target(profile)

    async def login(client: VenueClient) -> None:
        log.warning("Kite: log in in the browser window that opened (waiting up to %.0f minutes)", timeout_s / 60)
        await client.login_interactive(open_url=open_url, port=port, path=path, timeout_s=timeout_s)  # type: ignore[attr-defined]
        log.info("Kite: logged in for the day")

    return login
