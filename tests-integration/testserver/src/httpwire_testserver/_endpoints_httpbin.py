"""httpbin's request-inspection, status, redirect, cookie and auth endpoints.

The JSON shapes follow httpbin's (``args``, ``headers``, ``origin``, ``url``,
``data``, ``form``, ``files``, ``json``, ``cookies``), so a test can run the
same assertions against this server and against httpbin itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
import re
from urllib.parse import quote

from ._app import App, echo, error_response, headers_dict, origin, semiflatten
from ._http import RawResponse, Request, Response, json_response

__all__ = ["register", "request_cookies"]

_BODY_KEYS = ("args", "data", "files", "form", "headers", "json", "origin", "url")
_REDIRECT_STATUSES = {301, 302, 303, 305, 307, 308}


def request_cookies(request: Request) -> dict[str, str]:
    """The cookies of the request's ``Cookie`` fields (later names win, as httpbin shows)."""
    cookies: dict[str, str] = {}
    for header in request.headers.getall("Cookie", []):
        for pair in header.split(";"):
            name, equals, value = pair.strip().partition("=")
            if equals and name:
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                cookies[name] = value
    return cookies


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _redirect(location: str, status: int = 302) -> Response:
    return Response(
        status,
        [("Location", location), ("Content-Type", "text/html; charset=utf-8")],
        b"<!doctype html><title>Redirecting</title><p>Redirecting.\n",
    )


def register(app: App) -> None:
    """Add httpbin's inspection, status, redirect, cookie and auth endpoints to ``app``."""

    @app.route("/get", ["GET"])
    async def get(app: App, request: Request, match: re.Match[str]) -> Response:
        return await echo(request, "args", "headers", "origin", "url")

    async def with_body(app: App, request: Request, match: re.Match[str]) -> Response:
        return await echo(request, *_BODY_KEYS)

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        app.route(f"/{method.lower()}", [method])(with_body)

    @app.route("/anything(/.*)?")
    async def anything(app: App, request: Request, match: re.Match[str]) -> Response:
        return await echo(request, *_BODY_KEYS, "method")

    @app.route("/headers", ["GET"])
    async def headers(app: App, request: Request, match: re.Match[str]) -> Response:
        return json_response({"headers": headers_dict(request)})

    @app.route("/ip", ["GET"])
    async def ip(app: App, request: Request, match: re.Match[str]) -> Response:
        return json_response({"origin": origin(request)})

    @app.route("/user-agent", ["GET"])
    async def user_agent(app: App, request: Request, match: re.Match[str]) -> Response:
        return json_response({"user-agent": request.headers.get("User-Agent")})

    @app.route("/delay/([0-9.]+)")
    async def delay(app: App, request: Request, match: re.Match[str]) -> Response:
        await asyncio.sleep(min(float(match.group(1)), 10.0))
        return await echo(request, *_BODY_KEYS)

    @app.route("/response-headers", ["GET", "POST"])
    async def response_headers(app: App, request: Request, match: re.Match[str]) -> Response:
        fields = [("Content-Type", "application/json"), *request.args]
        # The body lists the fields, Content-Length included, which depends on the body.
        length = 0
        while True:
            shown = [*fields, ("Content-Length", str(length))]
            body = json_response(semiflatten(shown)).body
            assert isinstance(body, bytes)
            if len(body) == length:
                break
            length = len(body)
        return Response(200, fields, body)

    @app.route("/status/([^/]+)")
    async def status(app: App, request: Request, match: re.Match[str]) -> Response:
        choices: list[tuple[int, float]] = []
        for item in match.group(1).split(","):
            code, _, weight = item.partition(":")
            if not code.strip().isdigit():
                return error_response(400, f"invalid status code {item[:20]!r}")
            choices.append((int(code), float(weight) if weight else 1.0))
        code = random.choices([c for c, _ in choices], [w for _, w in choices])[0]
        if not 100 <= code <= 999:
            return error_response(400, f"invalid status code {code}")
        fields: list[tuple[str, str]] = []
        if code in _REDIRECT_STATUSES:
            fields.append(("Location", "/redirect/1"))
        elif code == 401:
            fields.append(("WWW-Authenticate", 'Basic realm="Fake Realm"'))
        elif code == 407:
            fields.append(("Proxy-Authenticate", 'Basic realm="Fake Realm"'))
        return Response(code, fields, b"")

    @app.route("/redirect/([0-9]+)", ["GET"])
    async def redirect_n(app: App, request: Request, match: re.Match[str]) -> Response:
        n = int(match.group(1))
        if n < 1:
            return error_response(400, "redirect count must be at least 1")
        absolute = (request.arg("absolute") or "").lower() == "true"
        base = f"{request.connection.scheme}://{request.host()}" if absolute else ""
        kind = "absolute" if absolute else "relative"
        return _redirect(f"{base}/get" if n == 1 else f"{base}/{kind}-redirect/{n - 1}")

    @app.route("/relative-redirect/([0-9]+)", ["GET"])
    async def relative_redirect(app: App, request: Request, match: re.Match[str]) -> Response:
        n = int(match.group(1))
        if n < 1:
            return error_response(400, "redirect count must be at least 1")
        return _redirect("/get" if n == 1 else f"/relative-redirect/{n - 1}")

    @app.route("/absolute-redirect/([0-9]+)", ["GET"])
    async def absolute_redirect(app: App, request: Request, match: re.Match[str]) -> Response:
        n = int(match.group(1))
        if n < 1:
            return error_response(400, "redirect count must be at least 1")
        base = f"{request.connection.scheme}://{request.host()}"
        return _redirect(f"{base}/get" if n == 1 else f"{base}/absolute-redirect/{n - 1}")

    @app.route("/redirect-to")
    async def redirect_to(app: App, request: Request, match: re.Match[str]) -> Response:
        await request.read()
        url = request.arg("url")
        if url is None:
            return error_response(400, "redirect-to needs a url parameter")
        code = request.int_arg("status_code", 302, low=0, high=999)
        return _redirect(url, code if 300 <= code < 400 else 302)

    @app.route("/cookies", ["GET"])
    async def cookies(app: App, request: Request, match: re.Match[str]) -> Response:
        return json_response({"cookies": request_cookies(request)})

    @app.route("/cookies/set", ["GET"])
    async def cookies_set(app: App, request: Request, match: re.Match[str]) -> Response:
        response = _redirect("/cookies")
        response.headers += [
            ("Set-Cookie", f"{k}={_cookie_value(v)}; Path=/") for k, v in request.args
        ]
        return response

    @app.route("/cookies/set/([^/]+)/([^/]*)", ["GET"])
    async def cookies_set_one(app: App, request: Request, match: re.Match[str]) -> Response:
        response = _redirect("/cookies")
        response.headers.append(
            ("Set-Cookie", f"{match.group(1)}={_cookie_value(match.group(2))}; Path=/")
        )
        return response

    @app.route("/cookies/delete", ["GET"])
    async def cookies_delete(app: App, request: Request, match: re.Match[str]) -> Response:
        response = _redirect("/cookies")
        expired = "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
        response.headers += [("Set-Cookie", f"{name}=; {expired}") for name, _ in request.args]
        return response

    @app.route("/(hidden-)?basic-auth/([^/]+)/([^/]+)", ["GET"])
    async def basic_auth(
        app: App, request: Request, match: re.Match[str]
    ) -> Response | RawResponse:
        hidden, user, password = match.group(1), match.group(2), match.group(3)
        if _basic_credentials(request) == (user, password):
            return json_response({"authenticated": True, "user": user})
        if hidden:
            return error_response(404, "not found")
        return Response(401, [("WWW-Authenticate", 'Basic realm="Fake Realm"')], b"")


def _cookie_value(value: str) -> str:
    # Values travel as given; what a cookie cannot hold is percent-encoded (RFC 6265 §4.1.1).
    return quote(value, safe="!#$&'()*+-./:<=>?@[]^_`{|}~")
