"""Routing of requests to endpoints, and the httpbin-shaped pieces endpoints share.

Routes are regular expressions over the path, tried in order. A path that
matches a route but not its methods answers 405 with ``Allow`` (as httpbin does
for ``GET /post``), or 200 with ``Allow`` to OPTIONS; a path no route matches
answers 404. Handlers are plain
``async def handler(request, match) -> Response | RawResponse`` functions; the
state a server keeps across requests (in-flight counters) lives on :class:`App`.
"""

from __future__ import annotations

import base64
import json
import re
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from httpwire.parser import HttpParserError

from ._forms import FormError, ParsedForm, media_type, parse_form
from ._http import RawResponse, Request, RequestBodyTooLargeError, Response, json_response

__all__ = [
    "App",
    "Handler",
    "InflightStats",
    "Route",
    "echo",
    "error_response",
    "headers_dict",
    "json_safe",
    "origin",
    "request_dict",
    "semiflatten",
]

Handler = Callable[["App", Request, "re.Match[str]"], Awaitable["Response | RawResponse"]]
ANY_METHOD: frozenset[str] = frozenset()


@dataclass
class Route:
    """A path pattern, the methods it allows (empty: any), and its handler."""

    pattern: re.Pattern[str]
    methods: frozenset[str]
    handler: Handler


@dataclass
class InflightStats:
    """Concurrency seen on one ``/inflight`` key."""

    current: int = 0
    max: int = 0
    total: int = 0
    connections: set[int] = field(default_factory=set)


def error_response(status: int, message: str, *, close: bool = False) -> Response:
    """A plain-text error answer."""
    return Response(
        status,
        [("Content-Type", "text/plain; charset=utf-8")],
        (message + "\n").encode(),
        close=close,
    )


class App:
    """The routing table and the state shared by requests."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.inflight: dict[str, InflightStats] = {}

    def route(
        self, pattern: str, methods: Iterable[str] = ANY_METHOD
    ) -> Callable[[Handler], Handler]:
        """Register a handler for paths matching ``pattern`` in full."""

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(re.compile(pattern), frozenset(methods), handler))
            return handler

        return register

    async def handle(self, request: Request) -> Response | RawResponse:
        """Route one request and return the handler's answer.

        Raises:
            HttpParserError: The request body broke the protocol while a handler read it.
        """
        allowed: set[str] = set()
        for route in self.routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            method = "GET" if request.method == "HEAD" else request.method
            if route.methods and method not in route.methods:
                allowed |= route.methods
                continue
            try:
                return await route.handler(self, request, match)
            except HttpParserError:
                raise  # the request itself is broken: the connection answers and closes
            except RequestBodyTooLargeError as exc:
                return error_response(413, str(exc), close=True)
            except (FormError, ValueError) as exc:
                return error_response(400, f"bad request: {exc}")
            except Exception:  # an endpoint's bug must show to the tests, not kill the server
                return error_response(500, traceback.format_exc())
        if allowed:
            allow = ", ".join(
                sorted(allowed | {"OPTIONS"} | ({"HEAD"} if "GET" in allowed else set()))
            )
            if request.method == "OPTIONS":  # answered for every route, as Flask does for httpbin
                return Response(200, [("Allow", allow), ("Content-Type", "text/html")], b"")
            return Response(405, [("Allow", allow), ("Content-Type", "text/plain")], b"")
        return error_response(404, f"no endpoint at {request.path[:200]!r}")


def semiflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """A dict of pairs where a repeated key holds the list of its values (httpbin's shape)."""
    result: dict[str, str | list[str]] = {}
    for key, value in pairs:
        present = result.get(key)
        if present is None:
            result[key] = value
        elif isinstance(present, list):
            present.append(value)
        else:
            result[key] = [present, value]
    return result


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def headers_dict(request: Request) -> dict[str, str]:
    """Request fields by Title-Case name, repeated fields joined with commas (as WSGI does)."""
    result: dict[str, str] = {}
    for name, value in request.headers.items():
        key = _title(name)
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def json_safe(data: bytes, content_type: str = "application/octet-stream") -> str:
    """Text when the bytes are UTF-8, else a ``data:`` URL (RFC 2397), as httpbin shows bodies."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def origin(request: Request) -> str:
    """The client address httpbin reports (``X-Forwarded-For`` first)."""
    return request.headers.get("X-Forwarded-For", request.connection.peer)


async def request_dict(request: Request, *keys: str) -> dict[str, object]:
    """The httpbin description of a request, limited to ``keys``.

    Reading ``data``, ``form``, ``files`` or ``json`` reads the whole body
    (bounded by :meth:`Request.read`'s limit).
    """
    result: dict[str, object] = {}
    body = b""
    form = ParsedForm()
    if {"data", "form", "files", "json"} & set(keys):
        body = await request.read()
        parsed = parse_form(request.headers.get("Content-Type", ""), body)
        if parsed is not None:
            form = parsed
    for key in keys:
        if key == "url":
            result["url"] = request.url()
        elif key == "args":
            result["args"] = semiflatten(request.args)
        elif key == "headers":
            result["headers"] = headers_dict(request)
        elif key == "origin":
            result["origin"] = origin(request)
        elif key == "method":
            result["method"] = request.method
        elif key == "form":
            result["form"] = semiflatten(form.fields)
        elif key == "files":
            files = [
                (f.name, json_safe(f.content, f.content_type or "application/octet-stream"))
                for f in form.files
            ]
            result["files"] = semiflatten(files)
        elif key == "data":
            is_form = media_type(request.headers.get("Content-Type", "")) in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
            result["data"] = "" if is_form else json_safe(body)
        elif key == "json":
            try:
                result["json"] = json.loads(body.decode("utf-8")) if body else None
            except ValueError:
                result["json"] = None
        else:
            raise AssertionError(f"unknown request key {key!r}")
    return result


async def echo(request: Request, *keys: str, status: int = 200) -> Response:
    """A JSON answer describing the request (the shape of ``/get``, ``/post``, ``/anything``)."""
    return json_response(await request_dict(request, *keys), status)
