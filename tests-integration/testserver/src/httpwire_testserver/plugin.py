"""The pytest plugin (entry point ``pytest11``): session-scoped fixtures for real peers.

Importing this module costs almost nothing: servers, trustme and the peer
programs are imported and started only when a test first asks for their
fixture, and stopped when the session ends (or the run is interrupted).

Fixtures:

- ``httpwire_server``: the local httpbin-like server (:class:`LocalServer`) on
  HTTP (``127.0.0.1`` and ``::1``), HTTPS (a trustme CA) and a Unix socket.
- ``httpbin_server``: httpbin on gunicorn's gthread worker (:class:`HttpbinPeer`),
  TCP and Unix socket.
- ``proxy``: proxy.py, open and with Basic auth (:class:`Proxies`).
- ``httpbin_tls_server``: a second httpbin on gunicorn, serving HTTPS.
- ``tls_certificates``: the trustme CA and server certificate both TLS servers use.
- ``server``: parametrized over ``httpwire_server`` and ``httpbin_server``
  (a :class:`Peer`), for tests of endpoints both offer.
- ``https_server``: the same over TLS (a :class:`TlsPeer`).
- ``raw_server``: scripted loopback servers on the test's loop, for faults no real peer
  produces (:func:`~httpwire_testserver.scripted_servers`); ``await raw_server(handler)``
  gives a base URL. Needs pytest-asyncio in ``auto`` mode.

A peer whose packages are missing skips the tests that need it, unless
``--httpwire-require-peers`` is given (the integration session gives it), in
which case those tests fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    import ssl

    from ._local import LocalServer
    from ._peers import HttpbinPeer, ProxyPeer
    from ._scripted import StartServer
    from ._tls import TlsFiles

__all__ = [
    "PROXY_PASSWORD",
    "PROXY_USER",
    "Peer",
    "Proxies",
    "TlsPeer",
    "httpbin_server",
    "httpbin_tls_server",
    "https_server",
    "httpwire_server",
    "proxy",
    "pytest_addoption",
    "raw_server",
    "server",
    "tls_certificates",
]

PROXY_USER = "tester"
"""The user name the authenticating proxy requires."""
PROXY_PASSWORD = "p@ss:w/rd %#?&"
"""Its password: each of ``@ : / space % # ? &`` must be percent-encoded in a URL."""


@dataclass(frozen=True)
class Peer:
    """A server a test can run against, whichever program it is.

    Attributes:
        name: ``"httpwire"`` (ours) or ``"httpbin"`` (httpbin on gunicorn).
        http_url: ``http://127.0.0.1:PORT``.
        unix_path: Its Unix socket.
    """

    name: str
    http_url: str
    unix_path: str

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this peer."""
        return self.http_url + (path if path.startswith("/") else "/" + path)


@dataclass(frozen=True)
class TlsPeer:
    """A TLS server a test can run against, whichever program it is.

    Attributes:
        name: ``"httpwire"`` (ours) or ``"httpbin"`` (httpbin on gunicorn).
        https_url: ``https://localhost:PORT`` (ours) or ``https://127.0.0.1:PORT``.
        ca_pem: The PEM file of the CA both servers' certificates come from.
    """

    name: str
    https_url: str
    ca_pem: Path

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this peer."""
        return self.https_url + (path if path.startswith("/") else "/" + path)

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting only the test CA."""
        from ._tls import client_context

        return client_context(self.ca_pem)


@dataclass(frozen=True)
class Proxies:
    """The two proxy.py instances.

    Attributes:
        url: The open proxy, ``http://127.0.0.1:PORT``.
        auth_url: The authenticating proxy with its credentials percent-encoded in
            the URL (``http://tester:p%40ss%3Aw%2Frd%20%25%23%3F%26@127.0.0.1:PORT``).
        auth_proxy_url: The authenticating proxy without credentials.
        auth: ``(user, password)`` of the authenticating proxy, unencoded.
        open_peer: The open proxy's process handle.
        auth_peer: The authenticating proxy's process handle.
    """

    url: str
    auth_url: str
    auth_proxy_url: str
    auth: tuple[str, str]
    open_peer: ProxyPeer
    auth_peer: ProxyPeer


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--httpwire-require-peers``."""
    parser.addoption(
        "--httpwire-require-peers",
        action="store_true",
        default=os.environ.get("HTTPWIRE_REQUIRE_PEERS", "") not in ("", "0"),
        help="fail (instead of skip) tests whose peer programs (gunicorn, httpbin, "
        "proxy.py, trustme) are not installed; also HTTPWIRE_REQUIRE_PEERS=1",
    )


def _unavailable(config: pytest.Config, reason: str) -> NoReturn:
    if config.getoption("--httpwire-require-peers"):
        pytest.fail(f"{reason} (required by --httpwire-require-peers)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tls_certificates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> TlsFiles:
    """A new trustme CA and a server certificate for localhost, 127.0.0.1 and ::1.

    Both TLS servers (``httpwire_server``, ``httpbin_tls_server``) use it, so one
    client context trusts them all.
    """
    from ._tls import make_certificates

    try:
        return make_certificates(tmp_path_factory.mktemp("httpwire-tls"))
    except ModuleNotFoundError as exc:
        _unavailable(request.config, str(exc))


@pytest.fixture(scope="session")
def httpwire_server(tls_certificates: TlsFiles) -> Iterator[LocalServer]:
    """The local httpbin-like server: HTTP on 127.0.0.1 and ::1, HTTPS, and a Unix socket.

    The HTTPS certificate comes from ``tls_certificates`` (``.ca``, ``.ca_pem``,
    ``.ssl_context()``) and is valid for ``localhost``, ``127.0.0.1`` and ``::1``.
    """
    from ._local import LocalServer

    local = LocalServer(tls=tls_certificates).start()
    try:
        yield local
    finally:
        local.stop()


def _start_httpbin(request: pytest.FixtureRequest, tls: TlsFiles | None) -> HttpbinPeer:
    from ._peers import HttpbinPeer
    from ._process import PeerUnavailableError

    peer = HttpbinPeer(tls=tls)
    try:
        peer.start()
    except PeerUnavailableError as exc:
        _unavailable(request.config, str(exc))
    return peer


@pytest.fixture(scope="session")
def httpbin_server(request: pytest.FixtureRequest) -> Iterator[HttpbinPeer]:
    """httpbin on gunicorn (gthread worker, keep-alive on), on loopback TCP and a Unix socket."""
    peer = _start_httpbin(request, None)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def httpbin_tls_server(
    request: pytest.FixtureRequest, tls_certificates: TlsFiles
) -> Iterator[HttpbinPeer]:
    """httpbin on gunicorn serving HTTPS (``.https_url``, ``.ssl_context()``) on loopback TCP."""
    peer = _start_httpbin(request, tls_certificates)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def proxy(request: pytest.FixtureRequest) -> Iterator[Proxies]:
    """proxy.py twice: open (``.url``) and with Basic auth (``.auth_url``, ``.auth``)."""
    from ._peers import ProxyPeer
    from ._process import PeerUnavailableError

    open_peer = ProxyPeer()
    auth_peer = ProxyPeer((PROXY_USER, PROXY_PASSWORD))
    try:
        open_peer.start()
        auth_peer.start()
    except PeerUnavailableError as exc:
        open_peer.stop()
        _unavailable(request.config, str(exc))
    except BaseException:
        open_peer.stop()
        raise
    try:
        yield Proxies(
            url=open_peer.url,
            auth_url=auth_peer.auth_url,
            auth_proxy_url=auth_peer.url,
            auth=(PROXY_USER, PROXY_PASSWORD),
            open_peer=open_peer,
            auth_peer=auth_peer,
        )
    finally:
        open_peer.stop()
        auth_peer.stop()


@pytest.fixture(scope="session", params=["httpwire", "httpbin"])
def server(request: pytest.FixtureRequest) -> Peer:
    """Each test using it runs against our server and against httpbin on gunicorn."""
    if request.param == "httpwire":
        local: LocalServer = request.getfixturevalue("httpwire_server")
        return Peer("httpwire", local.http_url, local.unix_path)
    peer: HttpbinPeer = request.getfixturevalue("httpbin_server")
    return Peer("httpbin", peer.http_url, peer.unix_path)


@pytest.fixture(scope="session", params=["httpwire", "httpbin"])
def https_server(request: pytest.FixtureRequest, tls_certificates: TlsFiles) -> TlsPeer:
    """Each test using it runs over TLS against our server and against httpbin on gunicorn."""
    assert tls_certificates.ca_pem is not None
    if request.param == "httpwire":
        local: LocalServer = request.getfixturevalue("httpwire_server")
        return TlsPeer("httpwire", local.https_url, tls_certificates.ca_pem)
    peer: HttpbinPeer = request.getfixturevalue("httpbin_tls_server")
    return TlsPeer("httpbin", peer.https_url, tls_certificates.ca_pem)


@pytest.fixture
async def raw_server() -> AsyncIterator[StartServer]:
    """Scripted loopback servers for the test: ``await raw_server(handler)`` → base URL.

    The handler gets each connection's streams; every server and connection is closed
    when the test ends. An async fixture: pytest-asyncio runs it in ``auto`` mode (which
    every httpwire package uses); the plugin imports no asyncio until a test asks for it.
    """
    from ._scripted import scripted_servers

    async with scripted_servers() as start:
        yield start
