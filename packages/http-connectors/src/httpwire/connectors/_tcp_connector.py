"""The TCP connector: name resolution, Happy Eyeballs, TLS with pinning, and proxies.

``TCPConnector`` puts the pieces together: the resolver (:mod:`._resolver`) gives a host's
addresses, Happy Eyeballs (:mod:`._happy_eyeballs`) connects a socket to the first that
answers, TLS and pinning (:mod:`._tls`) run on that socket for https, and proxies and CONNECT
tunnels (:mod:`._proxy`) put a proxy in between. A SOCKS5 tunnel (:mod:`._socks`) gives a
socket connected to the target, on which the connector goes on exactly as for a direct
connection (plain, or TLS verified against the target). Its pool keys hold the TLS settings
and the proxy with its credentials, so connections made with different settings are never
shared.
The settings are resolved once per connector; the common request (no per-request ``ssl=`` or
``proxy=``) pays for none of them.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from time import monotonic
from typing import Unpack

from yarl import URL

from ._auth import BasicAuth
from ._connector import (
    _SECURE,
    BaseConnector,
    ConnectionKey,
    PoolOptions,
    _is_deadline,
    _new_key,
)
from ._errors import (
    ClientConnectorError,
    ClientError,
    ClientProxyConnectionError,
    ConnectTimeoutError,
)
from ._happy_eyeballs import connect_happy_eyeballs
from ._protocol import SocketProtocol
from ._proxy import ProxyConfig, open_tunnel, resolve_proxy
from ._resolver import AddrInfo, Resolver
from ._tls import (
    Fingerprint,
    SSLSetting,
    TLSConfig,
    connector_tls,
    default_ssl_context,
    open_tls,
    request_tls,
    upgrade_tls,
)
from ._trace import report_phase
from ._util import SOCKS_SCHEMES

__all__ = ["TCPConnector", "TCPOptions"]

_KEYS_MAX = 256  # pool keys remembered per connector, by URL


class TCPOptions(PoolOptions, total=False):
    """:class:`TCPConnector`'s own settings with the pool's, as :class:`ProxyConnector`
    passes them on. See :class:`TCPConnector` for their meaning and defaults."""

    verify_ssl: bool
    ssl_context: ssl.SSLContext | None
    fingerprint: Fingerprint | bytes | None
    family: int
    local_addr: tuple[str, int] | None
    use_dns_cache: bool
    ttl_dns_cache: float | None
    happy_eyeballs_delay: float | None


class TCPConnector(BaseConnector):
    """Connections over TCP, with TLS for https URLs.

    Host names are resolved with ``loop.getaddrinfo`` (answers cached for
    ``ttl_dns_cache`` seconds, concurrent look-ups of one name shared, the addresses of a
    name rotated between connections). When a name has several addresses they are tried
    the Happy Eyeballs way (RFC 8305): families alternate, and a new attempt starts
    ``happy_eyeballs_delay`` seconds after the previous one without waiting for it to
    fail; the first to connect wins. When all fail, the error names the host, the port and
    the OS error of each address.

    TLS is verified by default with the system's trust store (the context is built once per
    process and shared). ``fingerprint`` pins the server's certificate in addition to that
    verification; combine it with ``verify_ssl=False`` to pin a self-signed certificate.

    Args:
        verify_ssl: False to skip certificate and hostname verification.
        ssl_context: A client context of your own (trust store, hostname checks...).
            Mutually exclusive with ``verify_ssl=False``.
        fingerprint: The md5, sha1 or sha256 digest of the server certificate's DER
            bytes (picked by length: 16, 20 or 32 bytes), or a :class:`Fingerprint`.
        family: ``socket.AF_INET`` or ``socket.AF_INET6`` to use only that family
            (``0``: both).
        local_addr: A ``(host, port)`` to bind the local end to.
        use_dns_cache: Keep host name answers for ``ttl_dns_cache`` seconds.
        ttl_dns_cache: How long answers are kept (``None``: until evicted).
        happy_eyeballs_delay: Seconds between the starts of two connection attempts to a
            host's addresses (``None``: one address after the other).
        **options: The pool's settings (:class:`PoolOptions`), see :class:`BaseConnector`.

    Raises:
        ValueError: ``verify_ssl=False`` together with ``ssl_context``, a fingerprint of
            the wrong length, or an invalid family or limit.

    Example:
        >>> connector = TCPConnector(limit=30)  # at most 30 connections per endpoint
    """

    def __init__(
        self,
        *,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        fingerprint: Fingerprint | bytes | None = None,
        family: int = 0,
        local_addr: tuple[str, int] | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        happy_eyeballs_delay: float | None = 0.25,
        **options: Unpack[PoolOptions],
    ) -> None:
        if family not in (0, socket.AF_INET, socket.AF_INET6):
            raise ValueError(f"family must be 0, AF_INET or AF_INET6, got {family!r}")
        if happy_eyeballs_delay is not None and happy_eyeballs_delay < 0:
            raise ValueError(
                f"happy_eyeballs_delay must be >= 0 or None, got {happy_eyeballs_delay!r}"
            )
        self._ssl_context, self._fingerprint = connector_tls(verify_ssl, ssl_context, fingerprint)
        self._resolver = Resolver(use_dns_cache=use_dns_cache, ttl_dns_cache=ttl_dns_cache)
        super().__init__(**options)
        self._family = family
        self._local_addr = local_addr
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._tls: TLSConfig | None = None
        self._proxy: ProxyConfig | None = None
        # The pool key of each URL recently asked for with the connector's own settings:
        # the same URLs come again and again. By the URL's identity (yarl hashes a URL in
        # Python), the URL kept beside its key so that no other can take its address.
        # Bounded; emptied when full.
        self._keys: dict[int, tuple[URL, ConnectionKey]] = {}

    @property
    def family(self) -> int:
        """The address family connections are restricted to (0: any)."""
        return self._family

    @property
    def verify_ssl(self) -> bool:
        """Whether certificates are verified (by the default context or ``ssl_context``)."""
        context = self._ssl_context
        return context is None or context.verify_mode != ssl.CERT_NONE

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The context given (``None``: the shared default, or none when not verifying)."""
        context = self._ssl_context
        return context if context is not None and self.verify_ssl else None

    @property
    def fingerprint(self) -> bytes | None:
        """The pinned digest, if any."""
        return None if self._fingerprint is None else self._fingerprint.digest

    @property
    def use_dns_cache(self) -> bool:
        """Whether host name answers are cached."""
        return self._resolver.use_cache

    def clear_dns_cache(self, host: str | None = None) -> None:
        """Forget cached host name answers: all of them, or one host's.

        Args:
            host: The host to forget (``None``: every host).
        """
        self._resolver.clear(host)

    # -- keys ----------------------------------------------------------------------------

    def _default_tls(self) -> TLSConfig:
        tls = self._tls
        if tls is None:
            # Built at the first https request, so that plain-http users never pay for
            # loading the trust store.
            context = self._ssl_context or default_ssl_context()
            tls = self._tls = TLSConfig(context, self._fingerprint)
        return tls

    def _key(self, url: URL) -> ConnectionKey:
        known = self._keys.get(id(url))
        if known is not None and known[0] is url:
            return known[1]
        keys = self._keys
        if len(keys) >= _KEYS_MAX:
            keys.clear()
        key = self._new_key(url)
        keys[id(url)] = (url, key)
        return key

    def _new_key(self, url: URL) -> ConnectionKey:
        proxy = self._proxy
        if url.scheme in _SECURE:
            tls: TLSConfig | None = self._default_tls()
        elif proxy is None:
            return _new_key(
                ConnectionKey,
                (url.raw_host or "", url.port or 0, False, None, None, None),
            )
        else:
            tls = None
        return _new_key(
            ConnectionKey,
            (
                url.raw_host or "",
                url.port or 0,
                tls is not None,
                None if proxy is None else proxy.url,
                None if proxy is None else proxy.auth,
                tls,
            ),
        )

    def _key_for(
        self,
        url: URL,
        ssl: SSLSetting | bytes,
        proxy: str | URL | None,
        proxy_auth: BasicAuth | None,
    ) -> ConnectionKey:
        is_ssl = url.scheme in _SECURE
        tls: TLSConfig | None = None
        if is_ssl:
            if ssl is None:
                tls = self._default_tls()
            else:
                tls = request_tls(ssl, self._ssl_context, self._fingerprint)
        if proxy is not None:
            route: ProxyConfig | None = resolve_proxy(proxy, proxy_auth)
        elif proxy_auth is not None:
            if self._proxy is None:
                raise ValueError("proxy_auth was given without a proxy")
            route = resolve_proxy(self._proxy.url, proxy_auth)
        else:
            route = self._proxy
        return ConnectionKey(
            url.raw_host or "",
            url.port or 0,
            is_ssl,
            None if route is None else route.url,
            None if route is None else route.auth,
            tls,
        )

    # -- connecting ----------------------------------------------------------------------

    async def _resolve(
        self,
        host: str,
        port: int,
        error: type[ClientConnectorError] = ClientConnectorError,
    ) -> list[AddrInfo]:
        start = monotonic()
        try:
            infos = await self._resolver.resolve(host, port, self._family)
        except OSError as exc:
            raise error(host, port, exc) from exc
        report_phase("dns", start)
        return infos

    async def _connect(
        self,
        factory: Callable[[], SocketProtocol],
        key: ConnectionKey,
        sock_connect: float | None,
    ) -> tuple[asyncio.BaseTransport, SocketProtocol]:
        proxy = key.proxy
        if proxy is not None:
            if proxy.scheme in SOCKS_SCHEMES:
                start = monotonic()
                sock = await self._connect_via_socks(key, sock_connect)
                start = report_phase("connect", start)  # to the target, through the proxy
                return await self._on_socket(factory, sock, key, sock_connect, start)
            return await self._connect_via_proxy(factory, key, sock_connect)
        host, port = key.host, key.port
        infos = await self._resolve(host, port)
        start = monotonic()
        sock = await connect_happy_eyeballs(
            infos,
            host,
            port,
            delay=self._happy_eyeballs_delay,
            timeout=sock_connect,
            local_addr=self._local_addr,
        )
        start = report_phase("connect", start)
        return await self._on_socket(factory, sock, key, sock_connect, start)

    async def _on_socket(
        self,
        factory: Callable[[], SocketProtocol],
        sock: socket.socket,
        key: ConnectionKey,
        sock_connect: float | None,
        start: float,
    ) -> tuple[asyncio.BaseTransport, SocketProtocol]:
        """Make the connection on a socket connected to the target (directly or through a
        SOCKS tunnel): plain for http, TLS verified against the target for https."""
        if not key.is_ssl:
            return await _plain(factory, sock)
        host, port = key.host, key.port
        tls = key.tls
        assert isinstance(tls, TLSConfig)
        try:
            async with asyncio.timeout(sock_connect):
                opened = await open_tls(factory, sock, tls, host, port)
            report_phase("tls", start)
            return opened
        except ClientError:
            raise
        except (TimeoutError, OSError) as exc:
            if _is_deadline(exc):
                raise ConnectTimeoutError(sock_connect, host=host, port=port) from exc
            raise ClientConnectorError(host, port, exc) from exc

    async def _connect_via_socks(
        self, key: ConnectionKey, sock_connect: float | None
    ) -> socket.socket:
        """Open a SOCKS5 tunnel to the key's target: a socket connected to it through the
        proxy, the handshake bounded by ``sock_connect`` (closed on any failure)."""
        from ._socks import SocksProxy, open_socks_tunnel  # SOCKS code: imported when first used

        assert key.proxy is not None

        async def to_proxy(host: str, port: int) -> socket.socket:
            infos = await self._resolve(host, port, ClientProxyConnectionError)
            return await connect_happy_eyeballs(
                infos,
                host,
                port,
                delay=self._happy_eyeballs_delay,
                timeout=sock_connect,
                local_addr=self._local_addr,
            )

        async def resolve_target(host: str, port: int) -> list[AddrInfo]:
            return await self._resolver.resolve(host, port, self._family)

        return await open_socks_tunnel(
            SocksProxy(key.proxy, key.proxy_auth),
            key.host,
            key.port,
            connect=to_proxy,
            resolve=resolve_target,
            timeout=sock_connect,
        )

    async def _connect_via_proxy(
        self,
        factory: Callable[[], SocketProtocol],
        key: ConnectionKey,
        sock_connect: float | None,
    ) -> tuple[asyncio.BaseTransport, SocketProtocol]:
        """Connect to the proxy; for https, open a tunnel and start TLS to the target in it."""
        proxy = ProxyConfig(key.proxy, key.proxy_auth)  # type: ignore[arg-type]  # checked by the caller
        proxy_host, proxy_port = proxy.url.raw_host or "", proxy.url.port or 80
        infos = await self._resolve(proxy_host, proxy_port, ClientProxyConnectionError)
        start = monotonic()
        try:
            sock = await connect_happy_eyeballs(
                infos,
                proxy_host,
                proxy_port,
                delay=self._happy_eyeballs_delay,
                timeout=sock_connect,
                local_addr=self._local_addr,
            )
        except ClientConnectorError as exc:
            raise ClientProxyConnectionError(proxy_host, proxy_port, exc.os_error) from exc
        start = report_phase("connect", start)  # to the proxy
        if not key.is_ssl:
            return await _plain(factory, sock)
        host, port = key.host, key.port
        tls = key.tls
        assert isinstance(tls, TLSConfig)
        try:
            async with asyncio.timeout(sock_connect):
                transport, _ = await open_tunnel(sock, proxy, host, port)
                protocol = factory()
                await upgrade_tls(transport, protocol, tls, host, port)
            report_phase("tls", start)  # the tunnel and the handshake through it
            return transport, protocol
        except ClientError:
            raise
        except (TimeoutError, OSError) as exc:
            if _is_deadline(exc):
                raise ConnectTimeoutError(sock_connect, host=host, port=port) from exc
            raise ClientProxyConnectionError(proxy_host, proxy_port, exc) from exc


async def _plain(
    factory: Callable[[], SocketProtocol], sock: socket.socket
) -> tuple[asyncio.BaseTransport, SocketProtocol]:
    """A plain (http) connection on a connected socket; the socket is closed if it fails."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.create_connection(factory, sock=sock)
    except BaseException:
        sock.close()
        raise
