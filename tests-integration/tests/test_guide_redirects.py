"""Redirects between real peers: the rules for methods and bodies, history, limits, and the
security rules that keep credentials on their origin.

The guide only touches redirects in its "Response Cookies" note; the rules here are
DESIGN.md's and RFC 9110 §15.4's. Our server and httpbin on gunicorn listen on
different ports, so a redirect from one to the other changes origin (RFC 6454); the
https listener of our server and its http port are another pair (a downgrade).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from tests.guide_support import leak_check, on_localhost
from yarl import URL

from httpwire.client import (
    BasicAuth,
    ClientError,
    ClientSession,
    TCPConnector,
    TooManyRedirects,
    request,
)

if TYPE_CHECKING:
    from httpwire_testserver import HttpbinPeer, LocalServer
    from httpwire_testserver.plugin import Peer, Proxies


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


def redirect_to(base: str, target: str, status: int = 302) -> str:
    """A ``/redirect-to`` URL on ``base`` answering ``status`` with ``Location: target``."""
    query = URL.build(query={"url": target, "status_code": str(status)}).raw_query_string
    return f"{base}/redirect-to?{query}"


@pytest.mark.parametrize("kind", ["redirect", "relative-redirect", "absolute-redirect"])
async def test_a_redirect_chain_is_followed_with_its_history(server: Peer, kind: str) -> None:
    async with request("get", server.url(f"/{kind}/3")) as r:
        echo = await r.json()
    assert r.status == 200
    assert r.url.path == "/get"
    assert echo["url"].endswith("/get")
    assert [h.status for h in r.history] == [302, 302, 302]
    assert str(r.history[0].url) == server.url(f"/{kind}/3")


async def test_allow_redirects_false_returns_the_redirect(server: Peer) -> None:
    async with request("get", server.url("/redirect/2"), allow_redirects=False) as r:
        assert r.status == 302
        assert r.headers["Location"]
        assert r.history == ()


async def test_too_many_redirects_carries_the_history(server: Peer) -> None:
    with pytest.raises(TooManyRedirects) as info:
        await request("get", server.url("/redirect/6"), max_redirects=2)
    history = info.value.history
    assert len(history) >= 2
    assert {h.status for h in history} == {302}
    assert all(h.closed for h in history)


@pytest.mark.parametrize(
    ("status", "method"),
    [(301, "GET"), (302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")],
)
async def test_post_is_redirected_by_the_rules(server: Peer, status: int, method: str) -> None:
    """301/302 turn POST into GET without the body, 303 too; 307/308 resend method and body."""
    url = redirect_to(server.http_url, "/anything", status)
    async with request("post", url, data={"k": "v"}) as r:
        echo = await r.json()
    assert r.status == 200
    assert [h.status for h in r.history] == [status]
    assert echo["method"] == method
    if method == "POST":
        assert echo["form"] == {"k": "v"}
    else:
        assert echo["form"] == {}
        assert echo["data"] == ""
        assert "Content-Type" not in echo["headers"]


async def test_a_307_body_reaches_the_other_peer(
    httpwire_server: LocalServer, httpbin_server: HttpbinPeer
) -> None:
    """307 across servers: the same method and bytes arrive at the new origin."""
    body = bytes(range(256)) * 40
    url = redirect_to(httpwire_server.http_url, httpbin_server.http_url + "/anything", 307)
    async with request("put", url, data=body) as r:
        echo = await r.json()
    assert echo["method"] == "PUT"
    assert echo["headers"]["Content-Length"] == str(len(body))


async def test_credentials_stay_on_the_same_origin(server: Peer) -> None:
    url = redirect_to(server.http_url, "/headers")
    async with request("get", url, auth=BasicAuth("user", "pass")) as r:
        echo = await r.json()
    assert echo["headers"]["Authorization"] == BasicAuth("user", "pass").encode()


@pytest.mark.parametrize("start", ["httpwire", "httpbin"])
async def test_credentials_and_cookies_never_go_to_another_origin(
    httpwire_server: LocalServer, httpbin_server: HttpbinPeer, start: str
) -> None:
    """``Authorization`` and ``Cookie`` stay behind when a redirect changes origin."""
    ours = on_localhost(httpwire_server.http_url)
    theirs = on_localhost(httpbin_server.http_url)
    first, other = (ours, theirs) if start == "httpwire" else (theirs, ours)
    headers = {"Authorization": "Bearer secret-token", "Cookie": "sid=secret"}
    async with ClientSession() as session:
        async with session.get(redirect_to(first, other + "/headers"), headers=headers) as r:
            echo = await r.json()
        assert r.url.port != URL(first).port
        assert "Authorization" not in echo["headers"]
        assert "Cookie" not in echo["headers"]
        auth = BasicAuth("user", "pass")
        async with session.get(redirect_to(first, other + "/headers"), auth=auth) as r:
            echo = await r.json()
        assert "Authorization" not in echo["headers"]


async def test_https_to_http_drops_credentials(httpwire_server: LocalServer) -> None:
    """A downgrade from https to http is another origin: no credentials go along."""
    target = httpwire_server.localhost_url + "/headers"
    url = redirect_to(httpwire_server.https_url, target)
    connector = TCPConnector(ssl_context=httpwire_server.ssl_context())
    async with (
        ClientSession(connector=connector, auth=BasicAuth("user", "pass")) as session,
        session.get(url, headers={"Cookie": "sid=secret"}) as r,
    ):
        echo = await r.json()
    assert r.url.scheme == "http"
    assert "Authorization" not in echo["headers"]
    assert "Cookie" not in echo["headers"]


@pytest.mark.parametrize("location", ["ftp://example.com/file", "file:///etc/passwd"])
async def test_a_location_of_another_scheme_is_an_error_not_a_request(
    server: Peer, location: str
) -> None:
    with pytest.raises(ClientError) as info:
        await request("get", redirect_to(server.http_url, location))
    assert location.split(":", 1)[0] in str(info.value)


async def test_proxy_authorization_goes_only_to_the_proxy_across_redirects(
    httpwire_server: LocalServer, proxy: Proxies
) -> None:
    """Through an authenticating proxy, https to https on another origin: neither target
    sees ``Proxy-Authorization`` (it rides in the CONNECT requests only)."""
    other = f"https://127.0.0.1:{httpwire_server.tls_port}/headers"  # another host name
    url = redirect_to(httpwire_server.https_url, other)
    connector = TCPConnector(ssl_context=httpwire_server.ssl_context())
    async with (
        ClientSession(connector=connector) as session,
        session.get(url, proxy=proxy.auth_proxy_url, proxy_auth=BasicAuth(*proxy.auth)) as r,
    ):
        echo = await r.json()
    assert r.status == 200
    assert r.url.host == "127.0.0.1"
    assert "Proxy-Authorization" not in echo["headers"]
