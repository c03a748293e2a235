"""TLS settings, pinning and the handshake, against real TLS servers on loopback.

The peers: the test server's TLS listener (a trustme CA; the certificate names localhost,
127.0.0.1 and ::1), and asyncio/ssl servers started here with certificates made here (a
wrong host name, a peer that never answers close_notify).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import trustme
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    ClientConnectorCertificateError,
    ClientSSLError,
    Fingerprint,
    FingerprintMismatch,
    OutgoingRequest,
    PoolStats,
    ServerDisconnectedError,
    TCPConnector,
)
from httpwire.connectors._tls import (
    TLSConfig,
    connector_tls,
    default_ssl_context,
    open_tls,
    request_tls,
    unverified_ssl_context,
)
from httpwire_testserver import LocalServer
from httpwire_testserver.plugin import TlsPeer

from ._fetch import fetch, fetch_json
from .conftest import client_sockets, client_sockets_after_closing


class _Client(asyncio.Protocol):
    """Sends one GET once connected and collects the answer."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.made = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.set_result(transport)

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        transport = self.made.result() if self.made.done() else None
        if transport is not None:
            transport.close()  # Python 3.10 does not mark a TLS transport the peer closed
        if not self.lost.done():
            self.lost.set_result(exc)


async def _sock(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


def _der(server: LocalServer) -> bytes:
    assert server.tls is not None
    pem = server.tls.cert_pem.read_text()
    return ssl.PEM_cert_to_DER_cert(pem)


async def _get(server: LocalServer, tls: TLSConfig, host: str = "localhost") -> bytes:
    assert server.tls_port is not None
    sock = await _sock(server.tls_port)
    transport, client = await open_tls(_Client, sock, tls, host, server.tls_port)
    transport.write(b"GET /get HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await asyncio.wait_for(client.lost, 10)
    return bytes(client.data)


# -- Fingerprint -------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "name"), [(16, "md5"), (20, "sha1"), (32, "sha256")])
def test_fingerprint_hash_is_chosen_by_digest_length(size: int, name: str) -> None:
    der = b"a certificate's DER bytes"
    digest = hashlib.new(name, der).digest()
    assert len(digest) == size
    pin = Fingerprint(digest)
    assert pin.hash_name == name
    assert pin.digest == digest
    assert pin.digest_of(der) == digest
    assert repr(pin) == f"Fingerprint({name}={digest.hex()})"


@pytest.mark.parametrize("size", [0, 1, 15, 17, 28, 48, 64])
def test_fingerprint_of_other_length_is_rejected(size: int) -> None:
    with pytest.raises(ValueError, match=rf"fingerprint of {size} bytes .* 16-byte md5, 20-byte"):
        Fingerprint(b"\x01" * size)


def test_fingerprint_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="fingerprint must be bytes, got str"):
        Fingerprint("ab" * 16)  # type: ignore[arg-type]  # the wrong type on purpose


def test_fingerprints_compare_and_hash_by_digest() -> None:
    digest = bytes(range(32))
    assert Fingerprint(digest) == Fingerprint(bytearray(digest))
    assert len({Fingerprint(digest), Fingerprint(digest)}) == 1
    assert Fingerprint(digest) != Fingerprint(bytes(32))


# -- settings ------------------------------------------------------------------------------


def test_verify_ssl_false_and_ssl_context_are_mutually_exclusive() -> None:
    with pytest.raises(
        ValueError, match="verify_ssl=False and ssl_context are mutually exclusive"
    ):
        connector_tls(False, ssl.create_default_context(), None)


def test_ssl_context_must_be_a_context() -> None:
    with pytest.raises(TypeError, match=r"ssl_context must be an ssl\.SSLContext, got str"):
        connector_tls(True, "certs.pem", None)  # type: ignore[arg-type]  # wrong on purpose


def test_connector_settings() -> None:
    assert connector_tls(True, None, None) == (None, None)
    assert connector_tls(False, None, None) == (unverified_ssl_context(), None)
    context = ssl.create_default_context()
    digest = bytes(20)
    assert connector_tls(True, context, digest) == (context, Fingerprint(digest))
    with pytest.raises(ValueError, match="fingerprint of 3 bytes"):
        connector_tls(True, None, b"abc")


def test_default_context_is_built_lazily_once_per_process() -> None:
    code = (
        "import httpwire.connectors._tls as t\n"
        "assert t._default is None, 'built at import'\n"
        "a = t.default_ssl_context(); b = t.default_ssl_context()\n"
        "assert a is b and t._default is a\n"
        "import ssl\n"
        "assert a.verify_mode == ssl.CERT_REQUIRED and a.check_hostname\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unverified_context_checks_nothing_and_is_shared() -> None:
    context = unverified_ssl_context()
    assert context is unverified_ssl_context()
    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


def test_request_ssl_overrides_the_connector() -> None:
    mine = ssl.create_default_context()
    pin = Fingerprint(bytes(32))
    other = Fingerprint(bytes(16))
    # None: the connector's settings, the shared default context when it has none.
    assert request_tls(None, None, None) == TLSConfig(default_ssl_context(), None)
    assert request_tls(None, mine, pin) == TLSConfig(mine, pin)
    # True: verify; a connector that did not verify falls back to the default context.
    assert request_tls(True, unverified_ssl_context(), pin) == (default_ssl_context(), pin)
    assert request_tls(True, mine, pin) == TLSConfig(mine, pin)
    # False: no verification and no pin.
    assert request_tls(False, mine, pin) == TLSConfig(unverified_ssl_context(), None)
    # A context replaces the trust; a fingerprint replaces the pin.
    other_context = ssl.create_default_context()
    assert request_tls(other_context, mine, pin) == TLSConfig(other_context, pin)
    assert request_tls(other, mine, pin) == TLSConfig(mine, other)
    assert request_tls(bytes(20), None, None) == (default_ssl_context(), Fingerprint(bytes(20)))
    with pytest.raises(TypeError, match=r"ssl must be None, a bool, an ssl\.SSLContext"):
        request_tls("yes", None, None)  # type: ignore[arg-type]  # wrong on purpose


def test_configs_with_different_trust_or_pins_are_different_keys() -> None:
    context = ssl.create_default_context()
    keys = {
        TLSConfig(context, None),
        TLSConfig(context, Fingerprint(bytes(32))),
        TLSConfig(ssl.create_default_context(), None),
        TLSConfig(context, None),
    }
    assert len(keys) == 3


# -- handshakes against the test server ------------------------------------------------------


async def test_verified_handshake_with_the_test_ca(httpwire_server: LocalServer) -> None:
    answer = await _get(httpwire_server, TLSConfig(httpwire_server.ssl_context()))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_ip_address_hosts_are_checked_against_ip_entries(
    httpwire_server: LocalServer, host: str
) -> None:
    if host == "::1" and not httpwire_server.ipv6:
        pytest.skip("no IPv6 loopback")
    assert httpwire_server.tls_port is not None
    sock = await _sock(httpwire_server.tls_port, host)
    tls = TLSConfig(httpwire_server.ssl_context())
    transport, client = await open_tls(_Client, sock, tls, host, httpwire_server.tls_port)
    assert transport.get_extra_info("peername")[0] == host
    transport.close()
    await asyncio.wait_for(client.lost, 10)


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256"])
@pytest.mark.parametrize("verified", [True, False], ids=["with-ca", "verify_ssl-false"])
async def test_right_pin_is_accepted(
    httpwire_server: LocalServer, name: str, verified: bool
) -> None:
    pin = Fingerprint(hashlib.new(name, _der(httpwire_server)).digest())
    context = httpwire_server.ssl_context() if verified else unverified_ssl_context()
    answer = await _get(httpwire_server, TLSConfig(context, pin))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256"])
@pytest.mark.parametrize("verified", [True, False], ids=["with-ca", "verify_ssl-false"])
async def test_wrong_pin_closes_the_connection_and_raises(
    httpwire_server: LocalServer, name: str, verified: bool
) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    wrong = hashlib.new(name, b"some other certificate").digest()
    right = hashlib.new(name, _der(httpwire_server)).digest()
    context = httpwire_server.ssl_context() if verified else unverified_ssl_context()
    made: list[_Client] = []

    def factory() -> _Client:
        made.append(_Client())
        return made[-1]

    sock = await _sock(port)
    with pytest.raises(FingerprintMismatch) as caught:
        await open_tls(factory, sock, TLSConfig(context, Fingerprint(wrong)), "localhost", port)
    error = caught.value
    assert (error.expected, error.got, error.host, error.port) == (wrong, right, "localhost", port)
    assert str(error) == (
        f"certificate of localhost:{port} does not match the pinned fingerprint: "
        f"expected {wrong.hex()}, got {right.hex()}"
    )
    await asyncio.wait_for(made[0].lost, 5)
    assert client_sockets(port) == 0


async def test_untrusted_certificate_names_the_system_store(httpwire_server: LocalServer) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    sock = await _sock(port)
    with pytest.raises(ClientConnectorCertificateError) as caught:
        await open_tls(_Client, sock, TLSConfig(default_ssl_context()), "localhost", port)
    error = caught.value
    assert error.reason == "unable to get local issuer certificate"
    assert error.host == "localhost" and error.port == port
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    message = str(error)
    assert message.startswith(
        f"cannot connect to localhost:{port}: certificate verification failed: "
        "unable to get local issuer certificate (trusted CAs: the system's default store ("
    )
    assert "ssl_context=ssl.create_default_context(cafile=...)" in message
    assert "SSL_CERT_FILE" in message
    assert await client_sockets_after_closing(port) == 0


async def test_untrusted_certificate_names_the_context_given(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    other_ca = trustme.CA()
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=other_ca.cert_pem.bytes().decode())
    assert httpwire_server.ca is not None
    context.load_verify_locations(cadata=httpwire_server.ca.cert_pem.bytes().decode())
    other_only = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    other_ca.configure_trust(other_only)
    sock = await _sock(port)
    with pytest.raises(ClientConnectorCertificateError) as caught:
        await open_tls(_Client, sock, TLSConfig(other_only), "localhost", port)
    assert caught.value.trust_store.startswith(
        "trusted CAs: the 1 CA certificate(s) loaded in the ssl_context given; load others "
        "with its load_verify_locations()"
    )
    # The same server passes once its CA is among those trusted.
    answer = await _get(httpwire_server, TLSConfig(context))
    assert answer.startswith(b"HTTP/1.1 200")


# -- servers of our own ----------------------------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def wrong_host_server(ca: trustme.CA) -> AsyncIterator[int]:
    """A TLS server whose certificate (from ``ca``) names only other.example."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_wrong_host_certificate_is_rejected(ca: trustme.CA, wrong_host_server: int) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    sock = await _sock(wrong_host_server)
    with pytest.raises(ClientConnectorCertificateError) as caught:
        await open_tls(_Client, sock, TLSConfig(context), "localhost", wrong_host_server)
    assert caught.value.reason == "Hostname mismatch, certificate is not valid for 'localhost'."
    assert "certificate verification failed: Hostname mismatch" in str(caught.value)
    assert client_sockets(wrong_host_server) == 0


async def test_a_peer_that_is_not_tls_is_an_ssl_error() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        sock = await _sock(port)
        with pytest.raises(ClientSSLError, match=rf"cannot connect to localhost:{port}: TLS") as e:
            await open_tls(_Client, sock, TLSConfig(default_ssl_context()), "localhost", port)
        assert not isinstance(e.value, ClientConnectorCertificateError)
        assert isinstance(e.value.__cause__, ssl.SSLError)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def mute_tls_server(ca: trustme.CA) -> Iterator[int]:
    """A TLS server that completes the handshake, then never reads nor closes."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        held.append(context.wrap_socket(conn, server_side=True))
        stop.wait(30)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for sock in held:
        sock.close()
    listener.close()


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="asyncio bounds the TLS shutdown from 3.11 on"
)
async def test_tls_shutdown_is_bounded_when_the_peer_never_answers(
    ca: trustme.CA, mute_tls_server: int
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    sock = await _sock(mute_tls_server)
    transport, client = await open_tls(
        _Client, sock, TLSConfig(context), "localhost", mute_tls_server
    )
    transport.close()
    # The peer never sends close_notify: the transport gives up after the shutdown timeout.
    await asyncio.wait_for(client.lost, 15)
    assert client_sockets(mute_tls_server) == 0


# -- TCPConnector over TLS -------------------------------------------------------------------

EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)


def _pin(server: LocalServer, name: str = "sha256", right: bool = True) -> bytes:
    return hashlib.new(name, _der(server) if right else b"not the certificate").digest()


async def test_connector_verifies_with_the_context_given_and_reuses_connections(
    httpwire_server: LocalServer,
) -> None:
    url = httpwire_server.url("/connection-id", scheme="https")
    async with TCPConnector(ssl_context=httpwire_server.ssl_context()) as connector:
        first = await fetch_json(connector, url)
        second = await fetch_json(connector, url)
    assert first["scheme"] == "https"
    assert first["connection_id"] == second["connection_id"]


async def test_https_on_the_gunicorn_peer_too(https_server: TlsPeer) -> None:
    async with TCPConnector(ssl_context=https_server.ssl_context()) as connector:
        body = await fetch_json(connector, https_server.url("/get"))
    assert body["url"].startswith("https://")


async def test_connector_default_trust_rejects_the_test_ca(httpwire_server: LocalServer) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    url = URL(httpwire_server.url("/get", scheme="https"))
    async with TCPConnector() as connector:
        with pytest.raises(ClientConnectorCertificateError) as caught:
            await connector.acquire(OutgoingRequest("GET", url))
        assert connector.stats() == EMPTY
    assert str(caught.value).startswith(
        f"cannot connect to localhost:{port} for GET {url}: certificate verification failed: "
        "unable to get local issuer certificate (trusted CAs: the system's default store"
    )
    assert await client_sockets_after_closing(port) == 0


async def test_connector_without_verification(httpwire_server: LocalServer) -> None:
    async with TCPConnector(verify_ssl=False) as connector:
        assert not connector.verify_ssl
        body = await fetch_json(connector, httpwire_server.url("/get", scheme="https"))
    assert body["url"].startswith("https://localhost:")


def test_connector_rejects_verify_ssl_false_with_a_context() -> None:
    with pytest.raises(ValueError, match="verify_ssl=False and ssl_context are mutually"):
        TCPConnector(verify_ssl=False, ssl_context=ssl.create_default_context())
    with pytest.raises(ValueError, match="fingerprint of 4 bytes"):
        TCPConnector(fingerprint=b"abcd")


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256"])
async def test_connector_pin(httpwire_server: LocalServer, name: str) -> None:
    port = httpwire_server.tls_port
    url = URL(httpwire_server.url("/get", scheme="https"))
    right, wrong = _pin(httpwire_server, name), _pin(httpwire_server, name, right=False)
    async with TCPConnector(verify_ssl=False, fingerprint=right) as connector:
        assert connector.fingerprint == right
        response, _ = await fetch(connector, url)
        assert response.status == 200
    async with TCPConnector(ssl_context=httpwire_server.ssl_context(), fingerprint=wrong) as c:
        with pytest.raises(FingerprintMismatch) as caught:
            await c.acquire(OutgoingRequest("GET", url))
        assert c.stats() == EMPTY
    error = caught.value
    assert (error.expected, error.got, error.host, error.port) == (wrong, right, "localhost", port)
    assert f"for GET {url}: expected {wrong.hex()}, got {right.hex()}" in str(error)
    await asyncio.sleep(0)
    assert port is not None and client_sockets(port) == 0


async def test_per_request_ssl_overrides_the_connector(httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/connection-id", scheme="https")
    context = httpwire_server.ssl_context()
    async with TCPConnector(verify_ssl=False) as connector:
        unverified = await fetch_json(connector, url)
        with pytest.raises(ClientConnectorCertificateError):
            await fetch(connector, url, ssl=True)  # verify, with the system's store
        by_context = await fetch_json(connector, url, ssl=context)
        pinned = await fetch_json(connector, url, ssl=Fingerprint(_pin(httpwire_server)))
        with pytest.raises(FingerprintMismatch):
            await fetch(connector, url, ssl=Fingerprint(_pin(httpwire_server, right=False)))
        # Each setting is its own pool key: nothing was shared between them.
        ids = {by_context["connection_id"], unverified["connection_id"], pinned["connection_id"]}
        assert len(ids) == 3
        assert connector.stats().idle == 3
        again = await fetch_json(connector, url, ssl=context)
        assert again["connection_id"] == by_context["connection_id"]
        assert (await fetch_json(connector, url, ssl=False))["connection_id"] == (
            unverified["connection_id"]
        )


async def test_limit_caps_the_endpoint_whatever_the_trust_settings(
    httpwire_server: LocalServer,
) -> None:
    # limit caps the (host, port, is_ssl) triple (DESIGN.md); connections made with other
    # trust are kept apart, but they still count against the same endpoint's cap.
    slow = URL(httpwire_server.url("/slow-stream?chunks=3&interval=0.2", scheme="https"))
    url = httpwire_server.url("/connection-id", scheme="https")
    async with TCPConnector(verify_ssl=False, limit=1) as connector:
        conn = await connector.acquire(OutgoingRequest("GET", slow))
        response = await conn.send(OutgoingRequest("GET", slow, CIMultiDict()))
        other = asyncio.create_task(fetch_json(connector, url, ssl=httpwire_server.ssl_context()))
        await asyncio.sleep(0.1)
        assert not other.done()
        assert connector.stats().waiting == 1
        await response.content.read()
        response.release()
        got = await asyncio.wait_for(other, 10)
        assert got["scheme"] == "https"
        # The idle unverified connection was closed to free the endpoint's one slot.
        assert connector.stats() == PoolStats(connecting=0, in_use=0, idle=1, waiting=0)


async def test_pinned_request_on_a_verifying_connector_is_also_verified(
    httpwire_server: LocalServer,
) -> None:
    url = httpwire_server.url("/get", scheme="https")
    async with TCPConnector() as connector:  # the system store does not trust the test CA
        with pytest.raises(ClientConnectorCertificateError):
            await fetch(connector, url, ssl=Fingerprint(_pin(httpwire_server)))


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
async def test_connector_to_ip_address_hosts(httpwire_server: LocalServer, host: str) -> None:
    if host == "[::1]" and not httpwire_server.ipv6:
        pytest.skip("no IPv6 loopback")
    url = f"https://{host}:{httpwire_server.tls_port}/connection-id"
    async with TCPConnector(ssl_context=httpwire_server.ssl_context()) as connector:
        body = await fetch_json(connector, url)
    assert body["peer"] == host.strip("[]")


async def test_close_after_tls_leaves_no_socket(httpwire_server: LocalServer) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    connector = TCPConnector(ssl_context=httpwire_server.ssl_context())
    await asyncio.gather(
        *(fetch(connector, httpwire_server.url("/get", scheme="https")) for _ in range(5))
    )
    assert client_sockets(port) == 5
    await connector.close()
    assert client_sockets(port) == 0


async def test_close_is_bounded_when_a_tls_peer_never_answers(
    ca: trustme.CA, mute_tls_server: int
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    connector = TCPConnector(ssl_context=context)
    url = URL(f"https://localhost:{mute_tls_server}/")
    conn = await connector.acquire(OutgoingRequest("GET", url))
    conn.release()
    assert client_sockets(mute_tls_server) == 1
    await asyncio.wait_for(connector.close(), 15)
    assert client_sockets(mute_tls_server) == 0


async def test_an_idle_tls_connection_the_server_closes_is_dropped_cleanly(
    httpwire_server: LocalServer,
) -> None:
    port = httpwire_server.tls_port
    assert port is not None
    url = httpwire_server.url("/fault/close-after-response", scheme="https")
    async with TCPConnector(ssl_context=httpwire_server.ssl_context()) as connector:
        response, _ = await fetch(connector, url)
        assert response.status == 200
        for _ in range(100):
            if connector.stats() == EMPTY:
                break
            await asyncio.sleep(0.01)
        assert connector.stats() == EMPTY
        del response
    gc.collect()  # no "unclosed transport" warning (Python 3.10 needs the close)
    assert client_sockets(port) == 0


@pytest.fixture
async def tls11_server(ca: trustme.CA) -> AsyncIterator[int]:
    """A TLS server that speaks TLS 1.1 at most, which clients must refuse (RFC 8996)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():  # the deprecation is the point of this server
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    ca.issue_cert("localhost").configure_cert(context)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_server_offering_only_tls_1_1_is_an_ssl_error(
    ca: trustme.CA, tls11_server: int
) -> None:
    """RFC 8996 deprecates TLS 1.1: the refused handshake is a ClientSSLError, whatever the
    server does on its side (an alert, or closing the connection)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with TCPConnector(ssl_context=context) as connector:
        url = URL(f"https://localhost:{tls11_server}/")
        with pytest.raises(ClientSSLError, match=r"TLS handshake failed") as caught:
            await connector.acquire(OutgoingRequest("GET", url))
        assert not isinstance(caught.value, ClientConnectorCertificateError)
        assert connector.stats() == EMPTY


_SHARED_TRUST_SCRIPT = """
import asyncio, ssl, sys
import trustme
from yarl import URL
from httpwire.connectors import ClientConnectorCertificateError, OutgoingRequest, TCPConnector

async def main(trusted_url):
    # SSL_CERT_FILE makes the default store trust the test server's CA.
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL(trusted_url))
        conn = await connector.acquire(request)
        reachable = [
            conn.pool_key.tls.context,
            conn.transport.get_extra_info("sslcontext"),
            conn.transport.get_extra_info("ssl_object").context,
        ]
        changed = []
        for context in reachable:
            for change in (
                lambda: setattr(context, "check_hostname", False),
                lambda: setattr(context, "verify_mode", ssl.CERT_NONE),
                lambda: context.load_verify_locations(cadata=other.cert_pem.bytes().decode()),
            ):
                try:
                    change()
                except AttributeError:
                    continue
                changed.append(repr(change))
        conn.release()
    # A new connector with the default trust must still refuse another CA's certificate.
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("localhost").configure_cert(server_context)

    async def handle(reader, writer):
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    async with TCPConnector() as fresh:
        try:
            await fresh.acquire(OutgoingRequest("GET", URL(f"https://localhost:{port}/")))
            verdict = "VERIFICATION OFF"
        except ClientConnectorCertificateError:
            verdict = "verified"
    server.close()
    print(len(changed), verdict)

other = trustme.CA()
asyncio.run(main(sys.argv[1]))
"""


def test_nothing_a_caller_reaches_changes_another_connectors_trust(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """The default context is shared by every connector: whatever part of it a caller can
    reach from a connection must refuse changes, or CERT_NONE set through one connection
    turns verification off for every connector of the process. In a process of its own,
    whose default trust store is the test server's CA."""
    script = tmp_path / "shared_trust.py"
    script.write_text(_SHARED_TRUST_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["SSL_CERT_FILE"] = str(httpwire_server.ca_pem)
    env.pop("SSL_CERT_DIR", None)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script), httpwire_server.url("/get", scheme="https")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["0", "verified"]


@pytest.fixture
def close_delimited_tls_server(ca: trustme.CA) -> Iterator[Callable[[bool], int]]:
    """Start TLS servers that answer with a body delimited by the close, then close with or
    without the close_notify alert."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def serve(listener: socket.socket, notify: bool) -> None:
        conn, _ = listener.accept()
        tls = context.wrap_socket(conn, server_side=True)
        tls.recv(65536)
        tls.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello")
        if notify:
            tls.unwrap().close()
        else:
            # The TCP connection closes with no TLS alert.
            socket.socket(fileno=tls.detach()).close()

    def start(notify: bool) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        thread = threading.Thread(target=serve, args=(listener, notify), daemon=True)
        thread.start()
        threads.append(thread)
        return int(listener.getsockname()[1])

    yield start
    for thread in threads:
        thread.join(5)
    for listener in listeners:
        listener.close()


@pytest.mark.parametrize("notify", [True, False], ids=["close-notify", "bare-close"])
async def test_a_close_delimited_body_over_tls_needs_close_notify_rfc9112_9_8(
    ca: trustme.CA, close_delimited_tls_server: Callable[[bool], int], notify: bool
) -> None:
    """RFC 9112 §9.8: a body delimited by the close of a TLS connection is complete only
    after a valid closure alert; without it, the body may have been cut by an attacker."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    port = close_delimited_tls_server(notify)
    async with TCPConnector(ssl_context=context) as connector:
        url = URL(f"https://localhost:{port}/")
        request = OutgoingRequest("GET", url)
        response = await (await connector.acquire(request)).send(request)
        if notify:
            assert await response.content.read() == b"hello"
        else:
            with pytest.raises(ServerDisconnectedError, match="disconnected"):
                await response.content.read()
        response.release()
