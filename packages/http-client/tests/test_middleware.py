"""The middleware chain: order, changing the request, retrying, short-circuiting.

Requests go to the local test server through a handler that sends on the checked
connector, so what a middleware changes is seen by a real server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.client import ClientResponse, InvalidURL, TCPConnector
from httpwire.client._middleware import (
    ClientRequest,
    Handler,
    Middleware,
    as_middlewares,
    compose,
)
from httpwire.connectors import OutgoingRequest
from httpwire.forms import payload_from
from httpwire.streams import StreamReader
from httpwire_testserver import LocalServer


def sender(connector: TCPConnector, log: list[str] | None = None) -> Handler:
    """The innermost handler: send the request as it is, on the connector."""

    async def send(request: ClientRequest) -> ClientResponse:
        if log is not None:
            log.append("send")
        outgoing = OutgoingRequest(request.method, request.url, request.headers, request.body)
        conn = await connector.acquire(outgoing)
        raw = await conn.send(outgoing)
        return ClientResponse(raw, request.method, request.url, request.headers)

    return send


def make_request(url: str, method: str = "GET", **headers: str) -> ClientRequest:
    parsed = URL(url)
    return ClientRequest(method, parsed, CIMultiDictProxy(CIMultiDict(headers)), None, parsed)


def tagging(name: str, log: list[str]) -> Middleware:
    async def middleware(request: ClientRequest, handler: Handler) -> ClientResponse:
        log.append(f"{name} in")
        seen = request.headers.get("X-Seen", "")
        response = await handler(request.with_header("X-Seen", seen + name))
        log.append(f"{name} out")
        return response

    return middleware


async def test_first_middleware_is_outermost(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    log: list[str] = []
    chain = compose([tagging("a", log), tagging("b", log)], sender(connector, log))
    async with await chain(make_request(httpwire_server.url("/headers"))) as response:
        body = await response.json()
    assert log == ["a in", "b in", "send", "b out", "a out"]
    assert body["headers"]["X-Seen"] == "ab"  # the server saw both changes, in order


async def test_empty_chain_is_the_handler(connector: TCPConnector) -> None:
    handler = sender(connector)
    assert compose([], handler) is handler


async def test_middleware_changes_method_url_and_body(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    async def to_post(request: ClientRequest, handler: Handler) -> ClientResponse:
        return await handler(
            request.replace(method="post", url=httpwire_server.url("/post"), body=b"payload")
        )

    chain = compose([to_post], sender(connector))
    async with await chain(make_request(httpwire_server.url("/get"))) as response:
        assert response.status == 200
        assert response.method == "POST"
        assert (await response.json())["data"] == "payload"


async def test_middleware_retries_a_status(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    sent: list[str] = []

    async def retry_503(request: ClientRequest, handler: Handler) -> ClientResponse:
        response = await handler(request)
        if response.status == 503 and request.body_reusable:
            await response.read()  # the connection goes back to the pool
            sent.append(str(request.url))
            response = await handler(request.replace(url=httpwire_server.url("/status/200")))
        return response

    chain = compose([retry_503], sender(connector))
    response = await chain(make_request(httpwire_server.url("/status/503")))
    assert response.status == 200
    await response.read()
    assert sent == [httpwire_server.url("/status/503")]


async def test_middleware_short_circuits(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    cached: dict[str, ClientResponse] = {}
    sends: list[str] = []

    async def cache(request: ClientRequest, handler: Handler) -> ClientResponse:
        key = str(request.url)
        if key in cached:
            return cached[key]  # never reaches the handler
        response = cached[key] = await handler(request)
        await response.read()
        return response

    chain = compose([cache], sender(connector, sends))
    url = httpwire_server.url("/get")
    first = await chain(make_request(url))
    second = await chain(make_request(url))
    assert first is second
    assert sends == ["send"]


async def test_middleware_error_propagates(connector: TCPConnector) -> None:
    async def refuse(request: ClientRequest, handler: Handler) -> ClientResponse:
        raise PermissionError(f"{request.method} {request.url} is not allowed")

    chain = compose([refuse], sender(connector))
    with pytest.raises(PermissionError, match=r"GET http://127\.0\.0\.1:1/ is not allowed"):
        await chain(make_request("http://127.0.0.1:1/"))


def test_replace_checks_each_part() -> None:
    request = make_request("http://example.org/a")
    with pytest.raises(ValueError, match=r"RFC 9110 §5\.5"):
        request.with_header("X-Bad", "a\r\nInjected: yes")
    with pytest.raises(ValueError, match=r"RFC 9110 §5\.5"):
        request.replace(headers={"X-Bad\n": "v"})
    with pytest.raises(ValueError, match="invalid method"):
        request.replace(method="GE T")
    with pytest.raises(InvalidURL, match="absolute http or https"):
        request.replace(url="/relative")
    with pytest.raises(InvalidURL, match="absolute http or https"):
        request.replace(url="ftp://example.org/")
    with pytest.raises(TypeError, match="body must be None, bytes or a Body"):
        request.replace(body="text")
    with pytest.raises(TypeError, match=r"url must be a str or yarl\.URL"):
        request.replace(url=42)  # type: ignore[arg-type]  # the wrong type on purpose


def test_replace_keeps_what_is_not_given_and_leaves_the_original() -> None:
    request = make_request("http://example.org/a", Accept="*/*")
    changed = request.replace(body=b"x")
    assert changed.body == b"x"
    assert changed.method == "GET" and changed.url == request.url
    assert changed.headers is request.headers
    assert request.body is None
    assert request.replace(body=None).body is None
    assert changed.initial_url == request.initial_url
    with pytest.raises(AttributeError):
        request.method = "POST"  # type: ignore[misc]  # frozen on purpose


def test_with_header_replaces_every_field_of_that_name() -> None:
    request = make_request("http://example.org/").replace(
        headers=[("Accept", "a"), ("accept", "b"), ("X-Other", "c")]
    )
    changed = request.with_header("ACCEPT", "z")
    assert changed.headers.getall("Accept") == ["z"]
    assert changed.headers["X-Other"] == "c"
    assert request.headers.getall("Accept") == ["a", "b"]


def test_body_reusable() -> None:
    request = make_request("http://example.org/")
    assert request.body_reusable
    assert request.replace(body=b"x").body_reusable
    assert request.replace(body=payload_from({"a": "1"})).body_reusable
    stream = StreamReader()
    assert not request.replace(body=stream).body_reusable


def test_repr_hides_headers_and_credentials() -> None:
    request = make_request("http://user:secret@example.org/p", Authorization="Basic c2VjcmV0")
    text = repr(request)
    assert text == "<ClientRequest GET http://example.org/p>"
    assert "secret" not in text and "c2VjcmV0" not in text


def test_as_middlewares() -> None:
    async def mw(request: ClientRequest, handler: Handler) -> ClientResponse:
        return await handler(request)

    assert as_middlewares(None) == ()
    assert as_middlewares([mw, mw]) == (mw, mw)
    with pytest.raises(TypeError, match=r"wrap a single one: middlewares=\[mw\]"):
        as_middlewares(mw)  # type: ignore[arg-type]  # the mistake the check is for
    with pytest.raises(TypeError, match=r"middlewares\[1\] is a str"):
        as_middlewares([mw, "nope"])  # type: ignore[list-item]  # the mistake the check is for


def test_types_are_what_users_write() -> None:
    # A middleware written as users write it type-checks as a Middleware (mypy runs over
    # the tests); at run time the aliases are the callables they name.
    async def mw(request: ClientRequest, handler: Handler) -> ClientResponse:
        return await handler(request)

    typed: Middleware = mw
    as_callable: Callable[[ClientRequest, Handler], Awaitable[ClientResponse]] = typed
    assert as_callable is mw
