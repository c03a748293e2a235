"""The connection's base: its state, its life as an ``asyncio.Protocol``, failures, the idle timer.

:class:`ConnectionBase` holds everything a connection knows (``__slots__`` only) and what is
common to sending and receiving: closing, the pool's view, write back-pressure, how a failure
is delivered and the ``sock_read`` timer. Receiving lives in :mod:`._feeding`, sending in
:mod:`._connection`; :class:`~._connection.Connection` joins them.

The ``sock_read`` (idle) timeout is one timer per connection that is not cancelled per
request or per received piece: each piece just records the time, and when the timer fires
it either raises the timeout or sleeps again until the new deadline.

Errors are translated at this boundary: parser errors become :class:`BadResponseError`
(head) or :class:`ClientPayloadError` (body).
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, cast

from httpwire.parser import (
    DecodingError,
    HttpParserError,
    InvalidChunkError,
    InvalidHeaderError,
    LineTooLongError,
    ResponseParser,
)

from ._errors import BadResponseError, ClientConnectionError, ClientPayloadError, ReadTimeoutError
from ._exchange import SENDING, Exchange, doing, payload_error
from ._proxy import ProxyConfig

if TYPE_CHECKING:
    from ._pool import ConnectionPool

__all__ = ["READ_SIZE", "ConnectionBase", "ParserOptions"]


def _for(exchange: Exchange) -> str:
    url = exchange.url
    shown = url.with_user(None) if url.user is not None or url.password is not None else url
    return f" for {exchange.method} {shown}"


# The size of each connection's receive buffer: what one read can bring in.
READ_SIZE = 65536
# Parser errors that only a body can cause, even when its head came in the same piece.
_BODY_ERRORS = (InvalidChunkError, DecodingError)
# How the parser's messages name the lines of a chunked body: its size lines and trailers.
_BODY_LINES = ("chunk", "trailer")


def _in_body(exc: HttpParserError) -> bool:
    """Whether a parser error is about the body, even when the head came in the same piece.

    The parser raises before returning the head's event, so the exchange cannot tell; the
    error's kind (and, for the two kinds heads share with bodies, the line it names) can.
    """
    if isinstance(exc, _BODY_ERRORS):
        return True
    if isinstance(exc, (LineTooLongError, InvalidHeaderError)):
        return exc.message.startswith(_BODY_LINES)
    return False


ParserOptions = tuple[int, int, int, int]
"""max_line_size, max_field_size, max_headers, max_head_size for the response parser."""


class _Poller:
    """Whether a socket has bytes (or an end of file) to read, without waiting."""

    __slots__ = ("_fd", "_poll")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        if hasattr(select, "poll"):
            self._poll: select.poll | None = select.poll()
            self._poll.register(fd, select.POLLIN | select.POLLPRI)
        else:  # pragma: no cover - Windows has no poll()
            self._poll = None

    def readable(self) -> bool:
        if self._poll is not None:
            return bool(self._poll.poll(0))
        return bool(select.select([self._fd], [], [], 0)[0])  # pragma: no cover - Windows


class ConnectionBase(asyncio.BufferedProtocol):
    """The state of one HTTP/1.1 connection, and what sending and receiving share.

    Args:
        pool: The pool whose slot this connection fills.
        key: The endpoint key (its pool key).
        host: The host to name in errors (or a Unix socket path).
        port: The port to name in errors (``None`` for a Unix socket).
        parser_options: Limits for the response parser.
        registry: A set the connection is in from ``connection_made`` to
            ``connection_lost`` (the connector's register of open sockets).
    """

    __slots__ = (
        "_buffer",
        "_closed",
        "_closed_waiter",
        "_drain_waiter",
        "_exchange",
        "_host",
        "_last_data",
        "_loop",
        "_lost",
        "_options",
        "_parser",
        "_poller",
        "_pool",
        "_port",
        "_read_timeout",
        "_reading_paused",
        "_registry",
        "_served",
        "_timer",
        "_transport",
        "_used",
        "_write_paused",
        "idle_since",
        "pool_key",
        "pool_state",
        "proxy_route",
        "tunneled",
    )

    def __init__(
        self,
        pool: ConnectionPool[Any],
        key: Hashable,
        host: str | None,
        port: int | None,
        parser_options: ParserOptions = (8190, 8190, 128, 65536),
        registry: set[Any] | None = None,
    ) -> None:
        self._pool = pool
        self._registry = registry
        self.pool_key = key
        self.pool_state = 0
        # The proxy this connection goes through (set by the connector), and whether it is
        # a CONNECT tunnel (https) rather than a forwarding proxy (http).
        self.proxy_route: ProxyConfig | None = None
        self.tunneled = False
        self.idle_since = 0.0
        self._host = host
        self._port = port
        self._options = parser_options
        self._parser = self._new_parser()
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._exchange: Exchange | None = None
        self._closed = False
        self._closed_waiter: asyncio.Future[None] | None = None
        self._lost = False
        self._served = 0
        self._used = False  # a request was (at least partly) written on it
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._read_timeout: float | None = None
        self._last_data = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._buffer: memoryview | None = None  # where the transport reads into
        self._poller: _Poller | None = None  # asks the socket for unread bytes, when idle

    def _new_parser(self) -> ResponseParser:
        line, field, count, head = self._options
        # Chunk ends are marked so that the reader's readchunk() keeps the sender's chunks.
        return ResponseParser(
            max_line_size=line,
            max_field_size=field,
            max_headers=count,
            max_head_size=head,
            mark_chunks=True,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("busy" if self._exchange else "ready")
        return f"<Connection {self.pool_key!r} {state}, {self._served} responses>"

    # -- the pool's view -----------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the connection was closed, by us or by the peer."""
        return self._closed

    @property
    def is_reusable(self) -> bool:
        """True when the idle connection may be lent: open, and no byte arrived on it.

        Any byte a server sends to an idle connection (a stray response, a ``408`` before it
        closes) would be read as the next request's response: such a connection is unusable.
        The bytes may not have been read yet, so the socket itself is asked, with a poll
        that does not wait (one system call per reuse, as urllib3 and httpcore do).
        """
        if self._closed or self._parser.buffered:
            return False
        poller = self._poller
        if poller is None:
            transport = self._transport
            sock = None if transport is None else transport.get_extra_info("socket")
            if sock is None:
                return True
            poller = self._poller = _Poller(sock.fileno())
        return not poller.readable()

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, once connected."""
        return self._transport

    def close(self, reason: str = "the connection was closed") -> None:
        """Close the connection now and free its slot in the pool; idempotent.

        A request in progress fails with :class:`ClientConnectionError` saying ``reason``
        (its reader too, when its body was still arriving).

        Args:
            reason: Who closed it, for the error of a request in progress.
        """
        if not self._closed:
            self._closed = True
            transport = self._transport
            if transport is not None:
                # Unsent bytes of a request being abandoned are dropped rather than waited
                # for, maybe forever, by a peer that does not read. Those of a connection
                # that never sent a request are the TLS layer's own (the end of its
                # handshake): they are flushed.
                if self._used and transport.get_write_buffer_size():
                    transport.abort()
                else:
                    transport.close()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            exchange = self._exchange
            if exchange is not None:
                self._fail(
                    exchange,
                    ClientConnectionError(
                        f"{reason} while {doing(exchange)}{_for(exchange)}",
                        method=exchange.method,
                        url=exchange.url,
                        host=self._host,
                        port=self._port,
                    ),
                )
        self._pool.discard(self)

    def release(self) -> None:
        """Give a connection that was acquired but not used for a request back to the pool."""
        if self._exchange is None:
            self._pool.release(self)
        else:
            raise RuntimeError("release() on a connection with a request in progress")

    async def wait_closed(self) -> None:
        """Wait until the transport reported ``connection_lost``."""
        if self._transport is None or self._lost:
            return
        if self._closed_waiter is None:
            self._closed_waiter = self._loop.create_future()
        await asyncio.shield(self._closed_waiter)

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport and join the connector's register of open sockets."""
        # Not an isinstance check: uvloop's transports do not derive from asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)
        if self._registry is not None:
            self._registry.add(self)

    def pause_writing(self) -> None:
        """The transport's buffer is full: uploads wait."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained: uploads go on."""
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- failures ------------------------------------------------------------------------

    def _fail(self, exchange: Exchange, error: BaseException) -> None:
        """Deliver ``error`` to whoever waits on the exchange and close the connection."""
        if self._exchange is exchange:
            self._exchange = None
        exchange.fail(error)
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)
        self._pool.discard(self)

    def _parse_failed(self, exchange: Exchange, exc: HttpParserError) -> None:
        error: ClientConnectionError | ClientPayloadError
        if exchange.head is None and not _in_body(exc):
            error = BadResponseError(
                str(exc),
                method=exchange.method,
                url=exchange.url,
                host=self._host,
                port=self._port,
            )
            error.__cause__ = exc
        else:
            error = payload_error(exchange, exc, self._host, self._port)
        self._fail(exchange, error)

    # -- the idle timer ------------------------------------------------------------------

    def _arm_timer(self) -> None:
        timeout = self._read_timeout
        if timeout is None:
            return
        now = self._last_data = self._loop.time()
        timer = self._timer
        if timer is not None:
            if timer.when() <= now + timeout:
                return  # it fires in time and re-arms itself if it is early
            timer.cancel()  # armed for a longer timeout of an earlier request
        self._timer = self._loop.call_at(now + timeout, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        exchange = self._exchange
        timeout = self._read_timeout
        if exchange is None or timeout is None or self._closed:
            return
        now = self._loop.time()
        if self._reading_paused or exchange.phase is SENDING:
            # Not idle: the reader is full, or we are still sending.
            self._last_data = now
        due = self._last_data + timeout
        if due > now:
            self._timer = self._loop.call_at(due, self._on_timer)
            return
        waiting_for = "the response head" if exchange.head is None else "the response body"
        self._fail(
            exchange,
            ReadTimeoutError(
                timeout,
                waiting_for=waiting_for,
                method=exchange.method,
                url=exchange.url,
                host=self._host,
                port=self._port,
            ),
        )
