"""The Kite login page (kite.md C2), emulated: the demo user is logged in at once.

GET /connect/login?api_key=..&v=3 answers 302 to the app's redirect URL with request_token, action,
type and status=success (plus any redirect_params, decoded and appended). The redirect URL is the
app's (kite_state(exchange).set_redirect, or POST /_emulator/apps {"api_key", "redirect_url"}); by
default this server's own /callback, which shows the token.
"""
from __future__ import annotations

import json
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from .errors import json_response
from .state import KiteState

STATE_KEY: web.AppKey[KiteState] = web.AppKey("kite_login_state", KiteState)


async def login(request: web.Request) -> web.StreamResponse:
    """Redirect the browser to the app's redirect URL with a fresh request token."""
    state = request.app[STATE_KEY]
    api_key = request.query.get("api_key", "")
    app = state.apps.get(api_key)
    if app is None:
        return json_response({"status": "error", "message": "Invalid `api_key`.", "data": None, "error_type": "InputException"},
                             status=400)
    if request.query.get("v") not in (None, "3"):
        return json_response({"status": "error", "message": "Invalid API version; use v=3.", "data": None,
                              "error_type": "InputException"}, status=400)
    target = app.redirect_url or f"http://{request.host}/callback"
    extra = parse_qsl(request.query.get("redirect_params", ""), keep_blank_values=True)
    query = [("request_token", state.issue_request_token(api_key)), ("action", "login"), ("type", "login"),
             ("status", "success"), *extra]
    parts = urlsplit(target)
    existing = parse_qsl(parts.query, keep_blank_values=True)
    raise web.HTTPFound(urlunsplit(parts._replace(query=urlencode(existing + query))))


async def callback(request: web.Request) -> web.Response:
    """The default redirect target: show the request token."""
    token = escape(request.query.get("request_token", ""))
    return web.Response(text=f"<html><body><h1>Login successful</h1><p>request_token: <code>{token}</code></p></body></html>",
                        content_type="text/html")


async def apps_control(request: web.Request) -> web.Response:
    """POST {"api_key", "redirect_url"} (and optionally "api_secret" to add an app)."""
    state = request.app[STATE_KEY]
    try:
        body = json.loads(await request.text())
        api_key = str(body["api_key"])
    except (ValueError, KeyError, TypeError):
        return json_response({"error": 'expected {"api_key": ..., "redirect_url": ...}'}, status=400)
    if "api_secret" in body:
        state.register_app(api_key, str(body["api_secret"]), redirect_url=str(body.get("redirect_url", "")))
    elif api_key in state.apps:
        state.set_redirect(api_key, str(body.get("redirect_url", "")))
    else:
        return json_response({"error": f"unknown api_key {api_key}"}, status=404)
    return json_response({k: {"redirect_url": a.redirect_url, "user_id": a.user_id} for k, a in state.apps.items()})


def build(state: KiteState) -> web.Application:
    """The login app over a KiteState."""
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_get("/connect/login", login)
    app.router.add_get("/callback", callback)
    app.router.add_post("/_emulator/apps", apps_control)
    return app
