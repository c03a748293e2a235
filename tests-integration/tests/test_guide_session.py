"""The guide's "Custom Cookies", "Response Cookies" and "Keep-Alive, connection pooling and
cookie sharing", in modern form, against our server and httpbin on gunicorn.

Cookie sharing uses ``localhost`` URLs: like aiohttp, the cookie jar keeps cookies
from IP-address hosts only with ``CookieJar(unsafe=True)`` (DESIGN.md). The guide's
``example.com/some/cookie/setting/url`` maps to ``/response-headers?Set-Cookie=...``
and to ``/cookies/set?...`` (a redirect that sets the cookie on its way).
"""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

import pytest
from tests.guide_support import SocketInfo, client_sockets, leak_check, on_localhost
from yarl import URL

from httpwire.client import ClientSession, TCPConnector, request

if TYPE_CHECKING:
    from httpwire_testserver import LocalServer
    from httpwire_testserver.plugin import Peer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


# -- Custom Cookies ---------------------------------------------------------------------------


async def test_custom_cookies_are_sent(server: Peer) -> None:
    """``cookies=dict(cookies_are='working')``: ``{"cookies": {"cookies_are": "working"}}``."""
    url = server.url("/cookies")
    cookies = dict(cookies_are="working")  # noqa: C408 (as the guide writes it)
    r = await request("get", url, cookies=cookies)
    text = await r.text()
    r.release()
    assert json.loads(text) == {"cookies": {"cookies_are": "working"}}


async def test_custom_cookies_of_a_session_request_are_sent_not_stored(server: Peer) -> None:
    url = on_localhost(server.url("/cookies"))
    async with ClientSession() as session:
        async with session.get(url, cookies={"once": "1"}) as r:
            assert (await r.json())["cookies"] == {"once": "1"}
        async with session.get(url) as r:
            assert (await r.json())["cookies"] == {}


# -- Response Cookies -------------------------------------------------------------------------


async def test_response_cookies(server: Peer) -> None:
    """``r.cookies['example_cookie_name']`` holds the value the response set."""
    url = server.url("/response-headers")
    params = {"Set-Cookie": "example_cookie_name=example_cookie_value; Path=/"}
    r = await request("get", url, params=params)
    r.release()
    assert isinstance(r.cookies, SimpleCookie)
    assert r.cookies["example_cookie_name"].value == "example_cookie_value"
    assert r.cookies["example_cookie_name"]["path"] == "/"


async def test_response_cookies_hold_only_the_last_response_of_a_redirect_chain(
    server: Peer,
) -> None:
    """The note: ``r.cookies`` holds only the **last** response's ``Set-Cookie``."""
    url = on_localhost(server.url("/cookies/set?example_cookie_name=example_cookie_value"))
    async with request("get", url) as r:
        await r.read()
    assert r.url.path == "/cookies"
    assert "example_cookie_name" not in r.cookies
    (first,) = r.history
    assert first.status == 302
    assert first.cookies["example_cookie_name"].value == "example_cookie_value"


async def test_a_session_gathers_cookies_across_a_redirect_chain(server: Peer) -> None:
    """The note: "to gather cookies between all redirection requests use ClientSession"."""
    url = on_localhost(server.url("/cookies/set?example_cookie_name=example_cookie_value"))
    async with ClientSession() as session:
        async with session.get(url) as r:
            assert "example_cookie_name" not in r.cookies
        gathered = session.cookie_jar.filter_cookies(URL(on_localhost(server.url("/"))))
        assert gathered["example_cookie_name"].value == "example_cookie_value"
        async with session.get(on_localhost(server.url("/cookies"))) as r:
            echo = await r.json()
    assert echo["cookies"] == {"example_cookie_name": "example_cookie_value"}


# -- Keep-Alive, connection pooling and cookie sharing ----------------------------------------


async def test_a_session_shares_cookies(server: Peer) -> None:
    """``session.get('.../cookies/set/my_cookie/my_value')``, then ``/cookies`` shows it."""
    session = ClientSession()
    try:
        r = await session.get(on_localhost(server.url("/cookies/set/my_cookie/my_value")))
        r.release()
        r = await session.get(on_localhost(server.url("/cookies")))
        json_ = await r.json()
        r.release()
    finally:
        await session.close()
    assert session.closed
    assert json_["cookies"]["my_cookie"] == "my_value"


async def test_cookies_from_an_ip_address_host_are_kept_only_when_unsafe(server: Peer) -> None:
    """DESIGN.md: like aiohttp, cookies from IP-address hosts need ``CookieJar(unsafe=True)``."""
    from httpwire.client import CookieJar

    async with ClientSession() as session:
        async with session.get(server.url("/cookies/set/my_cookie/my_value")) as r:
            await r.read()
        async with session.get(server.url("/cookies")) as r:
            assert (await r.json())["cookies"] == {}
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
        async with session.get(server.url("/cookies/set/my_cookie/my_value")) as r:
            await r.read()
        async with session.get(server.url("/cookies")) as r:
            assert (await r.json())["cookies"] == {"my_cookie": "my_value"}


async def test_session_default_headers(server: Peer) -> None:
    """``ClientSession(headers={"Authorization": "Basic bG9naW46cGFzcw=="})``."""
    async with ClientSession(headers={"Authorization": "Basic bG9naW46cGFzcw=="}) as s:
        r = await s.get(server.url("/headers"))
        json_ = await r.json()
        r.release()
        # Per-request headers are merged over the session's, case-insensitively.
        async with s.get(server.url("/headers"), headers={"authorization": "Bearer x"}) as r:
            override = (await r.json())["headers"]
    assert json_["headers"]["Authorization"] == "Basic bG9naW46cGFzcw=="
    assert override["Authorization"] == "Bearer x"


async def test_a_session_pools_its_connections(httpwire_server: LocalServer) -> None:
    """A session "will do connection pooling for you": one connection, reused."""
    url = httpwire_server.url("/connection-id")
    async with ClientSession() as session:
        seen = []
        for _ in range(4):
            async with session.get(url) as r:
                seen.append(await r.json())
    assert len({answer["connection_id"] for answer in seen}) == 1
    assert [answer["requests"] for answer in seen] == [1, 2, 3, 4]


async def test_request_opens_a_new_connection_each_call(httpwire_server: LocalServer) -> None:
    """Each call of request() "will start a new connection to host"."""
    url = httpwire_server.url("/connection-id")
    ids = set()
    for _ in range(3):
        async with request("get", url) as r:
            answer = await r.json()
        ids.add(answer["connection_id"])
        assert answer["requests"] == 1
    assert len(ids) == 3


async def test_session_close_returns_once_its_sockets_are_closed(server: Peer) -> None:
    """DESIGN.md: ``close()`` returns only after every socket the session owned is closed."""

    def connected() -> set[SocketInfo]:
        # A TCP socket whose connection is over leaves /proc/net/tcp ("other") while its
        # descriptor may still be open: that is the in-process server's end, closing.
        return {s for s in client_sockets() - before if s.kind != "other"}

    before = client_sockets()
    session = ClientSession()
    for path in ("/get", "/bytes/10", "/headers"):
        async with session.get(server.url(path)) as r:
            await r.read()
    assert connected(), "the session keeps its connection alive"
    await session.close()
    assert session.closed
    assert connected() == set()


async def test_a_response_collected_unreleased_gives_its_connection_back(server: Peer) -> None:
    """An unreleased, unread response that is garbage-collected frees its pool slot and its
    socket is closed by the client, not by the transport's finalizer."""
    conn = TCPConnector(limit=1)
    async with ClientSession(connector=conn) as session:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = await session.get(server.url("/bytes/100000?seed=1"))
            del r
            gc.collect()
        transport = [str(w.message) for w in caught if "transport" in str(w.message)]
        assert not transport, transport
        stats = conn.stats()
        assert (stats.in_use, stats.waiting) == (0, 0)
        # limit=1: a slot still held would make this wait forever (pytest-timeout ends it).
        async with session.get(server.url("/get")) as r2:
            assert r2.status == 200


async def test_a_one_shot_response_collected_unreleased_closes_its_connection(
    server: Peer,
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = await request("get", server.url("/bytes/100000?seed=1"))
        del r
        gc.collect()
    transport = [str(w.message) for w in caught if "transport" in str(w.message)]
    assert not transport, transport
