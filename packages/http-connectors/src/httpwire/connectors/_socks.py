"""SOCKS5 proxies: ``socks5://`` and ``socks5h://`` URLs, and tunnels through them.

Strategy (RFC 1928, RFC 1929):

* The handshake is the sans-I/O :class:`~._socks_codec.Socks5Handshake`; this module
  drives it on a **connected, non-blocking socket** with ``loop.sock_sendall`` and
  ``loop.sock_recv``, reading exactly the bytes it asks for. So nothing past the proxy's
  reply is ever read: the first bytes of the tunnel (a server that speaks first, or a
  proxy that sent them with its reply) stay in the socket for whoever reads it next.
* Once the proxy said yes, the socket is a plain TCP connection to the target. The
  connector goes on exactly as for a direct connection: ``loop.create_connection(factory,
  sock=sock)`` for http, the TLS handshake on the socket (``open_tls``) for https, verified
  against the **target's** name, trust and pin. No protocol object or transport is involved
  before that, so there is nothing to hand over.
* ``socks5://`` resolves the target's name here (the connector's resolver and DNS cache, or
  ``getaddrinfo``) and sends its first address; ``socks5h://`` sends the name (ATYP 0x03)
  for the proxy to resolve. IP literals go out as addresses either way.
* Credentials come from the proxy URL (percent-decoded) or ``proxy_auth``, never both,
  encoded with the ``BasicAuth``'s encoding; each must be 1 to 255 bytes (RFC 1929), checked
  when the proxy is configured. The proxy URL is kept without them, so they never show.
* Failures: the proxy cannot be reached, or the connection to it breaks, is a
  :class:`ClientProxyConnectionError`; a refusal or a broken reply is a :class:`SocksError`
  (a :class:`ClientProxyError`) naming the reply code in words or what was wrong; the
  handshake is bounded by ``timeout`` (:class:`ConnectTimeoutError`). The socket is closed on
  every failure and on cancellation.

Wiring into ``TCPConnector`` (these lines were run against the connector of this
package's tree with pproxy: http and https targets, both schemes, with and without
credentials, connections pooled and reused):

* ``resolve_proxy()``: for a URL whose scheme is in :data:`SOCKS_SCHEMES`, return
  ``ProxyConfig(*resolve_socks_proxy(proxy, proxy_auth))``: the pool key then holds the
  ``socks5``/``socks5h`` URL (with its port, 1080 by default) and the credentials.
* The connection's ``tunneled`` flag is true for every target behind a SOCKS proxy
  (``tunneled = key.is_ssl or key.proxy.scheme in SOCKS_SCHEMES``): requests keep the
  origin form and ``proxied()`` strips ``Proxy-Authorization`` instead of adding it.
* ``_connect()``: when ``key.proxy`` is a SOCKS URL::

      async def to_proxy(host: str, port: int) -> socket.socket:
          infos = await self._resolve(host, port, ClientProxyConnectionError)
          return await connect_happy_eyeballs(
              infos, host, port, delay=self._happy_eyeballs_delay, timeout=sock_connect,
              local_addr=self._local_addr)

      sock = await open_socks_tunnel(
          SocksProxy(key.proxy, key.proxy_auth), key.host, key.port,
          connect=to_proxy,
          resolve=lambda host, port: self._resolver.resolve(host, port, self._family),
          timeout=sock_connect)
      # From here on exactly the code of a direct connection, on this socket:
      # loop.create_connection(factory, sock=sock) for http; for https, open_tls(factory,
      # sock, key.tls, key.host, key.port, ...) inside the same sock_connect budget and
      # error translation as a direct https connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

from yarl import URL

from ._auth import BasicAuth, proxy_credentials
from ._errors import (
    ClientConnectorError,
    ClientError,
    ClientProxyConnectionError,
    ClientProxyError,
    ConnectTimeoutError,
)
from ._happy_eyeballs import connect_happy_eyeballs
from ._resolver import AddrInfo
from ._socks_codec import Socks5Handshake, SocksFailure, check_credential, encode_address
from ._util import SOCKS_SCHEMES

__all__ = [
    "DEFAULT_SOCKS_PORT",
    "SOCKS_SCHEMES",
    "ConnectProxy",
    "ResolveTarget",
    "SocksError",
    "SocksProxy",
    "is_socks_proxy",
    "open_socks_tunnel",
    "resolve_socks_proxy",
    "socks5_handshake",
]

DEFAULT_SOCKS_PORT = 1080
"""The port of a SOCKS proxy URL that gives none (RFC 1928 §3)."""

ConnectProxy = Callable[[str, int], Awaitable[socket.socket]]
"""Connects a non-blocking TCP socket to the proxy's ``(host, port)``."""

ResolveTarget = Callable[[str, int], Awaitable[Sequence[AddrInfo]]]
"""Resolves the target's ``(host, port)`` to ``getaddrinfo`` entries (for ``socks5://``)."""


class SocksError(ClientProxyError):
    """The SOCKS5 proxy refused the tunnel, or broke the protocol.

    The message names the reply code in words (RFC 1928 §6), the refused credentials
    (RFC 1929, never their value), or the byte that was wrong; it says "refused" only for
    a refusal, and "failed the SOCKS5 handshake" otherwise.

    Args:
        proxy: The proxy's URL (kept and shown without credentials).
        reason: What went wrong.
        reply_code: The proxy's reply code (1 to 255) when it refused the CONNECT, else
            ``None``.
        auth_failed: True when the proxy refused the username and password.
        refused: True when the proxy refused in another way (none of the offered
            authentication methods); a reply code or ``auth_failed`` imply it.
        method: The request method.
        url: The request URL.
    """

    _invalid = "failed the SOCKS5 handshake"

    def __init__(
        self,
        proxy: URL | None = None,
        reason: str = "",
        *,
        reply_code: int | None = None,
        auth_failed: bool = False,
        refused: bool = False,
        method: str | None = None,
        url: URL | None = None,
    ) -> None:
        super().__init__(proxy, None, reason, method=method, url=url)
        self.reply_code = reply_code
        self.auth_failed = auth_failed
        self.refused = refused or auth_failed or reply_code is not None


class SocksProxy(NamedTuple):
    """A SOCKS5 proxy and the credentials sent to it: hashable, fit for a pool key.

    Attributes:
        url: ``socks5://host:port`` or ``socks5h://host:port``, without credentials.
        auth: The RFC 1929 username and password, if any.
    """

    url: URL
    auth: BasicAuth | None = None

    @property
    def remote_dns(self) -> bool:
        """True for ``socks5h``: the proxy resolves the target's name."""
        return self.url.scheme == "socks5h"


def is_socks_proxy(proxy: str | URL) -> bool:
    """Whether a proxy URL is a SOCKS5 one (``socks5://`` or ``socks5h://``).

    Args:
        proxy: The proxy's URL.

    Returns:
        True for a SOCKS5 scheme.
    """
    url = proxy if isinstance(proxy, URL) else URL(proxy)
    return url.scheme in SOCKS_SCHEMES


def _credentials(auth: BasicAuth | None) -> tuple[bytes, bytes] | tuple[None, None]:
    if auth is None:
        return None, None
    username = auth.login.encode(auth.encoding)
    password = auth.password.encode(auth.encoding)
    check_credential("username", username)
    check_credential("password", password)
    return username, password


def resolve_socks_proxy(proxy: str | URL, proxy_auth: BasicAuth | None = None) -> SocksProxy:
    """Check a SOCKS5 proxy URL and its credentials.

    Args:
        proxy: ``socks5://[user:password@]host[:port]`` or the same with ``socks5h``; the
            port defaults to 1080 and the credentials are percent-decoded.
        proxy_auth: The credentials, when not in the URL.

    Returns:
        The proxy, its URL with an explicit port and without credentials.

    Raises:
        ValueError: The URL is not a SOCKS5 URL with a host (or has a path or query),
            credentials were given twice, or a credential is empty or longer than 255
            bytes (RFC 1929; the error names the field, never the value).
        TypeError: ``proxy_auth`` is not a :class:`BasicAuth`.
    """
    url = proxy if isinstance(proxy, URL) else URL(proxy)
    shown = url.with_user(None) if url.user is not None else url
    if url.scheme not in SOCKS_SCHEMES or not url.raw_host:
        raise ValueError(
            f"proxy {str(shown)[:200]!r} is not a socks5://host[:port] or socks5h://host[:port] "
            "URL"
        )
    if url.raw_path not in ("", "/") or url.raw_query_string or url.raw_fragment:
        raise ValueError(
            f"SOCKS proxy URL {str(shown)[:200]!r} has a path, query or fragment; it takes "
            "only a host and a port"
        )
    proxy_auth = proxy_credentials(url, shown, proxy_auth)
    _credentials(proxy_auth)
    # with_*() keeps an IPv6 host's brackets, which URL.build(encoded=True) would lose.
    bare = url.with_user(None).with_path("").with_port(url.port or DEFAULT_SOCKS_PORT)
    return SocksProxy(bare, proxy_auth)


def _endpoint(proxy: SocksProxy) -> tuple[str, int]:
    return proxy.url.raw_host or "", proxy.url.port or DEFAULT_SOCKS_PORT


def _failure(
    proxy: SocksProxy,
    cause: BaseException,
    timeout: float | None,
) -> ClientError:
    """The client error for a failed handshake: the one place they are built."""
    host, port = _endpoint(proxy)
    error: ClientError
    if isinstance(cause, SocksFailure):
        error = SocksError(
            proxy.url,
            str(cause),
            reply_code=cause.reply_code,
            auth_failed=cause.auth_failed,
            refused=cause.refused,
        )
    elif isinstance(cause, asyncio.TimeoutError) and getattr(cause, "errno", None) is None:
        error = ConnectTimeoutError(timeout, host=host, port=port)
    elif isinstance(cause, ClientConnectorError) and not isinstance(
        cause, ClientProxyConnectionError
    ):
        error = ClientProxyConnectionError(host, port, cause.os_error)
    else:
        error = ClientProxyConnectionError(host, port, cause)
    error.__cause__ = cause
    return error


async def _negotiate(sock: socket.socket, handshake: Socks5Handshake) -> tuple[str, int]:
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(sock, handshake.greeting())
    while not handshake.done:
        data = await loop.sock_recv(sock, handshake.wanted)
        if not data:
            raise handshake.closed_early()
        answer = handshake.receive(data)
        if answer:
            await loop.sock_sendall(sock, answer)
    # Reading only what the handshake wanted leaves the tunnel's bytes in the socket.
    assert not handshake.trailing and handshake.bound is not None
    return handshake.bound


async def socks5_handshake(
    sock: socket.socket,
    proxy: SocksProxy,
    host: str,
    port: int,
) -> tuple[str, int]:
    """Ask the SOCKS5 proxy on ``sock`` for a tunnel to ``host:port``.

    ``host`` goes out as given: an IP literal as an address, a name as a domain for the
    proxy to resolve (:func:`open_socks_tunnel` resolves it first for ``socks5://``). The
    caller bounds the handshake (``async with asyncio.timeout(...)``, as
    :func:`open_socks_tunnel` does); cancelled, it closes the socket.

    Args:
        sock: A non-blocking socket connected to the proxy. On success it is a connection
            to the target, with no byte of the tunnel read; on any failure or cancellation
            it is closed.
        proxy: The proxy and its credentials.
        host: The target's host (IP literal or name).
        port: The target's port.

    Returns:
        The address and port the proxy bound for the tunnel, as it reported them.

    Raises:
        SocksError: The proxy refused (reply code, credentials, methods) or broke the
            protocol (bad version or reserved byte, unknown address type, reply cut short).
        ClientProxyConnectionError: The connection to the proxy failed (reset...).
        ValueError: The target cannot be sent: a name longer than 255 bytes, a port out of
            range.
    """
    try:
        username, password = _credentials(proxy.auth)
        handshake = Socks5Handshake(host, port, username=username, password=password)
        return await _negotiate(sock, handshake)
    except (SocksFailure, OSError) as exc:
        sock.close()
        raise _failure(proxy, exc, None) from exc
    except BaseException:
        sock.close()
        raise


async def _connect_directly(host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return await connect_happy_eyeballs(infos, host, port)


async def _getaddrinfo(host: str, port: int) -> Sequence[AddrInfo]:
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# The timeout bounds the handshake only, which starts in here once the proxy is connected:
# a caller's asyncio.timeout would bound the connection to the proxy as well.
async def open_socks_tunnel(
    proxy: SocksProxy,
    host: str,
    port: int,
    *,
    connect: ConnectProxy | None = None,
    resolve: ResolveTarget | None = None,
    timeout: float | None = None,  # noqa: ASYNC109 (see above)
) -> socket.socket:
    """Connect to the SOCKS5 proxy and open a tunnel through it to ``host:port``.

    For ``socks5://`` a target name is resolved here (``resolve``) and its first address
    sent; for ``socks5h://`` the name itself is sent for the proxy to resolve.

    Args:
        proxy: The proxy and its credentials (see :func:`resolve_socks_proxy`).
        host: The target's host, as in the URL (an IP literal without brackets, or a name).
        port: The target's port.
        connect: Connects a socket to the proxy's ``(host, port)``; the connector passes
            its own (resolver, Happy Eyeballs, ``local_addr``, ``sock_connect``). By
            default ``getaddrinfo`` and Happy Eyeballs with no time limit.
        resolve: Resolves the target for ``socks5://``; by default ``getaddrinfo``.
        timeout: Seconds the handshake may take once connected (``None``: no limit).

    Returns:
        A non-blocking socket connected to the target through the proxy, nothing of the
        tunnel read yet; the caller owns it (wrap it with ``loop.create_connection(...,
        sock=sock)``, with or without TLS).

    Raises:
        ClientConnectorError: The target's name could not be resolved (``socks5://``).
        ClientProxyConnectionError: The proxy could not be reached, or the connection to
            it failed during the handshake.
        SocksError: The proxy refused the tunnel or broke the protocol.
        ConnectTimeoutError: Connecting (as ``connect`` bounds it) or the handshake took
            too long.
        ValueError: The target cannot be sent (name over 255 bytes, port out of range).
    """
    target = host
    if not proxy.remote_dns and not _is_ip(host):
        try:
            infos = await (resolve or _getaddrinfo)(host, port)
        except ClientError:
            raise
        except OSError as exc:
            raise ClientConnectorError(host, port, exc) from exc
        if not infos:
            raise ClientConnectorError(host, port, None, reason="the name has no address")
        target = str(infos[0][4][0])
    encode_address(target, port)  # a name too long to send fails before any connection
    proxy_host, proxy_port = _endpoint(proxy)
    try:
        sock = await (connect or _connect_directly)(proxy_host, proxy_port)
    except (ClientProxyConnectionError, ConnectTimeoutError):
        raise
    except (ClientConnectorError, OSError) as exc:
        raise _failure(proxy, exc, None) from exc
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # arrives as the inner await completes.
        async with asyncio.timeout(timeout):
            await socks5_handshake(sock, proxy, target, port)
    except TimeoutError as exc:
        if isinstance(exc, ClientError) or getattr(exc, "errno", None) is not None:
            raise
        raise _failure(proxy, exc, timeout) from exc
    return sock
