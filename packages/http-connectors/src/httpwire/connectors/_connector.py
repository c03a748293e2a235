"""Connectors: where connections come from and the pool they live in; the Unix connector.

A connector owns one :class:`~httpwire.connectors._pool.ConnectionPool`. ``acquire()``
takes an idle connection to the request's endpoint or opens one in a reserved slot; the
connection itself sends the request (see :mod:`._connection`) and goes back to the pool
when its response is complete. Subclasses say how to open a socket to an endpoint
(:meth:`BaseConnector._connect`) and what else belongs in the pool key (the TLS settings, a
proxy and its credentials), so that connections made with different settings are never
shared. The TCP connector (TLS, DNS cache, Happy Eyeballs, proxies) is in
:mod:`._tcp_connector`.
"""

from __future__ import annotations

import asyncio
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from time import monotonic
from typing import NamedTuple, TypedDict, TypeVar, Unpack

from yarl import URL

from ._auth import BasicAuth
from ._connection import Connection
from ._errors import ClientConnectionError, ClientConnectorError, ConnectTimeoutError
from ._interfaces import OutgoingRequest
from ._pool import ConnectionPool, PoolStats
from ._protocol import SocketProtocol
from ._proxy import ProxyConfig
from ._tls import SSLSetting
from ._trace import CURRENT, report_connection, report_phase
from ._util import DEFAULT_LIMITS, SOCKS_SCHEMES, ParserLimits

__all__ = ["BaseConnector", "ConnectionKey", "PoolOptions", "UnixConnector"]

_Self = TypeVar("_Self", bound="BaseConnector")
_new_key = tuple.__new__
_SECURE = frozenset({"https", "wss"})
_CLOSE_WAIT = 5.0  # the longest close() waits for transports to report connection_lost


class PoolOptions(TypedDict, total=False):
    """The pool's and the response parser's settings, which every connector takes.

    Written once here and passed on with ``**options`` by each connector, so that a new
    setting is one line in this class and one in :class:`BaseConnector`'s signature.
    See :class:`BaseConnector` for their meaning and defaults.
    """

    limit: int | None
    total_limit: int | None
    keepalive_timeout: float | None
    force_close: bool
    max_line_size: int
    max_field_size: int
    max_headers: int
    max_head_size: int


class ConnectionKey(NamedTuple):
    """What makes two connections interchangeable: the pool key.

    Attributes:
        host: The endpoint's host, as in the URL (IDNA-encoded, lower case).
        port: The endpoint's port.
        is_ssl: True for https (and wss) endpoints.
        proxy: The proxy the connection goes through, if any.
        proxy_auth: The credentials given to that proxy, if any.
        tls: A hashable summary of the TLS settings (trust, pin), if any.
    """

    host: str
    port: int
    is_ssl: bool
    proxy: URL | None = None
    proxy_auth: BasicAuth | None = None
    tls: object = None


def _endpoint_of(key: Hashable) -> Hashable:
    """The (host, port, is_ssl) triple that ``limit`` caps, whatever the trust or proxy."""
    assert isinstance(key, ConnectionKey)
    return key[:3]


class BaseConnector(ABC):
    """A pool of HTTP/1.1 connections; subclasses say how to open them.

    Args:
        limit: The most connections open at once to one endpoint, the
            ``(host, port, is_ssl)`` triple (``None``: no per-endpoint cap).
        total_limit: The most connections open at once in all (``None``: no cap).
        keepalive_timeout: Seconds an idle connection is kept for reuse (``None``: until
            the server closes it).
        force_close: Close every connection after its response instead of reusing it.
        max_line_size: The longest status or header line accepted from servers.
        max_field_size: The longest header field accepted.
        max_headers: The most header fields accepted in one response head.
        max_head_size: The largest response head accepted, in bytes.

    Raises:
        ValueError: A limit is not a positive number.
    """

    def __init__(
        self,
        *,
        limit: int | None = None,
        total_limit: int | None = 100,
        keepalive_timeout: float | None = 15,
        force_close: bool = False,
        max_line_size: int = DEFAULT_LIMITS.max_line_size,
        max_field_size: int = DEFAULT_LIMITS.max_field_size,
        max_headers: int = DEFAULT_LIMITS.max_headers,
        max_head_size: int = DEFAULT_LIMITS.max_head_size,
    ) -> None:
        for name, value in (("limit", limit), ("total_limit", total_limit)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        if keepalive_timeout is not None and keepalive_timeout < 0:
            raise ValueError(f"keepalive_timeout must be >= 0 or None, got {keepalive_timeout!r}")
        self._limit = limit
        self._total_limit = total_limit
        self._keepalive_timeout = keepalive_timeout
        self._force_close = force_close
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            limit=limit,
            total_limit=total_limit,
            keepalive_timeout=0 if force_close else keepalive_timeout,
            endpoint=_endpoint_of,
        )
        self._limits = ParserLimits(max_line_size, max_field_size, max_headers, max_head_size)
        self._conns: set[Connection] = set()
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._opened = 0

    # -- properties ----------------------------------------------------------------------

    @property
    def limit(self) -> int | None:
        """The per-endpoint cap on open connections."""
        return self._limit

    @property
    def total_limit(self) -> int | None:
        """The cap on all open connections."""
        return self._total_limit

    @property
    def force_close(self) -> bool:
        """Whether connections are closed after each response."""
        return self._force_close

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def stats(self, url: URL | str | None = None) -> PoolStats:
        """Counts of the pool, or of one endpoint's part of it, for debugging and tests.

        Args:
            url: Any URL of the endpoint to count (``None``: the whole pool).

        Returns:
            How many connections are being opened, in use, idle, and how many requests wait.
        """
        if url is None:
            return self._pool.stats()
        return self._pool.stats(self._key(URL(url) if isinstance(url, str) else url))

    # -- acquiring -----------------------------------------------------------------------

    def _key(self, url: URL) -> ConnectionKey:
        """The pool key of a URL's endpoint; subclasses add their settings."""
        # tuple.__new__ skips the NamedTuple's Python-level __new__ (a per-request cost).
        return _new_key(
            ConnectionKey,
            (url.raw_host or "", url.port or 0, url.scheme in _SECURE, None, None, None),
        )

    def _key_for(
        self,
        url: URL,
        ssl: SSLSetting | bytes,
        proxy: str | URL | None,
        proxy_auth: BasicAuth | None,
    ) -> ConnectionKey:
        """The pool key of a request with its own ``ssl=``/``proxy=``/``proxy_auth=``."""
        if proxy is not None or proxy_auth is not None:
            raise ValueError(f"{type(self).__name__} cannot go through a proxy")
        return self._key(url)

    async def acquire(self, request: OutgoingRequest) -> Connection:
        """Get a connection to the request's endpoint: an idle one, or a new one.

        Waits, first come first served, while the limits leave no room; cancelling the
        wait gives the place back. The connection is lent to the caller until its
        :meth:`Connection.send` response is complete (it then goes back by itself) or
        :meth:`Connection.release` is called without sending.

        Args:
            request: The request the connection is for. Its URL's scheme, host and port
                pick the endpoint; ``sock_connect`` bounds each connection attempt, TLS
                handshake included (``None``: no limit); ``ssl`` overrides the connector's
                TLS settings (``None`` keeps them; ``True`` verifies; ``False`` neither
                verifies nor pins; an ``ssl.SSLContext`` replaces the trust; a
                :class:`Fingerprint` or its digest replaces the pin); ``proxy`` and
                ``proxy_auth`` send it through an ``http://`` or SOCKS5 proxy. Its method and URL
                are named in errors.

        Returns:
            A connection ready for :meth:`Connection.send`.

        Raises:
            ClientConnectorError: The endpoint could not be reached (names host, port and
                the OS error); :class:`ClientConnectorCertificateError` when its certificate
                failed verification, :class:`ClientProxyConnectionError` when the proxy
                could not be reached.
            FingerprintMismatch: The certificate does not match the pin.
            ClientProxyError: The proxy refused the tunnel (``.status``).
            ConnectTimeoutError: ``sock_connect`` elapsed.
            ClientConnectionError: The connector is closed.
            ValueError: ``proxy``/``proxy_auth`` are invalid or not supported here.
        """
        url = request.url
        if self._closed:
            raise ClientConnectionError(
                f"connector is closed; cannot send {request.method} {url.with_user(None)}",
                method=request.method,
                url=url,
            )
        ssl, proxy, proxy_auth = request[10:13]
        if ssl is None and proxy is None and proxy_auth is None:
            key = self._key(url)
        else:
            key = self._key_for(url, ssl, proxy, proxy_auth)
        pool = self._pool
        conn = pool.take_idle(key)
        if conn is not None:
            if request[14] is not None:  # request.trace, by index: the pooled path
                report_connection(request[14], True, conn)
            return conn
        try:
            conn = await pool.acquire(key)
        except RuntimeError as exc:  # closed while waiting
            raise ClientConnectionError(
                f"connector was closed while {request.method} {url.with_user(None)} waited "
                "for a connection",
                method=request.method,
                url=url,
            ) from exc
        trace = request.trace
        if conn is not None:
            if trace is not None:
                report_connection(trace, True, conn)
            return conn
        token = None if trace is None else CURRENT.set(trace)
        try:
            conn = await self._open(key, request.sock_connect)
        except BaseException as exc:
            pool.unreserve(key)
            if isinstance(exc, ClientConnectionError):
                # The one place that knows the request: what was raised below it named
                # only the endpoint.
                exc.with_request(request.method, url)
            raise
        finally:
            if token is not None:
                CURRENT.reset(token)
        pool.fill(conn)
        if trace is not None:
            report_connection(trace, False, conn)
        return conn

    async def _open(self, key: ConnectionKey, sock_connect: float | None) -> Connection:
        host, port = self._endpoint(key)
        pool = self._pool
        limits = self._limits
        conns = self._conns
        made: list[Connection] = []  # what the factory made, to undo if connecting fails
        route = None if key.proxy is None else ProxyConfig(key.proxy, key.proxy_auth)
        # Behind a SOCKS proxy every request is tunneled: origin form, no proxy credentials.
        tunneled = key.is_ssl or (route is not None and route.url.scheme in SOCKS_SCHEMES)

        def factory() -> SocketProtocol:
            conn = Connection(pool, key, host, port, limits, conns, route, tunneled)
            made.append(conn)
            return conn.protocol

        try:
            _, protocol = await self._connect(factory, key, sock_connect)
            conn = next(made_conn for made_conn in made if made_conn.protocol is protocol)
        except BaseException:
            # Cancelled or failed after the loop called connection_made: uvloop then never
            # calls connection_lost, so the connection is closed and unregistered here
            # rather than waited for by close().
            for orphan in made:
                orphan.close()
                conns.discard(orphan)
            raise
        if self._closed:
            conn.close()
            raise ClientConnectionError("connector was closed while connecting")
        self._opened += 1
        return conn

    def _endpoint(self, key: ConnectionKey) -> tuple[str | None, int | None]:
        """The host and port errors name for a key."""
        return key.host, key.port

    @abstractmethod
    async def _connect(
        self,
        factory: Callable[[], SocketProtocol],
        key: ConnectionKey,
        sock_connect: float | None,
    ) -> tuple[asyncio.BaseTransport, SocketProtocol]:
        """Open a transport to the key's endpoint with a protocol from ``factory``."""

    # -- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection and wait until each socket is closed; idempotent.

        Requests waiting for a connection fail with :class:`ClientConnectionError`; those
        in progress fail with the error of a closed connection. Returns once every
        transport reported ``connection_lost`` (at most a few seconds).
        """
        if self._closing is not None:
            await asyncio.shield(self._closing)
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        self._closing = loop.create_future()
        try:
            self._pool.close()
            conns = list(self._conns)
            for conn in conns:
                conn.close("the connector was closed")
            if conns:
                # One deadline for them all, awaited in turn (each close already started):
                # no task per connection.
                deadline = loop.time() + _CLOSE_WAIT
                for conn in conns:
                    if not await conn.wait_closed(max(0.0, deadline - loop.time())):
                        break
            for conn in conns:
                transport = conn.transport
                if transport is not None and conn in self._conns:
                    # Still not lost: a TLS peer that never answers our close_notify (the
                    # TLS shutdown is only bounded by asyncio from 3.11 on), or a stuck socket.
                    transport.abort()
        finally:
            self._closing.set_result(None)

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_closed", True) or not getattr(self, "_opened", 0):
            return
        conns = list(self._conns)
        _warn(
            f"unclosed connector {self!r} with {len(conns)} open connection(s); "
            "call 'await connector.close()' or use 'async with'",
            ResourceWarning,
            source=self,
        )
        for conn in conns:
            try:
                conn.close()
            except RuntimeError:  # the loop is closed
                pass

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {state} {self._pool.stats()}>"


def _is_deadline(exc: BaseException) -> bool:
    """True for our own sock_connect deadline, False for an OS error (even ETIMEDOUT)."""
    return isinstance(exc, asyncio.TimeoutError) and getattr(exc, "errno", None) is None


class UnixConnector(BaseConnector):
    """Connections over a Unix domain socket (POSIX only).

    Every request goes to the socket at ``path`` whatever its URL's host; the URL still
    gives the ``Host`` header and the pool key, so ``limit`` applies per URL endpoint.

    Args:
        path: The filesystem path of the server's socket.
        **options: The pool's settings (:class:`PoolOptions`), see :class:`BaseConnector`.

    Example:
        >>> connector = UnixConnector("/run/app.sock")
    """

    def __init__(self, path: str, **options: Unpack[PoolOptions]) -> None:
        super().__init__(**options)
        self._path = path

    @property
    def path(self) -> str:
        """The path of the server's socket."""
        return self._path

    def _endpoint(self, key: ConnectionKey) -> tuple[str | None, int | None]:
        return self._path, None

    async def _connect(
        self,
        factory: Callable[[], SocketProtocol],
        key: ConnectionKey,
        sock_connect: float | None,
    ) -> tuple[asyncio.BaseTransport, SocketProtocol]:
        loop = asyncio.get_running_loop()
        start = monotonic()
        try:
            async with asyncio.timeout(sock_connect):
                opened = await loop.create_unix_connection(factory, self._path)
            report_phase("connect", start)
            return opened
        except (TimeoutError, OSError) as exc:
            if _is_deadline(exc):
                raise ConnectTimeoutError(sock_connect, host=self._path) from exc
            raise ClientConnectorError(self._path, None, exc) from exc
