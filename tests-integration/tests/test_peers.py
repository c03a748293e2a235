"""A first integration test against every peer, with Python's stdlib client.

http (TCP), https (TLS with the trustme CA), Unix socket, and through proxy.py
with and without Basic auth: a plain-http target in absolute-form, and an https
target through a CONNECT tunnel (``http.client``'s ``set_tunnel``).
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

from httpwire_testserver import HttpbinPeer, LocalServer
from httpwire_testserver.plugin import Peer, Proxies, TlsPeer

if TYPE_CHECKING:
    from tests.conftest import Clients


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _via_proxy(
    proxy_url: str, target: str, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    split = urlsplit(proxy_url)
    assert split.hostname is not None
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        conn.request("GET", target, headers=headers or {})  # absolute-form target
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_http(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(server.url("/get?peer=1"))

    assert reply.status == 200
    assert reply.json()["args"] == {"peer": "1"}


def test_unix(server: Peer, stdlib: type[Clients]) -> None:
    reply = stdlib.unix_request(server.unix_path, "/get?peer=unix")

    assert reply.status == 200
    assert reply.json()["args"] == {"peer": "unix"}


def test_https(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(
        httpwire_server.https_url + "/get", context=httpwire_server.ssl_context()
    )

    assert reply.status == 200
    assert reply.json()["url"] == httpwire_server.https_url + "/get"


def test_http_through_the_open_proxy(server: Peer, proxy: Proxies) -> None:
    status, _, body = _via_proxy(proxy.url, server.url("/get?via=proxy"))

    assert status == 200
    data = json.loads(body)
    assert data["args"] == {"via": "proxy"}
    assert data["headers"]["Host"] == server.http_url.removeprefix("http://")


def test_http_through_the_auth_proxy(server: Peer, proxy: Proxies) -> None:
    status, _, body = _via_proxy(
        proxy.auth_proxy_url,
        server.url("/get?via=auth"),
        {"Proxy-Authorization": _basic(*proxy.auth)},
    )

    assert status == 200
    data = json.loads(body)
    assert data["args"] == {"via": "auth"}
    # The proxy consumes the credentials: they never reach the target.
    assert "Proxy-Authorization" not in data["headers"]


@pytest.mark.parametrize("credentials", [None, ("tester", "wrong")])
def test_auth_proxy_refuses_without_the_right_credentials(
    httpwire_server: LocalServer, proxy: Proxies, credentials: tuple[str, str] | None
) -> None:
    headers = {"Proxy-Authorization": _basic(*credentials)} if credentials else {}
    status, response_headers, _ = _via_proxy(
        proxy.auth_proxy_url, httpwire_server.url("/get"), headers
    )

    assert status == 407
    assert response_headers["Proxy-Authenticate"].startswith("Basic")


def test_auth_url_carries_percent_encoded_credentials(proxy: Proxies) -> None:
    split = urlsplit(proxy.auth_url)

    assert split.username is not None
    assert split.password is not None
    assert (unquote(split.username), unquote(split.password)) == proxy.auth
    assert split.password != proxy.auth[1]  # every reserved character was encoded
    assert "@" not in split.password


def test_urllib_through_the_auth_proxy_url(httpbin_server: HttpbinPeer, proxy: Proxies) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.auth_url}))
    with opener.open(httpbin_server.http_url + "/headers", timeout=10) as response:
        data = json.loads(response.read())

    assert data["headers"]["Host"] == httpbin_server.http_url.removeprefix("http://")


def test_urllib_without_credentials_gets_407(httpbin_server: HttpbinPeer, proxy: Proxies) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy.auth_proxy_url})
    )
    with pytest.raises(urllib.error.HTTPError, match="407"):
        opener.open(httpbin_server.http_url + "/get", timeout=10)


@pytest.mark.parametrize("with_auth", [False, True], ids=["open", "auth"])
def test_https_through_a_connect_tunnel(
    https_server: TlsPeer, proxy: Proxies, with_auth: bool
) -> None:
    proxy_url = proxy.auth_proxy_url if with_auth else proxy.url
    split = urlsplit(proxy_url)
    target = urlsplit(https_server.https_url)
    assert split.hostname is not None
    assert target.hostname is not None
    assert target.port is not None
    conn = http.client.HTTPSConnection(
        split.hostname, split.port, timeout=10, context=https_server.ssl_context()
    )
    headers = {"Proxy-Authorization": _basic(*proxy.auth)} if with_auth else None
    conn.set_tunnel(target.hostname, target.port, headers=headers)
    try:
        replies = []
        for number in range(2):  # the tunnel stays open for a second request
            conn.request("GET", f"/get?n={number}")
            replies.append(json.loads(conn.getresponse().read()))
    finally:
        conn.close()

    assert [reply["args"] for reply in replies] == [{"n": "0"}, {"n": "1"}]
    assert replies[1]["url"] == https_server.url("/get?n=1")
    # Inside the tunnel the proxy sees nothing: no credentials reach the target.
    assert "Proxy-Authorization" not in replies[1]["headers"]


def test_connect_without_credentials_is_refused(
    httpwire_server: LocalServer, proxy: Proxies
) -> None:
    split = urlsplit(proxy.auth_proxy_url)
    assert split.hostname is not None
    conn = http.client.HTTPSConnection(
        split.hostname, split.port, timeout=10, context=httpwire_server.ssl_context()
    )
    conn.set_tunnel("localhost", httpwire_server.tls_port)
    try:
        with pytest.raises(OSError, match="Tunnel connection failed: 407"):
            conn.request("GET", "/get")
    finally:
        conn.close()
