"""The guide's "Connectors", "Limiting connection pool size", "SSL control for tcp sockets",
"Unix domain sockets" and "Proxy support", in modern form, against real peers.

``python.org`` and ``example.com`` map to our server and httpbin on gunicorn; the TLS
examples run against both TLS listeners (certificates from the one trustme CA,
valid for ``localhost``, ``127.0.0.1`` and ``::1``); the pins are the md5, sha1 and
sha256 digests of that certificate's DER bytes. Proxies are proxy.py, open and with
Basic auth (a password that needs percent-encoding in a URL).
"""

from __future__ import annotations

import asyncio
import ssl
from binascii import unhexlify
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from tests.guide_support import der_certificate, fingerprints, leak_check
from yarl import URL

from httpwire.client import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientProxyConnectionError,
    ClientSession,
    FingerprintMismatch,
    ProxyConnector,
    TCPConnector,
    UnixConnector,
    request,
)

if TYPE_CHECKING:
    from httpwire_testserver import LocalServer, TlsFiles
    from httpwire_testserver.plugin import Peer, Proxies, TlsPeer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


# -- Connectors -------------------------------------------------------------------------------


async def test_request_through_a_custom_connector(server: Peer) -> None:
    """``conn = TCPConnector()``; ``await request('get', url, connector=conn)``."""
    async with TCPConnector() as conn:
        r = await request("get", server.url("/html"), connector=conn)
        text = await r.text()
        r.release()
        assert r.status == 200
        assert "<html" in text.lower()
        assert conn.stats().in_use == 0


async def test_requests_through_one_connector_share_its_pool(
    httpwire_server: LocalServer,
) -> None:
    """With ``connector=``, request() borrows from that connector's pool instead of its own."""
    url = httpwire_server.url("/connection-id")
    async with TCPConnector() as conn:
        ids = []
        for _ in range(3):
            async with request("get", url, connector=conn) as r:
                ids.append((await r.json())["connection_id"])
        assert len(set(ids)) == 1
        assert conn.stats().in_use == 0
        assert not conn.closed


async def test_a_session_over_a_custom_connector(server: Peer) -> None:
    conn = TCPConnector(keepalive_timeout=30)
    async with ClientSession(connector=conn) as session:
        for _ in range(2):
            async with session.get(server.url("/get")) as r:
                assert r.status == 200
        assert conn.stats().in_use == 0
        assert conn.stats().idle == 1
    assert conn.closed  # the session owned it


# -- Limiting connection pool size ------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 30])
async def test_limit_caps_parallel_connections_to_one_endpoint(
    httpwire_server: LocalServer, limit: int
) -> None:
    """``TCPConnector(limit=30)`` limits connections to one ``(host, port, is_ssl)``."""
    key = f"guide-limit-{limit}"
    requests = min(limit * 3, 40)
    conn = TCPConnector(limit=limit)
    async with ClientSession(connector=conn) as session:
        async with session.get(httpwire_server.url(f"/inflight-stats?key={key}&reset=1")) as r:
            await r.read()

        async def one() -> int:
            async with session.get(httpwire_server.url(f"/inflight?key={key}&delay=0.3")) as r:
                await r.read()
                return r.status

        statuses = await asyncio.gather(*(one() for _ in range(requests)))
        assert statuses == [200] * requests
        assert conn.stats().open <= limit
        async with session.get(httpwire_server.url(f"/inflight-stats?key={key}")) as r:
            stats = await r.json()
    assert stats["total"] == requests
    assert stats["max"] <= limit
    assert stats["connections"] <= limit
    if limit <= 2:  # a few slots held 0.3 s each are all taken at once
        assert stats["max"] == limit


# -- SSL control for tcp sockets ------------------------------------------------------------


async def test_strict_checks_by_default(https_server: TlsPeer) -> None:
    """Strict checks by default: a certificate from an unknown CA is refused."""
    async with ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(https_server.url("/get"))
    assert "certificate" in str(info.value)


async def test_verify_ssl_false(https_server: TlsPeer) -> None:
    """``TCPConnector(verify_ssl=False)`` relaxes the checks."""
    conn = TCPConnector(verify_ssl=False)
    async with ClientSession(connector=conn) as session:
        r = await session.get(https_server.url("/get"))
        echo = await r.json()
        r.release()
    assert r.status == 200
    assert echo["url"] == https_server.url("/get")


async def test_ssl_context_with_the_ca_bundle(https_server: TlsPeer) -> None:
    """``ssl.create_default_context(cafile=...)`` passed as ``ssl_context``."""
    sslcontext = ssl.create_default_context(cafile=str(https_server.ca_pem))
    conn = TCPConnector(ssl_context=sslcontext)
    async with (
        ClientSession(connector=conn) as session,
        session.get(https_server.url("/get")) as r,
    ):
        assert r.status == 200
        assert r.url.scheme == "https"


def test_verify_ssl_false_and_ssl_context_are_mutually_exclusive() -> None:
    with pytest.raises(ValueError, match="exclusive"):
        TCPConnector(verify_ssl=False, ssl_context=ssl.create_default_context())


@pytest.mark.parametrize("hash_name", ["md5", "sha1", "sha256"])
async def test_a_fingerprint_pins_the_certificate(
    https_server: TlsPeer, tls_certificates: TlsFiles, hash_name: str
) -> None:
    """Certificates verified "via md5, sha1, or sha256 fingerprint"."""
    digest = fingerprints(der_certificate(tls_certificates.cert_pem))[hash_name]
    # The pin comes on top of the verification: with the CA trusted ...
    trusted = ssl.create_default_context(cafile=str(https_server.ca_pem))
    conn = TCPConnector(ssl_context=trusted, fingerprint=digest)
    async with (
        ClientSession(connector=conn) as session,
        session.get(https_server.url("/get")) as r,
    ):
        assert r.status == 200
    # ... or pinning the certificate alone, without verification.
    conn = TCPConnector(verify_ssl=False, fingerprint=digest)
    async with (
        ClientSession(connector=conn) as session,
        session.get(https_server.url("/get")) as r,
    ):
        assert r.status == 200


BOGUS = {
    "md5": b"\xa2\x06G\xad\xaa\xf5\xd8\\J\x99^by;\x06=",  # the guide's bad_md5
    "sha1": bytes(range(20)),
    "sha256": bytes(range(32)),
}


@pytest.mark.parametrize("hash_name", ["md5", "sha1", "sha256"])
async def test_a_bogus_fingerprint_raises_fingerprint_mismatch(
    https_server: TlsPeer, tls_certificates: TlsFiles, hash_name: str
) -> None:
    """The guide's ``bad_md5`` pin: ``FingerprintMismatch`` with ``expected`` and ``got``."""
    actual = fingerprints(der_certificate(tls_certificates.cert_pem))[hash_name]
    bad = BOGUS[hash_name]
    conn = TCPConnector(verify_ssl=False, fingerprint=bad)
    session = ClientSession(connector=conn)
    exc = None
    try:
        r = await session.get(https_server.url("/get"))
        r.release()
    except FingerprintMismatch as e:
        exc = e
    finally:
        await session.close()
    assert exc is not None
    assert exc.expected == bad
    assert exc.got == actual
    assert exc.port == URL(https_server.https_url).port


async def test_a_hexadecimal_digest_through_unhexlify(
    https_server: TlsPeer, tls_certificates: TlsFiles
) -> None:
    """The tip: ``unhexlify(md5_hex)`` turns a hexadecimal digest into the pin."""
    md5_hex = fingerprints(der_certificate(tls_certificates.cert_pem))["md5"].hex()
    conn = TCPConnector(verify_ssl=False, fingerprint=unhexlify(md5_hex))
    async with (
        ClientSession(connector=conn) as session,
        session.get(https_server.url("/get")) as r,
    ):
        assert r.status == 200


@pytest.mark.parametrize("length", [0, 8, 31, 64])
def test_a_fingerprint_of_another_length_is_a_value_error(length: int) -> None:
    with pytest.raises(ValueError):
        TCPConnector(fingerprint=b"\x01" * length)


# -- Unix domain sockets -----------------------------------------------------------------------


async def test_unix_connector(server: Peer) -> None:
    """``UnixConnector(path=...)``; the URL gives only the Host (``python.org`` here)."""
    async with UnixConnector(path=server.unix_path) as conn:
        r = await request("get", "http://python.org/get", connector=conn)
        echo = await r.json()
        r.release()
    assert r.status == 200
    assert echo["headers"]["Host"] == "python.org"


async def test_an_idna_host_goes_out_punycoded(server: Peer) -> None:
    """A non-ASCII host name is sent IDNA-encoded in ``Host`` (the socket needs no DNS)."""
    async with (
        UnixConnector(path=server.unix_path) as conn,
        request("get", "http://bücher.example/get", connector=conn) as r,
    ):
        echo = await r.json()
    assert echo["headers"]["Host"] == "xn--bcher-kva.example"
    assert r.url.raw_host == "xn--bcher-kva.example"


async def test_unix_connector_in_a_session(httpwire_server: LocalServer) -> None:
    conn = UnixConnector(path=httpwire_server.unix_path)
    async with ClientSession(connector=conn) as session:
        answers = []
        for _ in range(2):
            async with session.get("http://localhost/connection-id") as r:
                answers.append(await r.json())
    assert {a["transport"] for a in answers} == {"unix"}
    assert len({a["connection_id"] for a in answers}) == 1


# -- Proxy support -----------------------------------------------------------------------------


async def test_proxy_connector(server: Peer, proxy: Proxies) -> None:
    """``ProxyConnector(proxy="http://some.proxy.com")``."""
    async with ProxyConnector(proxy=proxy.url) as conn:
        r = await request("get", server.url("/get?via=proxy"), connector=conn)
        echo = await r.json()
        r.release()
    assert r.status == 200
    assert echo["args"] == {"via": "proxy"}


async def test_a_proxy_that_cannot_be_reached_is_an_error(
    server: Peer, unused_tcp_port: int
) -> None:
    """The request really goes to the proxy: none listening there, no request at all."""
    async with ProxyConnector(proxy=f"http://127.0.0.1:{unused_tcp_port}") as conn:
        with pytest.raises(ClientProxyConnectionError):
            await request("get", server.url("/get"), connector=conn)


async def test_proxy_connector_with_proxy_auth(server: Peer, proxy: Proxies) -> None:
    """``ProxyConnector(proxy=..., proxy_auth=BasicAuth('user', 'pass'))``."""
    async with ProxyConnector(
        proxy=proxy.auth_proxy_url, proxy_auth=BasicAuth(*proxy.auth)
    ) as conn:
        r = await request("get", server.url("/get?via=auth"), connector=conn)
        echo = await r.json()
        r.release()
    assert r.status == 200
    assert echo["args"] == {"via": "auth"}
    assert "Proxy-Authorization" not in echo["headers"]


async def test_proxy_credentials_in_the_proxy_url(server: Peer, proxy: Proxies) -> None:
    """``ProxyConnector(proxy="http://user:pass@some.proxy.com")``, percent-decoded."""
    async with ProxyConnector(proxy=proxy.auth_url) as conn:
        r = await request("get", server.url("/get?via=url"), connector=conn)
        echo = await r.json()
        r.release()
    assert r.status == 200
    assert echo["args"] == {"via": "url"}


async def test_the_auth_proxy_answers_407_without_credentials(
    server: Peer, proxy: Proxies
) -> None:
    async with (
        ProxyConnector(proxy=proxy.auth_proxy_url) as conn,
        request("get", server.url("/get"), connector=conn) as r,
    ):
        assert r.status == 407
        assert r.headers["Proxy-Authenticate"].lower().startswith("basic")


async def test_per_request_proxy_and_proxy_auth(server: Peer, proxy: Proxies) -> None:
    """DESIGN.md: ``proxy=``/``proxy_auth=`` per request, without a special connector."""
    async with ClientSession() as session:
        async with session.get(server.url("/get?n=1"), proxy=proxy.url) as r:
            assert r.status == 200
        async with session.get(
            server.url("/get?n=2"),
            proxy=proxy.auth_proxy_url,
            proxy_auth=BasicAuth(*proxy.auth),
        ) as r:
            assert r.status == 200
            assert (await r.json())["args"] == {"n": "2"}
        async with session.get(server.url("/get?n=3"), proxy=proxy.auth_url) as r:
            assert r.status == 200
        async with session.get(server.url("/get?n=4"), proxy=proxy.auth_proxy_url) as r:
            assert r.status == 407


@pytest.mark.parametrize("with_auth", [False, True])
async def test_https_through_a_proxy_tunnel(
    https_server: TlsPeer, proxy: Proxies, with_auth: bool
) -> None:
    """An https target through ProxyConnector: a CONNECT tunnel, verified end to end."""
    proxy_url = proxy.auth_url if with_auth else proxy.url
    async with (
        ProxyConnector(proxy=proxy_url, ssl_context=https_server.ssl_context()) as conn,
        request("get", https_server.url("/headers"), connector=conn) as r,
    ):
        echo = await r.json()
    assert r.status == 200
    assert "Proxy-Authorization" not in echo["headers"]  # it went in the CONNECT only
    assert r.url == URL(https_server.url("/headers"))
