"""The guide's Connectors, SSL, Unix sockets and Proxy sections, through the client."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import pytest

from httpwire.client import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientProxyConnectionError,
    ClientProxyError,
    ClientSession,
    FingerprintMismatch,
    ProxyConnector,
    TCPConnector,
    UnixConnector,
    request,
)
from httpwire_testserver import LocalServer
from httpwire_testserver.plugin import Proxies


def der_digest(server: LocalServer, name: str) -> bytes:
    pem = ssl.get_server_certificate(("127.0.0.1", server.tls_port))
    return hashlib.new(name, ssl.PEM_cert_to_DER_cert(pem)).digest()


async def test_limit_per_endpoint(httpwire_server: LocalServer) -> None:
    """The guide's "Limiting connection pool size"."""
    async with TCPConnector(limit=2) as conn, ClientSession(connector=conn) as session:
        held = [await session.get(httpwire_server.url("/stream-bytes/3000000")) for _ in range(2)]
        assert conn.stats().in_use == 2
        for r in held:
            r.close()


async def test_https_is_verified_by_default(httpwire_server: LocalServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(httpwire_server.url("/get", scheme="https"))


async def test_verify_ssl_false(httpwire_server: LocalServer) -> None:
    """The guide's "SSL control": relaxed checks."""
    conn = TCPConnector(verify_ssl=False)
    async with (
        ClientSession(connector=conn) as session,
        session.get(httpwire_server.url("/get", scheme="https")) as r,
    ):
        assert r.status == 200


async def test_ssl_context(httpwire_server: LocalServer) -> None:
    """The guide's "SSL control": your own CA file."""
    sslcontext = ssl.create_default_context(cafile=str(httpwire_server.ca_pem))
    conn = TCPConnector(ssl_context=sslcontext)
    async with (
        ClientSession(connector=conn) as session,
        session.get(httpwire_server.url("/get", scheme="https")) as r,
    ):
        assert r.status == 200


async def test_per_request_ssl(session: ClientSession, httpwire_server: LocalServer) -> None:
    async with session.get(
        httpwire_server.url("/get", scheme="https"), ssl=httpwire_server.ssl_context()
    ) as r:
        assert r.status == 200


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256"])
async def test_fingerprints(httpwire_server: LocalServer, name: str) -> None:
    """The guide's fingerprint example: a bogus pin fails, the real one passes."""
    good = der_digest(httpwire_server, name)
    bad = bytes(len(good))
    conn = TCPConnector(verify_ssl=False, fingerprint=bad)
    async with ClientSession(connector=conn) as session:
        exc = None
        try:
            await session.get(httpwire_server.url("/get", scheme="https"))
        except FingerprintMismatch as e:
            exc = e
        assert exc is not None
        assert exc.expected == bad
        assert exc.got == good
    conn = TCPConnector(verify_ssl=False, fingerprint=good)
    async with (
        ClientSession(connector=conn) as session,
        session.get(httpwire_server.url("/get", scheme="https")) as r,
    ):
        assert r.status == 200


async def test_unix_socket(httpwire_server: LocalServer) -> None:
    """The guide's "Unix domain sockets"."""
    conn = UnixConnector(path=httpwire_server.unix_path)
    r = await request("get", "http://python.org/connection-id", connector=conn)
    assert (await r.json())["transport"] == "unix"
    await conn.close()


async def test_proxy_connector(proxy: Proxies, httpwire_server: LocalServer) -> None:
    """The guide's "Proxy support": open, with proxy_auth, with credentials in the URL."""
    user, password = proxy.auth
    for conn in (
        ProxyConnector(proxy=proxy.url),
        ProxyConnector(proxy=proxy.auth_proxy_url, proxy_auth=BasicAuth(user, password)),
        ProxyConnector(proxy=proxy.auth_url),
    ):
        r = await request("get", httpwire_server.url("/headers"), connector=conn)
        headers = (await r.json())["headers"]
        assert "Proxy-Authorization" not in headers
        await conn.close()


async def test_proxy_per_request(
    session: ClientSession, proxy: Proxies, httpwire_server: LocalServer
) -> None:
    user, password = proxy.auth
    async with session.get(
        httpwire_server.url("/get"),
        proxy=proxy.auth_proxy_url,
        proxy_auth=BasicAuth(user, password),
    ) as r:
        assert r.status == 200
    async with session.get(
        httpwire_server.url("/get", scheme="https"),
        proxy=proxy.url,
        ssl=httpwire_server.ssl_context(),
    ) as r:
        assert r.status == 200
    with pytest.raises(ClientProxyError) as info:
        await session.get(
            httpwire_server.url("/get", scheme="https"),
            proxy=proxy.auth_proxy_url,
            ssl=httpwire_server.ssl_context(),
        )
    assert info.value.status == 407


async def test_trust_env_takes_the_proxy_from_the_environment(
    proxy: Proxies, httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.auth_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # Through the authenticating proxy: the credentials in its URL are used.
    async with (
        ClientSession(trust_env=True) as session,
        session.get(httpwire_server.url("/get")) as r,
    ):
        assert r.status == 200
    async with ClientSession() as session, session.get(httpwire_server.url("/get")) as r:
        assert r.status == 200  # without trust_env, no proxy
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    async with ClientSession(trust_env=True) as session:
        with pytest.raises(ClientProxyConnectionError):
            await session.get(httpwire_server.url("/get"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with (
        ClientSession(trust_env=True) as session,
        session.get(httpwire_server.url("/get")) as r,
    ):
        assert r.status == 200  # NO_PROXY: direct


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("NETRC", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


async def test_trust_env_no_proxy_cidr_and_suffix(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY by CIDR block and by name; a host it does not list still uses the proxy."""
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    url = httpwire_server.url("/get")
    by_name = url.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8, 127.0.0.0/8")
    async with ClientSession(trust_env=True) as session:
        async with session.get(url) as r:
            assert r.status == 200  # 127.0.0.1 is in 127.0.0.0/8: direct
        with pytest.raises(ClientProxyConnectionError):
            await session.get(by_name)  # a name never matches an address block
    monkeypatch.setenv("NO_PROXY", ".localhost")
    async with ClientSession(trust_env=True) as session:
        async with session.get(by_name) as r:
            assert r.status == 200  # ".localhost" matches localhost itself
        with pytest.raises(ClientProxyConnectionError):
            await session.get(url)


async def test_trust_env_chooses_the_proxy_for_each_redirect_hop(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hop to a host NO_PROXY does not list goes through the proxy, even if the first
    hop went direct."""
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "localhost")
    target = httpwire_server.url("/get")
    start = httpwire_server.url("/redirect-to").replace("127.0.0.1", "localhost")
    async with ClientSession(trust_env=True) as session:
        with pytest.raises(ClientProxyConnectionError):
            await session.get(start, params={"url": target})
        async with session.get(start, params={"url": target}, allow_redirects=False) as r:
            assert r.status == 302  # the first hop itself went direct


async def test_trust_env_reads_netrc(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``.netrc`` credentials reach /basic-auth; auth= given wins over them."""
    _clear_proxy_env(monkeypatch)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine 127.0.0.1 login user password passwd\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    url = httpwire_server.url("/basic-auth/user/passwd")
    async with ClientSession(trust_env=True) as session:
        async with session.get(url) as r:
            assert r.status == 200
            assert (await r.json())["user"] == "user"
        async with session.get(url, auth=BasicAuth("user", "wrong")) as r:
            assert r.status == 401  # auth= given: the .netrc is not used
        async with session.get(url, headers={"Authorization": "Basic eDp5"}) as r:
            assert r.status == 401  # nor with an Authorization header
    async with ClientSession() as session, session.get(url) as r:
        assert r.status == 401  # without trust_env, no .netrc


async def test_trust_env_netrc_is_per_host_across_redirects(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One host's .netrc credentials never follow a redirect to another origin; the other
    host gets its own entry."""
    _clear_proxy_env(monkeypatch)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine localhost login local password secret\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    start = httpwire_server.url("/redirect-to").replace("127.0.0.1", "localhost")
    async with (
        ClientSession(trust_env=True) as session,
        session.get(start, params={"url": httpwire_server.url("/headers")}) as r,
    ):
        assert r.status == 200
        assert "Authorization" not in (await r.json())["headers"]
        assert len(r.history) == 1
    netrc_file.write_text(
        "machine localhost login local password secret\n"
        "machine 127.0.0.1 login user password passwd\n"
    )
    target = httpwire_server.url("/basic-auth/user/passwd")
    async with (
        ClientSession(trust_env=True) as session,
        session.get(start, params={"url": target}) as r,
    ):
        assert r.status == 200  # the new host's own entry


async def test_trust_env_ssl_cert_file(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE is the default connector's trust store with trust_env=True only."""
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("SSL_CERT_FILE", str(httpwire_server.ca_pem))
    url = httpwire_server.url("/get", scheme="https")
    async with ClientSession(trust_env=True) as session, session.get(url) as r:
        assert r.status == 200
    monkeypatch.setenv("SSL_CERT_FILE", str(httpwire_server.ca_pem.parent / "missing.pem"))
    with pytest.raises(ValueError, match="SSL_CERT_FILE"):
        ClientSession(trust_env=True)
