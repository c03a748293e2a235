"""The connection users, the docs and the pool see: one HTTP/1.1 connection, one request a loan.

Strategy: :class:`Connection` is a small handle over a :class:`~._wire.Wire`, which does the
work (the socket protocol's callbacks, the exchange's host, sending, parsing, the timer).
Keeping them apart means the public class has only what a caller may use: ``send``,
``release``, ``close``, ``is_closed`` and read-only facts. The handle costs one call per
request (``send`` hands back the wire's coroutine without a coroutine of its own) and one
per lending (``is_reusable``).

The pool's record of the connection, a :class:`~._pool.PoolEntry`, is made here and shared
with the wire, which reads it; only the pool writes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Hashable
from typing import Any

from ._exchange import RawResponse
from ._interfaces import OutgoingRequest
from ._pool import ConnectionPool, PoolEntry
from ._protocol import SocketProtocol
from ._proxy import ProxyConfig
from ._util import ParserLimits
from ._wire import Wire

__all__ = ["Connection"]


class Connection:
    """One HTTP/1.1 connection, lent by a connector for one request at a time.

    Use it through :meth:`send` once per loan (or give it back unused with
    :meth:`release`); see the package README for the whole acquire/send/release cycle. It
    conforms to :class:`~httpwire.connectors.HTTPConnection`. Connectors make connections;
    user code gets them from :meth:`BaseConnector.acquire`.

    Args:
        pool: The pool whose slot this connection fills.
        key: The endpoint key (its pool key).
        host: The host to name in errors (or a Unix socket path).
        port: The port to name in errors (``None`` for a Unix socket).
        limits: Limits for the response parser.
        registry: A set the connection is in from the moment its transport is ready until
            it is lost (the connector's register of open sockets).
        proxy: The proxy the connection goes through, if any.
        tunneled: Whether it is a tunnel through that proxy (CONNECT or SOCKS5) rather than
            a forwarding proxy.

    """

    __slots__ = ("_entry", "_wire")

    def __init__(
        self,
        pool: ConnectionPool[Any],
        key: Hashable,
        host: str | None,
        port: int | None,
        limits: ParserLimits,
        registry: set[Connection] | None = None,
        proxy: ProxyConfig | None = None,
        tunneled: bool = False,
    ) -> None:
        entry = self._entry = PoolEntry(key)
        self._wire = Wire(self, pool, entry, host, port, limits, registry, proxy, tunneled)

    def __repr__(self) -> str:
        return repr(self._wire)

    def send(self, request: OutgoingRequest) -> Coroutine[Any, Any, RawResponse]:
        """Send one request and wait for the final response head (a coroutine to await).

        Args:
            request: The request: method, URL, headers, body and the options this
                connection reads: ``target`` (the request-target to send instead of the
                URL's path and query; the absolute form through a proxy is added here),
                ``chunked`` (force or forbid chunked framing), ``expect_continue`` (send
                ``Expect: 100-continue`` and hold the body until ``100 Continue``; also on
                when the headers hold that expectation), ``decode`` (decode the response's
                content codings into :attr:`RawResponse.content`) and ``sock_read``
                (seconds without a byte from the server before :class:`ReadTimeoutError`;
                it runs while waiting for the head and while the body arrives, and pauses
                while the reader is full or the request body is still being sent). The
                route fields (``ssl``, ``proxy``, ``proxy_auth``, ``sock_connect``) were
                used by :meth:`BaseConnector.acquire`.

        Returns:
            A coroutine whose result is the final response head and a stream of its body.

        Raises:
            ValueError: A header or the target is invalid, or the framing fields and the
                body disagree. Nothing was sent; the connection went back to the pool.
            ClientConnectionError: The connection failed (see the error tree); the
                connection was closed.
            ReadTimeoutError: ``sock_read`` elapsed; the connection was closed.
        """
        return self._wire.send(request)

    def release(self) -> None:
        """Give a connection that was acquired but not used for a request back to the pool.

        Raises:
            RuntimeError: A request is in progress on it.
        """
        self._wire.release()

    def close(self, reason: str = "the connection was closed") -> None:
        """Close the connection now and free its slot in the pool; idempotent.

        A request in progress fails with :class:`ClientConnectionError` saying ``reason``
        (its reader too, when its body was still arriving).

        Args:
            reason: Who closed it, for the error of a request in progress.
        """
        self._wire.close(reason)

    @property
    def is_closed(self) -> bool:
        """True once the connection was closed, by us or by the peer."""
        return self._wire.is_closed

    @property
    def is_reusable(self) -> bool:
        """True when the idle connection may be lent: open, and no byte arrived on it."""
        return self._wire.is_reusable

    @property
    def pool_key(self) -> Hashable:
        """The endpoint key the connection is pooled under (a ``ConnectionKey``)."""
        return self._entry.key

    @property
    def pool_entry(self) -> PoolEntry:
        """The pool's record of the connection (key, state, idle time): the pool's to write."""
        return self._entry

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, once connected (for its ``get_extra_info``)."""
        return self._wire.transport

    @property
    def addresses(self) -> tuple[Any, Any]:
        """The socket's local and remote addresses (``sockname``, ``peername``); ``(None,
        None)`` before it is connected."""
        return self._wire.addresses

    @property
    def protocol(self) -> SocketProtocol:
        """The asyncio protocol to open the transport with (for connectors)."""
        return self._wire.protocol

    async def wait_closed(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109  # a timer, no cancellation
        """Wait until the transport is gone (the loop reported the connection lost).

        Args:
            timeout: The most seconds to wait (``None``: until it is lost).

        Returns:
            True once the connection is lost (at once if it already was, or never opened);
            False when ``timeout`` passed first.
        """
        return await self._wire.wait_closed(timeout)
