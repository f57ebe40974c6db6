"""Kite login (kite.md C2): the login URL, catching the redirect, the checksum, the session, the token store.

1. Send the user to login_url(). Kite redirects the browser to the app's registered redirect URL with
   ?request_token=..&status=success. RedirectCatcher serves that URL on 127.0.0.1 (register
   http://127.0.0.1:<port>/<path> as the app's redirect URL) and hands over the token; or the user
   pastes the address bar and request_token_from() reads it.
2. create_session() posts api_key, request_token and checksum = sha256(api_key + request_token +
   api_secret) to /session/token and returns the access token (and who logged in).
3. The access token is kept in a TokenStore (any object with get/set of strings: the vault, or
   MemoryTokenStore in tests). It dies at 6 AM IST the next day (or on logout / login elsewhere):
   stored_token() ignores a token logged in before the last 6 AM.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx

from core.errors import AuthError

from ..tls import context_for
from .rest import KiteRest

if TYPE_CHECKING:
    from aiohttp import web

IST = ZoneInfo("Asia/Kolkata")
EXPIRY_TIME = time(6, 0)


class TokenStore(Protocol):
    """Where the access token lives between runs (the vault implements this)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class MemoryTokenStore:
    """A TokenStore in memory (tests, and sessions that should not outlive the process)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        self._values[key] = value


@dataclass(frozen=True)
class KiteSession:
    """Who logged in, and the token to use until 6 AM IST."""

    user_id: str
    user_name: str
    access_token: str
    public_token: str
    login_time: datetime  # IST
    exchanges: tuple[str, ...]
    products: tuple[str, ...]


def checksum(api_key: str, token: str, api_secret: str) -> str:
    """SHA-256 hex of api_key + token + api_secret (the session and refresh checksum)."""
    return hashlib.sha256((api_key + token + api_secret).encode()).hexdigest()


def login_url(login_root: str, api_key: str, redirect_params: dict[str, str] | None = None) -> str:
    """The Kite login page for an app (https://kite.zerodha.com/connect/login?api_key=..&v=3)."""
    query = {"api_key": api_key, "v": "3"}
    if redirect_params:
        query["redirect_params"] = urlencode(redirect_params)
    return f"{login_root.rstrip('/')}/connect/login?{urlencode(query)}"


def request_token_from(url: str) -> str:
    """Read the request_token from a redirect URL (pasted by the user or caught); AuthError if login failed."""
    query = parse_qs(urlsplit(url.strip()).query)
    status = (query.get("status") or ["success"])[0]
    token = (query.get("request_token") or [""])[0]
    if status != "success" or not token:
        raise AuthError(f"Kite login did not succeed (status={status!r}); log in again")
    return token


async def headless_request_token(login_page: str) -> str:
    """Open the login page without a browser and read the request token from its redirect.

    Only where the page redirects at once (the emulator's demo user): Kite's real page needs the user.
    """
    async with httpx.AsyncClient(follow_redirects=False, timeout=7.0, verify=context_for(login_page)) as http:
        try:
            response = await http.get(login_page)
        except httpx.HTTPError as exc:
            raise AuthError(f"Kite login page unreachable ({type(exc).__name__})") from None
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        raise AuthError("the Kite login page wants a user: log in in a browser")
    return request_token_from(location)


def session_expired(login_time: datetime, now: datetime) -> bool:
    """True once the 6 AM IST after the login has passed (the regulatory daily expiry)."""
    login = login_time.astimezone(IST)
    cutoff = datetime.combine(login.date(), EXPIRY_TIME, IST)
    if login >= cutoff:
        cutoff += timedelta(days=1)
    return now.astimezone(IST) >= cutoff


async def create_session(rest: KiteRest, api_secret: str, request_token: str) -> KiteSession:
    """Exchange a request token for a session; sets the REST client's access token."""
    data = await rest.request("POST", "/session/token", form={
        "api_key": rest.api_key, "request_token": request_token,
        "checksum": checksum(rest.api_key, request_token, api_secret)}, auth=False)
    login_time = datetime.strptime(str(data.get("login_time")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST) \
        if data.get("login_time") else datetime.now(IST)
    session = KiteSession(str(data["user_id"]), str(data.get("user_name") or ""), str(data["access_token"]),
                          str(data.get("public_token") or ""), login_time, tuple(data.get("exchanges") or ()),
                          tuple(data.get("products") or ()))
    rest.access_token = session.access_token
    return session


def store_session(store: TokenStore, api_key: str, session: KiteSession) -> None:
    """Keep a session's access token and login time in the store."""
    store.set(_key(api_key, "access_token"), session.access_token)
    store.set(_key(api_key, "login_time"), session.login_time.isoformat())


def stored_token(store: TokenStore, api_key: str, now: datetime) -> str | None:
    """The stored access token if it can still be alive (logged in after the last 6 AM IST)."""
    token = store.get(_key(api_key, "access_token"))
    stamp = store.get(_key(api_key, "login_time"))
    if not token or not stamp:
        return None
    try:
        login_time = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return None if session_expired(login_time, now) else token


def forget_token(store: TokenStore, api_key: str) -> None:
    """Drop the stored access token (it was refused)."""
    store.set(_key(api_key, "access_token"), "")


def _key(api_key: str, name: str) -> str:
    return f"zerodha/{api_key}/{name}"


class RedirectCatcher:
    """A one-shot loopback HTTP server that receives the login redirect.

        async with RedirectCatcher(port=5010) as catcher:   # the app's redirect URL is catcher.url
            open_browser(login_url(...))
            token = await catcher.wait(timeout_s=300)
    """

    def __init__(self, port: int = 0, path: str = "/callback", host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the redirect catcher listens on loopback only")
        self.host, self.port, self.path = host, port, path
        self._runner: web.AppRunner | None = None
        self._token: asyncio.Future[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def __aenter__(self) -> "RedirectCatcher":
        from aiohttp import web  # imported here: logins are rare and aiohttp costs 0.1 s of every start-up

        self._token = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_get(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait(self, timeout_s: float = 300.0) -> str:
        """The request token of the first redirect; AuthError if login failed or nothing came in time."""
        assert self._token is not None, "use RedirectCatcher as an async context manager"
        try:
            return await asyncio.wait_for(asyncio.shield(self._token), timeout_s)
        except asyncio.TimeoutError:
            raise AuthError(f"no Kite login redirect within {timeout_s:.0f} s") from None

    async def _receive(self, request: web.Request) -> web.Response:
        from aiohttp import web

        assert self._token is not None
        try:
            token = request_token_from(str(request.url))
        except AuthError as exc:
            if not self._token.done():
                self._token.set_exception(exc)
            return web.Response(text="Kite login failed. You can close this window.", status=400)
        if not self._token.done():
            self._token.set_result(token)
        return web.Response(text="Logged in to Kite. You can close this window and return to ShrivenQuant.")
