"""Proxy settings and CONNECT tunnels, through the real proxy.py (open and with Basic auth).

The targets are the test server's HTTP and TLS listeners on loopback; the TLS one is
verified with the test CA, by the **target's** name, through the tunnel.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import socket
import ssl

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientProxyConnectionError,
    ClientProxyError,
    ConnectTimeoutError,
    Fingerprint,
    FingerprintMismatch,
    OutgoingRequest,
    PoolStats,
    ProxyConnector,
    TCPConnector,
)
from httpwire.connectors._proxy import (
    ProxyConfig,
    absolute_target,
    connect_head,
    open_tunnel,
    proxied,
    resolve_proxy,
)
from httpwire.connectors._tls import TLSConfig, default_ssl_context, upgrade_tls
from httpwire_testserver import LocalServer, StartServer
from httpwire_testserver.plugin import Proxies

from ._fetch import fetch, fetch_json
from .conftest import client_sockets

PASSWORD = "p@ss:w/rd %#?&"


class _Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.lost = asyncio.get_running_loop().create_future()
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.transport.close()  # Python 3.10 does not mark a TLS transport the peer closed
        if not self.lost.done():
            self.lost.set_result(exc)


async def _sock_to(url: URL) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    assert url.raw_host is not None and url.port is not None
    await asyncio.get_running_loop().sock_connect(sock, (url.raw_host, url.port))
    return sock


async def _tunnel_get(
    proxy: ProxyConfig, server: LocalServer, path: str, tls: TLSConfig | None = None
) -> tuple[bytes, _Client]:
    """GET ``path`` from the server's TLS listener through a CONNECT tunnel."""
    port = server.tls_port
    assert port is not None
    sock = await _sock_to(proxy.url)
    transport, _ = await open_tunnel(sock, proxy, "localhost", port)
    client = _Client()
    tls = tls or TLSConfig(server.ssl_context())
    tls_transport = await upgrade_tls(transport, client, tls, "localhost", port)
    tls_transport.write(
        f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    await asyncio.wait_for(client.lost, 10)
    return bytes(client.data), client


def _body(answer: bytes) -> object:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    if b"transfer-encoding: chunked" in head.lower():
        pieces = []
        while body:
            size_line, _, body = body.partition(b"\r\n")
            size = int(size_line, 16)
            if not size:
                break
            pieces.append(body[:size])
            body = body[size + 2 :]
        body = b"".join(pieces)
    return json.loads(body)


# -- settings ------------------------------------------------------------------------------


def test_credentials_in_the_url_are_percent_decoded(proxy: Proxies) -> None:
    config = resolve_proxy(proxy.auth_url)
    assert config.auth == BasicAuth("tester", PASSWORD)
    assert config.url == URL(proxy.auth_proxy_url)
    assert config.url.user is None
    assert config.authorization == BasicAuth("tester", PASSWORD).encode()


def test_credentials_in_the_url_and_in_proxy_auth_are_an_error() -> None:
    with pytest.raises(
        ValueError,
        match=r"proxy credentials given twice: in the proxy URL 'http://127.0.0.1:3128' and",
    ):
        resolve_proxy("http://u:p@127.0.0.1:3128", BasicAuth("u", "p"))


def test_proxy_auth_is_kept() -> None:
    config = resolve_proxy(URL("http://127.0.0.1:3128"), BasicAuth("u", "p"))
    assert config == ProxyConfig(URL("http://127.0.0.1:3128"), BasicAuth("u", "p"))
    assert resolve_proxy("http://127.0.0.1:3128").auth is None


@pytest.mark.parametrize("url", ["https://127.0.0.1:3128", "socks4://127.0.0.1:1080", "/path"])
def test_only_http_and_socks5_proxies_are_accepted(url: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"is not an http://host\[:port\], socks5://host\[:port\] or "
        r"socks5h://host\[:port\] URL",
    ):
        resolve_proxy(url)


def test_socks5_proxies_are_resolved_by_scheme() -> None:
    config = resolve_proxy("socks5h://u:p%40ss@127.0.0.1")
    assert config == ProxyConfig(URL("socks5h://127.0.0.1:1080"), BasicAuth("u", "p@ss"))
    assert resolve_proxy("socks5://127.0.0.1:1081").url == URL("socks5://127.0.0.1:1081")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("http://u:p@[::1]:3128/path?q#f", "http://[::1]:3128"),
        ("http://[::1]", "http://[::1]"),
        ("http://[2001:db8::1]:80", "http://[2001:db8::1]"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://Proxy.Example:3128", "http://proxy.example:3128"),
    ],
)
def test_proxy_url_keeps_an_ipv6_host(given: str, kept: str) -> None:
    """An IPv6 proxy host keeps its brackets (RFC 3986 §3.2.2); the path, query, fragment
    and credentials go, and the default port is left implicit."""
    config = resolve_proxy(given)
    assert str(config.url) == kept
    assert config.url == URL(kept)
    assert config.url.port == URL(given).port
    assert config.url.raw_host == URL(given).raw_host


async def test_forwarding_through_an_ipv6_proxy(httpwire_server: LocalServer) -> None:
    """A proxy on ``[::1]`` is reached, and the request goes to it in absolute form."""
    heads: list[bytes] = []

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    try:
        server = await asyncio.start_server(forward, "::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    port = server.sockets[0].getsockname()[1]
    try:
        async with ProxyConnector(f"http://u:p@[::1]:{port}") as connector:
            assert connector.proxy == URL(f"http://[::1]:{port}")
            response, body = await fetch(connector, "http://example.test/a?b=1")
    finally:
        server.close()
        await server.wait_closed()
    assert (response.status, body) == (200, b"ok")
    assert heads[0].startswith(b"GET http://example.test/a?b=1 HTTP/1.1\r\n")
    assert b"\r\nProxy-Authorization: Basic dTpw\r\n" in heads[0]


def test_proxy_auth_must_be_basic_auth() -> None:
    with pytest.raises(TypeError, match="proxy_auth must be a BasicAuth, got tuple"):
        resolve_proxy("http://127.0.0.1:3128", ("u", "p"))  # type: ignore[arg-type]  # on purpose


def test_configs_differ_by_proxy_and_by_credentials() -> None:
    keys = {
        resolve_proxy("http://127.0.0.1:3128"),
        resolve_proxy("http://127.0.0.1:3129"),
        resolve_proxy("http://a:b@127.0.0.1:3128"),
        resolve_proxy("http://a:c@127.0.0.1:3128"),
        resolve_proxy("http://127.0.0.1:3128", BasicAuth("a", "b")),
    }
    assert len(keys) == 4


def test_absolute_form_drops_userinfo_and_fragment() -> None:
    url = URL("http://user:pw@example.test:8080/a%20b?q=1&r=%2F#frag")
    assert absolute_target(url) == "http://example.test:8080" + url.raw_path_qs
    assert absolute_target(URL("http://example.test:80/")) == "http://example.test/"
    assert absolute_target(URL("http://[::1]:81/x")) == "http://[::1]:81/x"


def test_connect_request_head() -> None:
    config = resolve_proxy("http://u:p@127.0.0.1:3128")
    assert connect_head("example.test", 443, config) == (
        b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n"
        b"Proxy-Authorization: Basic dTpw\r\n\r\n"
    )
    assert connect_head("::1", 8443, resolve_proxy("http://127.0.0.1:1")) == (
        b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
    )


def test_forwarded_requests_get_the_absolute_form_and_credentials() -> None:
    config = resolve_proxy("http://u:p@127.0.0.1:3128")
    url = URL("http://example.test:8080/a?b=1")
    given = CIMultiDict({"Accept": "*/*", "Proxy-Authorization": "Basic b3RoZXI6b3RoZXI="})
    headers, target = proxied(config, False, url, given, None)
    assert target == "http://example.test:8080/a?b=1"
    assert list(headers.items()) == [("Accept", "*/*"), ("Proxy-Authorization", "Basic dTpw")]
    assert given["Proxy-Authorization"] == "Basic b3RoZXI6b3RoZXI="  # the caller's, untouched
    # Without credentials the caller's fields go as they are; a given target is kept.
    plain = {"Accept": "*/*"}
    assert proxied(resolve_proxy("http://127.0.0.1:1"), False, url, plain, "*") == (plain, "*")


def test_tunneled_requests_never_carry_proxy_credentials() -> None:
    config = resolve_proxy("http://u:p@127.0.0.1:3128")
    url = URL("https://example.test/")
    given = {"Accept": "*/*", "proxy-authorization": "Basic dTpw"}
    headers, target = proxied(config, True, url, given, None)
    assert target is None  # origin-form, as for a direct connection
    assert list(headers.items()) == [("Accept", "*/*")]
    clean = CIMultiDict({"Accept": "*/*"})
    assert proxied(config, True, url, clean, None)[0] is clean


# -- tunnels through proxy.py --------------------------------------------------------------


async def test_tunnel_through_the_open_proxy(proxy: Proxies, httpwire_server: LocalServer) -> None:
    answer, _ = await _tunnel_get(resolve_proxy(proxy.url), httpwire_server, "/connection-id")
    assert _body(answer)["scheme"] == "https"  # type: ignore[index]  # JSON object


async def test_tunnel_through_the_authenticating_proxy_hides_the_credentials(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    answer, _ = await _tunnel_get(resolve_proxy(proxy.auth_url), httpwire_server, "/headers")
    headers = _body(answer)["headers"]  # type: ignore[index]  # JSON object
    assert "Host" in headers
    assert not [name for name in headers if name.lower() == "proxy-authorization"]


async def test_proxy_auth_works_like_credentials_in_the_url(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    config = resolve_proxy(proxy.auth_proxy_url, BasicAuth(*proxy.auth))
    answer, _ = await _tunnel_get(config, httpwire_server, "/get")
    assert answer.startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize("credentials", [None, ("tester", "wrong")], ids=["none", "wrong"])
async def test_407_is_a_proxy_error_with_the_status(
    proxy: Proxies, httpwire_server: LocalServer, credentials: tuple[str, str] | None
) -> None:
    config = resolve_proxy(
        proxy.auth_proxy_url, BasicAuth(*credentials) if credentials is not None else None
    )
    sock = await _sock_to(config.url)
    url = URL(f"https://localhost:{httpwire_server.tls_port}/get")
    with pytest.raises(ClientProxyError) as caught:
        await open_tunnel(sock, config, "localhost", 443)
    error = caught.value.with_request("GET", url)  # as the connector does
    assert error.status == 407
    assert error.proxy == config.url
    assert str(error) == (
        f"proxy {proxy.auth_proxy_url} refused for GET {url}: 407 {error.reason}"
    )
    assert "Proxy Authentication Required" in error.reason
    await asyncio.sleep(0)
    assert client_sockets(proxy.auth_peer.port) == 0


async def test_a_refused_connect_carries_the_status(proxy: Proxies) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port: int = probe.getsockname()[1]
    config = resolve_proxy(proxy.url)
    sock = await _sock_to(config.url)
    with pytest.raises(ClientProxyError) as caught:
        await open_tunnel(sock, config, "127.0.0.1", closed_port)
    assert caught.value.status is not None and caught.value.status >= 400
    assert str(caught.value).startswith(f"proxy {proxy.url} refused: {caught.value.status} ")
    await asyncio.sleep(0)
    assert client_sockets(proxy.open_peer.port) == 0


async def test_the_target_certificate_is_verified_inside_the_tunnel(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    config = resolve_proxy(proxy.url)
    sock = await _sock_to(config.url)
    transport, _ = await open_tunnel(sock, config, "localhost", port)
    with pytest.raises(ClientConnectorCertificateError) as caught:
        await upgrade_tls(
            transport, _Client(), TLSConfig(default_ssl_context()), "localhost", port
        )
    assert (caught.value.host, caught.value.port) == ("localhost", port)
    assert caught.value.reason == "unable to get local issuer certificate"
    await asyncio.sleep(0)
    assert client_sockets(proxy.open_peer.port) == 0


@pytest.mark.parametrize("right", [True, False])
async def test_the_target_pin_is_checked_inside_the_tunnel(
    proxy: Proxies, httpwire_server: LocalServer, right: bool
) -> None:
    assert httpwire_server.tls is not None
    der = ssl.PEM_cert_to_DER_cert(httpwire_server.tls.cert_pem.read_text())
    digest = hashlib.sha256(der if right else b"another").digest()
    tls = TLSConfig(httpwire_server.ssl_context(), Fingerprint(digest))
    if right:
        answer, _ = await _tunnel_get(resolve_proxy(proxy.url), httpwire_server, "/get", tls)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        return
    with pytest.raises(FingerprintMismatch) as caught:
        await _tunnel_get(resolve_proxy(proxy.url), httpwire_server, "/get", tls)
    error = caught.value
    assert (error.host, error.port) == ("localhost", httpwire_server.tls_port)
    assert error.got == hashlib.sha256(der).digest()
    await asyncio.sleep(0)
    assert client_sockets(proxy.open_peer.port) == 0


# -- through the connectors --------------------------------------------------------------------

EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


async def test_proxy_connector_http_target(proxy: Proxies, httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/anything/a%20b?x=1&y=%2F")
    async with ProxyConnector(proxy.url) as connector:
        body = await fetch_json(connector, url)
        again = await fetch_json(connector, httpwire_server.url("/connection-id"))
        assert connector.stats().idle == 1
    assert body["url"] == str(URL(url))
    assert body["args"] == {"x": "1", "y": "/"}
    assert again["peer"] == "127.0.0.1"


async def test_http_target_through_the_authenticating_proxy(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    async with ProxyConnector(proxy.auth_url) as connector:
        assert connector.proxy_auth == BasicAuth(*proxy.auth)
        assert connector.proxy == URL(proxy.auth_proxy_url)
        body = await fetch_json(connector, httpwire_server.url("/headers"))
    # proxy.py consumed the credentials: the target never saw them.
    assert _header(body["headers"], "Proxy-Authorization") is None


async def test_http_target_without_credentials_gets_the_407_answer(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    # For plain http the proxy's 407 is the response (only a tunnel refusal is an error).
    async with ProxyConnector(proxy.auth_proxy_url) as connector:
        response, _ = await fetch(connector, httpwire_server.url("/get"))
    assert response.status == 407
    assert "Basic" in response.head.headers.get("Proxy-Authenticate", "")


async def test_https_target_through_the_authenticating_proxy(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    context = httpwire_server.ssl_context()
    async with ProxyConnector(proxy.auth_url, ssl_context=context) as connector:
        body = await fetch_json(
            connector,
            httpwire_server.url("/headers", scheme="https"),
            # Even a field the caller set is never sent into the tunnel.
            headers={"Proxy-Authorization": "Basic c2VjcmV0OnNlY3JldA=="},
        )
        ids = [
            (await fetch_json(connector, httpwire_server.url("/connection-id", scheme="https")))[
                "connection_id"
            ]
            for _ in range(2)
        ]
    assert _header(body["headers"], "Proxy-Authorization") is None
    assert ids[0] == ids[1]


async def test_refused_tunnel_is_a_proxy_error_and_leaks_nothing(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    url = URL(httpwire_server.url("/get", scheme="https"))
    async with ProxyConnector(proxy.auth_proxy_url) as connector:
        with pytest.raises(ClientProxyError) as caught:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
    assert caught.value.status == 407
    assert str(caught.value).startswith(f"proxy {proxy.auth_proxy_url} refused for GET {url}: 407")
    await asyncio.sleep(0)
    assert client_sockets(proxy.auth_peer.port) == 0


async def test_per_request_proxy_and_credentials_are_separate_pool_keys(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/connection-id")
    auth = BasicAuth(*proxy.auth)
    async with TCPConnector() as connector:
        direct = await fetch_json(connector, url)
        via_open = await fetch_json(connector, url, proxy=proxy.url)
        via_auth_url = await fetch_json(connector, url, proxy=proxy.auth_url)
        via_auth = await fetch_json(connector, url, proxy=proxy.auth_proxy_url, proxy_auth=auth)
        assert connector.stats().idle == 3  # the same credentials share a connection
        assert (await fetch_json(connector, url, proxy=proxy.url)) is not None
        assert connector.stats().idle == 3
        with pytest.raises(ValueError, match="proxy credentials given twice"):
            await connector.acquire(
                OutgoingRequest("GET", URL(url), proxy=URL(proxy.auth_url), proxy_auth=auth)
            )
        with pytest.raises(ValueError, match="proxy_auth was given without a proxy"):
            await connector.acquire(OutgoingRequest("GET", URL(url), proxy_auth=auth))
    assert direct["connection_id"] != via_open["connection_id"]
    assert via_auth_url["connection_id"] != via_open["connection_id"]
    assert via_auth["connection_id"] != via_open["connection_id"]


async def test_per_request_proxy_auth_on_a_proxy_connector(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    async with ProxyConnector(proxy.auth_proxy_url) as connector:
        body = await fetch_json(
            connector, httpwire_server.url("/get"), proxy_auth=BasicAuth(*proxy.auth)
        )
    assert body["url"].endswith("/get")


def test_proxy_connector_rejects_credentials_twice() -> None:
    with pytest.raises(ValueError, match="proxy credentials given twice"):
        ProxyConnector("http://u:p@127.0.0.1:3128", proxy_auth=BasicAuth("u", "p"))


async def test_target_pin_through_the_proxy_connector(
    proxy: Proxies, httpwire_server: LocalServer
) -> None:
    assert httpwire_server.tls is not None
    der = ssl.PEM_cert_to_DER_cert(httpwire_server.tls.cert_pem.read_text())
    wrong = hashlib.sha1(b"another").digest()
    url = URL(httpwire_server.url("/get", scheme="https"))
    async with ProxyConnector(proxy.url, verify_ssl=False, fingerprint=wrong) as connector:
        with pytest.raises(FingerprintMismatch) as caught:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
        right = Fingerprint(hashlib.sha1(der).digest())
        response, _ = await fetch(connector, url, ssl=right)
        assert response.status == 200
    assert (caught.value.host, caught.value.port) == ("localhost", httpwire_server.tls_port)


async def test_unreachable_proxy_is_a_proxy_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    async with ProxyConnector(f"http://127.0.0.1:{port}") as connector:
        with pytest.raises(ClientProxyConnectionError) as caught:
            await connector.acquire(OutgoingRequest("GET", URL("http://example.test/")))
    assert str(caught.value) == (
        f"cannot connect to 127.0.0.1:{port} for GET http://example.test/: "
        "Connection refused (errno 111)"
    )


@pytest.mark.parametrize("how", ["timeout", "cancel"])
async def test_a_connect_abandoned_while_waiting_logs_nothing(
    raw_server: StartServer, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """A CONNECT whose answer never comes, abandoned by sock_connect or by cancellation,
    must leave no future whose exception nobody retrieves (asyncio logs those)."""
    asked = asyncio.Event()

    async def silent_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        asked.set()
        await reader.read()

    proxy = URL(await raw_server(silent_proxy))
    caplog.set_level(logging.ERROR, logger="asyncio")
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL("https://example.test/"), proxy=proxy)
        if how == "timeout":
            with pytest.raises(ConnectTimeoutError):
                await connector.acquire(request._replace(sock_connect=0.2))
        else:
            task = asyncio.ensure_future(connector.acquire(request))
            await asyncio.wait_for(asked.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert connector.stats() == EMPTY
    for _ in range(5):
        await asyncio.sleep(0)
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def test_a_cancel_at_any_loop_turn_of_a_connect_to_the_proxy_propagates(
    raw_server: StartServer,
) -> None:
    """A cancellation that lands as the proxy's answer arrives is never swallowed.

    ``asyncio.wait_for`` on Python 3.11 returned the answer instead (CPython gh-86296), and
    the tunnel was set up for a request that had been cancelled. The wait is cancelled
    after 0, 1, 2, ... loop turns until it finishes first, so every turn of it is hit.
    """

    async def instant_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await reader.read()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    config = resolve_proxy(URL(await raw_server(instant_proxy)))
    swallowed: list[int] = []
    turns = 0
    while True:
        sock = await _sock_to(config.url)
        task = asyncio.ensure_future(open_tunnel(sock, config, "example.test", 443))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            task.result()[0].close()
            break
        task.cancel()
        try:
            transport, _ = await task
        except asyncio.CancelledError:
            # Cancelled before open_tunnel ran, the socket is still the caller's.
            sock.close()
        else:
            transport.close()
            swallowed.append(turns)
        turns += 1
        assert turns < 1000, "the proxy never answered"
    assert turns > 0
    assert swallowed == []


async def test_an_invalid_answer_to_connect_is_not_called_a_refusal(
    raw_server: StartServer,
) -> None:
    """A proxy that answers CONNECT with something that is not HTTP/1.1 broke the protocol;
    it did not refuse: the error says so, names the request once, and leaks no socket."""

    async def garbling_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await reader.read()

    proxy = URL(await raw_server(garbling_proxy))
    async with TCPConnector() as connector:
        url = URL("https://user:secret@example.test/x")
        with pytest.raises(ClientProxyError) as caught:
            await connector.acquire(OutgoingRequest("GET", url, proxy=proxy))
        assert connector.stats() == EMPTY
    error = caught.value
    assert error.status is None and not error.refused
    assert error.proxy == proxy and (error.host, error.port) == (proxy.host, proxy.port)
    assert error.url == URL("https://example.test/x") and error.method == "GET"
    message = str(error)
    assert message.startswith(f"proxy {proxy} sent an invalid answer for GET {error.url}: ")
    assert "refused" not in message and "secret" not in message
    assert "SSH-2.0" in message  # the parser quotes what came, bounded


async def test_a_status_answer_to_connect_is_a_refusal(raw_server: StartServer) -> None:
    async def refusing_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await reader.read()

    proxy = URL(await raw_server(refusing_proxy))
    async with TCPConnector() as connector:
        url = URL("https://example.test/x")
        with pytest.raises(ClientProxyError) as caught:
            await connector.acquire(OutgoingRequest("GET", url, proxy=proxy))
    assert caught.value.refused and caught.value.status == 403
    assert str(caught.value) == f"proxy {proxy} refused for GET {url}: 403 Forbidden"
