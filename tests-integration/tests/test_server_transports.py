"""Our server on every transport: IPv4, IPv6, localhost, TLS with the trustme CA, Unix socket."""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
from typing import TYPE_CHECKING

import pytest

from httpwire_testserver import LocalServer

if TYPE_CHECKING:
    from tests.conftest import Clients


def test_ipv4_and_ipv6_share_the_port(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    if httpwire_server.http_url_v6 is None:
        pytest.skip("this machine has no IPv6 loopback")
    v4 = stdlib.request(httpwire_server.url("/ip")).json()
    v6 = stdlib.request(httpwire_server.http_url_v6 + "/ip").json()

    assert v4 == {"origin": "127.0.0.1"}
    assert v6 == {"origin": "::1"}


def test_localhost_reaches_the_server(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    reply = stdlib.request(httpwire_server.localhost_url + "/get")

    assert reply.json()["url"] == httpwire_server.localhost_url + "/get"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_https_with_the_trustme_ca(
    httpwire_server: LocalServer, stdlib: type[Clients], host: str
) -> None:
    if host == "::1" and not httpwire_server.ipv6:
        pytest.skip("this machine has no IPv6 loopback")
    authority = f"[{host}]" if ":" in host else host
    url = f"https://{authority}:{httpwire_server.tls_port}/get"
    reply = stdlib.request(url, context=httpwire_server.ssl_context())

    assert reply.status == 200
    assert reply.json()["url"] == url


def test_https_negotiates_http11_by_alpn(httpwire_server: LocalServer) -> None:
    context = httpwire_server.ssl_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    address = ("127.0.0.1", httpwire_server.tls_port)
    with (
        socket.create_connection(address, timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "http/1.1"


def test_https_is_refused_without_the_ca(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        stdlib.request(httpwire_server.https_url + "/get", context=ssl.create_default_context())


def test_ca_pem_is_the_trustme_ca(httpwire_server: LocalServer) -> None:
    assert httpwire_server.ca_pem.read_bytes() == httpwire_server.ca.cert_pem.bytes()


def test_https_reports_the_https_scheme(httpwire_server: LocalServer) -> None:
    conn = http.client.HTTPSConnection(
        "localhost", httpwire_server.tls_port, timeout=5, context=httpwire_server.ssl_context()
    )
    try:
        conn.request("GET", "/connection-id")
        data = conn.getresponse().read()
    finally:
        conn.close()
    assert b'"scheme": "https"' in data


def test_unix_socket(httpwire_server: LocalServer, stdlib: type[Clients]) -> None:
    reply = stdlib.unix_request(httpwire_server.unix_path, "/connection-id")

    data = reply.json()
    assert data["transport"] == "unix"
    assert data["peer"] == ""


def test_unix_socket_streams_a_chunked_upload(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    reply = stdlib.unix_request(
        httpwire_server.unix_path, "/upload-digest", "POST", body=iter([b"a" * 70000, b"b"])
    )

    assert reply.json()["bytes"] == 70001


def test_a_second_server_gets_other_ports(
    httpwire_server: LocalServer, stdlib: type[Clients]
) -> None:
    with LocalServer(unix_path="") as other:
        assert other.port != httpwire_server.port
        assert not other.has_unix
        assert not other.has_tls
        with pytest.raises(RuntimeError, match="started without TLS"):
            _ = other.https_url
        assert stdlib.request(other.url("/status/204")).status == 204
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", other.port), timeout=2).close()


async def _asyncio_get(server: LocalServer, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("round_", [1, 2])
async def test_each_test_loop_talks_to_the_same_server(
    httpwire_server: LocalServer, round_: int
) -> None:
    # pytest-asyncio gives each test a new loop; the server's own loop outlives them all.
    answers = await asyncio.gather(
        *(
            _asyncio_get(httpwire_server, f"/inflight?key=loops-{round_}&delay=0.5")
            for _ in range(3)
        )
    )

    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in answers)
    stats = await _asyncio_get(httpwire_server, f"/inflight-stats?key=loops-{round_}")
    assert b'"max": 3' in stats
