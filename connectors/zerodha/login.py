"""Kite login: request token -> access token (checksum = SHA-256 of api_key + request_token + api_secret).

Live: open the login URL in the browser and catch the redirect on a loopback port, or let the user
paste the redirect URL. The demo emulator's login page redirects at once, so `auto_login` follows it.
"""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx

from core.errors import AuthError

from .rest import KiteRest


def checksum(api_key: str, request_token: str, api_secret: str) -> str:
    return hashlib.sha256((api_key + request_token + api_secret).encode()).hexdigest()


def login_url(login_base: str, api_key: str) -> str:
    return f"{login_base.rstrip('/')}/connect/login?api_key={api_key}&v=3"


def request_token_from(redirect_url: str) -> str:
    """Extract the request_token from a pasted redirect URL (ValueError when it is not a success)."""
    query = parse_qs(urlsplit(redirect_url).query)
    if query.get("status", ["success"])[0] != "success" or "request_token" not in query:
        raise ValueError("that URL carries no successful login (no request_token)")
    return query["request_token"][0]


async def create_session(rest: KiteRest, request_token: str, api_secret: str) -> str:
    """Exchange a request token for an access token; set it on the REST client and return it."""
    data = await rest.request("POST", "/session/token", data={"api_key": rest.api_key, "request_token": request_token,
                                                             "checksum": checksum(rest.api_key, request_token, api_secret)})
    rest.access_token = str(data["access_token"])
    return rest.access_token


async def auto_login(rest: KiteRest, login_base: str, api_secret: str) -> str:
    """Log in against a login page that redirects without a form (the emulator)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(login_url(login_base, rest.api_key), follow_redirects=False)
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307) or not location:
        raise AuthError(f"Kite login did not redirect (HTTP {response.status_code})")
    return await create_session(rest, request_token_from(location), api_secret)
