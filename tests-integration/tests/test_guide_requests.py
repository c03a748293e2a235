"""The guide's "Make a Request", "Passing Parameters In URLs", "Response Status Codes" and
"Response Headers", in modern form, against our server and httpbin on gunicorn.

The guide's ``httpbin.org`` URLs map to the ``server`` peer; its
``github.com/timeline.json`` to ``/json``. Parameters keep the order given (the
errata of DESIGN.md's "Reading the guide").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from multidict import CIMultiDictProxy, MultiDict
from tests.guide_support import leak_check, recording_server
from yarl import URL

from httpwire.client import ClientResponse, ClientResponseError, ClientSession, request

if TYPE_CHECKING:
    from httpwire_testserver import LocalServer
    from httpwire_testserver.plugin import Peer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


# -- Make a Request -------------------------------------------------------------------------

# (method as the guide spells it, path) for each call of the section.
GUIDE_CALLS = [
    ("get", "/json"),
    ("post", "/post"),
    ("put", "/put"),
    ("delete", "/delete"),
    ("head", "/get"),
    ("options", "/get"),
    ("patch", "/patch"),
]


@pytest.mark.parametrize(("method", "path"), GUIDE_CALLS)
async def test_make_a_request_with_each_method(server: Peer, method: str, path: str) -> None:
    """``r = await request('post', 'http://httpbin.org/post')`` and the other methods."""
    r = await request(method, server.url(path))
    try:
        assert isinstance(r, ClientResponse)
        # The route answers only its own method: 200 shows the method went out as a token.
        assert r.status == 200
        assert r.method == method.upper()
        assert r.url == URL(server.url(path))
        body = await r.read()
        if method == "head":
            assert body == b""
            assert r.headers["Content-Type"] == "application/json"
        elif method == "options":
            assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "HEAD"}
        elif path != "/json":
            echo = json.loads(body)
            assert echo["url"] == server.url(path)
    finally:
        r.release()


@pytest.mark.parametrize(("method", "path"), GUIDE_CALLS)
async def test_make_a_request_through_a_session(server: Peer, method: str, path: str) -> None:
    """The same calls as session methods, on one pooled session."""
    async with ClientSession() as session:
        call = getattr(session, method)
        async with call(server.url(path)) as r:
            assert r.status == 200
            assert r.method == method.upper()
        async with session.request(method.upper(), server.url(path)) as r:
            assert r.status == 200


async def test_any_token_is_a_method(httpwire_server: LocalServer) -> None:
    """ "The first parameter could be any valid http method": ``propfind`` is sent as a token."""
    async with request("propfind", httpwire_server.url("/anything")) as r:
        echo = await r.json()
    assert r.status == 200
    assert echo["method"] == "PROPFIND"


@pytest.mark.parametrize("method", ["", "GET /", "GE\r\nT", "G(E)T", "GÉT"])
async def test_an_invalid_method_is_a_value_error(
    httpwire_server: LocalServer, method: str
) -> None:
    """A method that is not a token (RFC 9110 §9.1) is refused before anything is sent."""
    with pytest.raises(ValueError):
        await request(method, httpwire_server.url("/anything"))


async def test_the_guide_example_prints_the_page(server: Peer) -> None:
    """The guide's opening ``run()``: request a page, read it as text."""
    r = await request("get", server.url("/html"))
    raw = await r.text()
    r.release()
    assert r.status == 200
    assert raw.lstrip().lower().startswith("<!doctype html>")
    assert "</html>" in raw.lower()


async def test_what_request_returns_works_with_await_tasks_wait_for_and_async_with(
    server: Peer,
) -> None:
    """DESIGN.md: a coroutine giving a ClientResponse and an async context manager."""
    url = server.url("/get")
    first = await request("get", url)
    first.release()
    second = await asyncio.create_task(request("get", url))
    second.release()
    third = await asyncio.wait_for(request("get", url), 30)
    third.release()
    async with request("get", url) as fourth:
        assert (await fourth.json())["url"] == url
    assert {first.status, second.status, third.status, fourth.status} == {200}


async def test_base_url_joins_relative_urls(server: Peer) -> None:
    """DESIGN.md: ``ClientSession(base_url=...)``; relative URLs are joined to it."""
    async with (
        ClientSession(base_url=server.http_url) as session,
        session.get("/get", params={"a": "1"}) as r,
    ):
        echo = await r.json()
    assert str(r.url) == server.url("/get?a=1")
    assert echo["args"] == {"a": "1"}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Bad": "a\r\nInjected: yes"},
        {"X-Bad": "a\nb"},
        {"X-Bad\r\nInjected": "x"},
        {"X": "a\x00"},
    ],
    ids=["crlf-value", "lf-value", "crlf-name", "nul-value"],
)
async def test_a_header_with_cr_lf_or_nul_is_refused_before_sending(
    headers: dict[str, str],
) -> None:
    """RFC 9110 §5.5: CR, LF and NUL are invalid in a field; nothing reaches the server."""
    async with recording_server() as peer:
        with pytest.raises(ValueError):
            await request("get", peer.url + "/get", headers=headers)
    assert peer.heads == []


# -- Passing Parameters In URLs --------------------------------------------------------------


async def test_params_as_a_dict(server: Peer) -> None:
    """``params={'key1': 'value1', 'key2': 'value2'}``: ``?key1=value1&key2=value2``."""
    payload = {"key1": "value1", "key2": "value2"}
    async with request("get", server.url("/get"), params=payload) as r:
        assert str(r.url) == server.url("/get?key1=value1&key2=value2")
        echo = await r.json()
    assert echo["args"] == payload
    assert echo["url"] == server.url("/get?key1=value1&key2=value2")


async def test_params_as_a_list_of_pairs_keeps_repeated_keys_in_order(server: Peer) -> None:
    """``params=[('key', 'value1'), ('key', 'value2')]``: ``?key=value1&key=value2``."""
    payload = [("key", "value1"), ("key", "value2")]
    async with request("get", server.url("/get"), params=payload) as r:
        assert str(r.url) == server.url("/get?key=value1&key=value2")
        echo = await r.json()
    assert echo["args"] == {"key": ["value1", "value2"]}
    assert echo["url"] == server.url("/get?key=value1&key=value2")


async def test_params_are_percent_encoded(server: Peer) -> None:
    """The URL is "correctly encoded": reserved and non-ASCII characters are escaped."""
    payload = {"q": "a b&c=d/é", "empty": ""}
    async with request("get", server.url("/get"), params=payload) as r:
        raw_query = r.url.raw_query_string
        echo = await r.json()
    assert raw_query.startswith("q=a") and raw_query.endswith("&empty=")
    assert "%26c%3Dd" in raw_query and "%C3%A9" in raw_query
    assert " " not in raw_query and "é" not in raw_query
    assert echo["args"] == payload


async def test_params_merge_with_the_query_of_the_url(server: Peer) -> None:
    """DESIGN.md: ``params`` are added after the query already in the URL, in order."""
    async with request("get", server.url("/get?a=1"), params=[("b", "2"), ("a", "3")]) as r:
        assert str(r.url) == server.url("/get?a=1&b=2&a=3")
        echo = await r.json()
    assert echo["args"] == {"a": ["1", "3"], "b": "2"}


@pytest.mark.parametrize(
    "params",
    [MultiDict([("key", "value1"), ("key", "value2")]), "key=value1&key=value2"],
    ids=["multidict", "str"],
)
async def test_params_as_a_multidict_or_a_str(server: Peer, params: MultiDict[str] | str) -> None:
    """DESIGN.md: ``params`` may also be a MultiDict or a str."""
    async with request("get", server.url("/get"), params=params) as r:
        assert str(r.url) == server.url("/get?key=value1&key=value2")
        echo = await r.json()
    assert echo["args"] == {"key": ["value1", "value2"]}


# -- Response Status Codes --------------------------------------------------------------------


async def test_response_status_codes(server: Peer) -> None:
    """``r = await request('get', 'http://httpbin.org/get')``; ``r.status`` is 200."""
    r = await request("get", server.url("/get"))
    r.release()
    assert r.status == 200
    assert r.reason == "OK"
    assert r.ok


@pytest.mark.parametrize("code", [404, 500])
async def test_an_error_status_is_a_response_until_raise_for_status(
    server: Peer, code: int
) -> None:
    """A 4xx/5xx is a response with that status; ``raise_for_status()`` turns it into an error."""
    url = server.url(f"/status/{code}")
    async with request("get", url) as r:
        assert r.status == code
        assert not r.ok
        with pytest.raises(ClientResponseError) as info:
            r.raise_for_status()
    assert info.value.status == code
    assert url in str(info.value)
    with pytest.raises(ClientResponseError) as info:
        async with request("get", url, raise_for_status=True):
            pass
    assert info.value.status == code


# -- Response Headers -------------------------------------------------------------------------


async def test_response_headers_are_case_insensitive(server: Peer) -> None:
    """``r.headers['Content-Type']`` and ``r.headers.get('content-type')`` are the same field."""
    async with request("get", server.url("/get")) as r:
        body = await r.read()
        headers: CIMultiDictProxy[str] = r.headers
    assert isinstance(headers, CIMultiDictProxy)
    assert headers["Content-Type"] == "application/json"
    assert headers.get("content-type") == "application/json"
    assert headers["CONTENT-TYPE"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert r.content_type == "application/json"


async def test_raw_headers_keep_the_wire_bytes(server: Peer) -> None:
    async with request("get", server.url("/response-headers?X-Guide=Yes")) as r:
        await r.read()
    assert (b"X-Guide", b"Yes") in [tuple(pair) for pair in r.raw_headers]
    assert r.headers["x-guide"] == "Yes"
