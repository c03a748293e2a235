"""Redirects and cookies against the local server, with a second server as another origin."""

from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from yarl import URL

from httpwire.client import (
    BasicAuth,
    ClientSession,
    CookieJar,
    DummyCookieJar,
    InvalidURL,
    RedirectBodyError,
    TCPConnector,
    TooManyRedirects,
)
from httpwire_testserver import LocalServer


@pytest.fixture(scope="module")
def other_origin() -> Iterator[LocalServer]:
    """A second server: another port on the same host is another origin (RFC 6454)."""
    with LocalServer(unix_path="") as server:
        yield server


def redirect_to(server: LocalServer, target: str, status: int = 302, scheme: str = "http") -> str:
    query = URL.build(query={"url": target, "status_code": str(status)}).raw_query_string
    return server.url(f"/redirect-to?{query}", scheme=scheme)


async def test_redirects_are_followed_with_history(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    async with session.get(httpwire_server.url("/redirect/3")) as r:
        assert r.status == 200
        assert r.url == URL(httpwire_server.url("/get"))
        assert [h.status for h in r.history] == [302, 302, 302]
        assert all(h.closed for h in r.history)
        assert str(r.history[0].url) == httpwire_server.url("/redirect/3")
        assert (await r.json())["url"] == httpwire_server.url("/get")


@pytest.mark.parametrize("kind", ["relative-redirect", "absolute-redirect"])
async def test_relative_and_absolute_locations(
    session: ClientSession, httpwire_server: LocalServer, kind: str
) -> None:
    async with session.get(httpwire_server.url(f"/{kind}/2")) as r:
        assert r.status == 200
        assert len(r.history) == 2


async def test_redirect_connections_are_reused(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with session.get(httpwire_server.url("/redirect/4")) as r:
        await r.read()
    assert connector.stats().open == 1


@pytest.mark.parametrize(
    ("status", "method", "body_kept"),
    [
        (301, "GET", False),
        (302, "GET", False),
        (303, "GET", False),
        (307, "POST", True),
        (308, "POST", True),
    ],
)
async def test_post_is_redirected_by_the_rules(
    session: ClientSession, httpwire_server: LocalServer, status: int, method: str, body_kept: bool
) -> None:
    """RFC 9110 §15.4: 301/302/303 turn POST into GET without a body; 307/308 keep both."""
    url = redirect_to(httpwire_server, "/anything", status)
    async with session.post(url, data=b"payload", headers={"Content-Type": "text/x-mine"}) as r:
        assert r.history[0].status == status
        echoed = await r.json()
    assert echoed["method"] == method
    assert echoed["data"] == ("payload" if body_kept else "")
    assert ("Content-Type" in echoed["headers"]) is body_kept


async def test_303_keeps_head(session: ClientSession, httpwire_server: LocalServer) -> None:
    async with session.head(redirect_to(httpwire_server, "/get", 303), allow_redirects=True) as r:
        assert r.status == 200
        assert r.method == "HEAD"


async def test_307_with_a_stream_cannot_be_replayed(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    with pytest.raises(RedirectBodyError, match="cannot be sent twice") as info:
        await session.post(redirect_to(httpwire_server, "/anything", 307), data=body())
    assert info.value.status == 307
    assert len(info.value.history) == 1


async def test_too_many_redirects_carries_the_history(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    with pytest.raises(TooManyRedirects, match="max_redirects=2") as info:
        await session.get(httpwire_server.url("/redirect/5"), max_redirects=2)
    assert [h.status for h in info.value.history] == [302, 302, 302]
    assert all(h.closed for h in info.value.history)
    # The history (live responses) stays behind in a pickle; the message does not change.
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.history == () and str(copy) == str(info.value)
    assert copy.first_url == URL(httpwire_server.url("/redirect/5"))
    assert str(copy).startswith(
        f"too many redirects: more than max_redirects=2 from {copy.first_url}"
    )


async def test_max_redirects_of_the_session(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with ClientSession(connector=connector, connector_owner=False, max_redirects=1) as s:
        with pytest.raises(TooManyRedirects):
            await s.get(httpwire_server.url("/redirect/2"))
        async with s.get(httpwire_server.url("/redirect/1")) as r:
            assert r.status == 200


async def test_allow_redirects_false(session: ClientSession, httpwire_server: LocalServer) -> None:
    async with session.get(httpwire_server.url("/redirect/1"), allow_redirects=False) as r:
        assert r.status == 302
        assert r.headers["Location"] == "/get"
        assert r.history == ()


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/file", "javascript:alert(1)"])
async def test_a_location_of_another_scheme_is_an_error_not_a_request(
    session: ClientSession, httpwire_server: LocalServer, location: str
) -> None:
    with pytest.raises(InvalidURL, match="is not followed"):
        await session.get(redirect_to(httpwire_server, location))


async def _headers_after(session: ClientSession, url: str, **kwargs: Any) -> dict[str, str]:
    async with session.get(url, **kwargs) as r:
        assert r.status == 200, await r.text()
        assert len(r.history) == 1
        headers: dict[str, str] = (await r.json())["headers"]
        return headers


async def test_credentials_stay_on_the_same_origin(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    headers = await _headers_after(
        session,
        redirect_to(httpwire_server, "/headers"),
        auth=BasicAuth("u", "p"),
        headers={"Cookie": "mine=1"},
        cookies={"c": "2"},
    )
    assert headers["Authorization"] == BasicAuth("u", "p").encode()
    assert headers["Cookie"] == "mine=1; c=2"


@pytest.mark.parametrize("change", ["port", "host"])
async def test_credentials_never_go_to_another_origin(
    session: ClientSession, httpwire_server: LocalServer, other_origin: LocalServer, change: str
) -> None:
    """Authorization and Cookie are dropped when the redirect changes host or port."""
    if change == "port":
        target = other_origin.url("/headers")
    else:
        target = f"http://localhost:{httpwire_server.port}/headers"
    headers = await _headers_after(
        session,
        redirect_to(httpwire_server, target),
        auth=BasicAuth("u", "p"),
        headers={"Cookie": "mine=1", "X-Kept": "1"},
        cookies={"c": "2"},
    )
    assert "Authorization" not in headers
    assert "Cookie" not in headers
    assert headers["X-Kept"] == "1"


async def test_session_auth_and_headers_do_not_follow_to_another_origin(
    connector: TCPConnector, httpwire_server: LocalServer, other_origin: LocalServer
) -> None:
    async with ClientSession(
        connector=connector,
        connector_owner=False,
        auth=BasicAuth("u", "p"),
    ) as s:
        headers = await _headers_after(
            s, redirect_to(httpwire_server, other_origin.url("/headers"))
        )
    assert "Authorization" not in headers


async def test_https_to_http_drops_credentials(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """A downgrade changes the scheme: credentials are never sent in the clear."""
    headers = await _headers_after(
        session,
        redirect_to(httpwire_server, httpwire_server.url("/headers"), scheme="https"),
        auth=BasicAuth("u", "p"),
        ssl=httpwire_server.ssl_context(),
    )
    assert "Authorization" not in headers


async def test_cookie_sharing_in_a_session(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Keep-Alive, connection pooling and cookie sharing" (on localhost)."""
    base = httpwire_server.localhost_url
    async with session.get(f"{base}/cookies/set/my_cookie/my_value") as r:
        # The cookie was set by the redirect, gathered by the jar, and sent to /cookies.
        assert (await r.json())["cookies"] == {"my_cookie": "my_value"}
        assert len(r.history) == 1
        assert r.history[0].cookies["my_cookie"].value == "my_value"
        assert "my_cookie" not in r.cookies  # the last response set none
    async with session.get(f"{base}/cookies") as r:
        data = await r.json()
    assert data["cookies"]["my_cookie"] == "my_value"
    assert len(session.cookie_jar) == 1


async def test_per_request_cookies_are_sent_not_stored(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Custom Cookies"."""
    url = httpwire_server.url("/cookies")
    async with session.get(url, cookies={"cookies_are": "working"}) as r:
        assert json.loads(await r.text()) == {"cookies": {"cookies_are": "working"}}
    assert len(session.cookie_jar) == 0


async def test_session_cookies_and_ip_hosts(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with (
        ClientSession(connector=connector, connector_owner=False, cookies={"start": "1"}) as s,
        s.get(httpwire_server.url("/cookies/set?ip=1")) as r,
    ):
        # Given by the user: sent everywhere; set by an IP host: refused (not unsafe).
        assert (await r.json())["cookies"] == {"start": "1"}
    async with (
        ClientSession(
            connector=connector, connector_owner=False, cookie_jar=CookieJar(unsafe=True)
        ) as s,
        s.get(httpwire_server.url("/cookies/set?ip=1")) as r,
    ):
        assert (await r.json())["cookies"] == {"ip": "1"}


async def test_dummy_cookie_jar_stores_nothing(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with ClientSession(
        connector=connector, connector_owner=False, cookie_jar=DummyCookieJar()
    ) as s:
        async with s.get(f"{httpwire_server.localhost_url}/cookies/set?a=1") as r:
            assert (await r.json())["cookies"] == {}
        assert len(s.cookie_jar) == 0


async def test_jar_cookies_are_chosen_again_for_each_hop(
    session: ClientSession, httpwire_server: LocalServer, other_origin: LocalServer
) -> None:
    base = httpwire_server.localhost_url
    async with session.get(f"{base}/cookies/set?a=1") as r:
        await r.read()
    target = f"{other_origin.localhost_url}/cookies"
    query = URL.build(query={"url": target}).raw_query_string
    async with session.get(f"{base}/redirect-to?{query}") as r:
        # localhost on another port: RFC 6265 cookies do not isolate by port (§8.5).
        assert (await r.json())["cookies"] == {"a": "1"}
