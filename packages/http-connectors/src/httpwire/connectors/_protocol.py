"""The connection's socket side: one ``asyncio.BufferedProtocol`` that feeds the response parser.

:class:`ConnectionProtocol` holds everything a connection knows (``__slots__`` only) and
does everything but sending: its life as a protocol (transport callbacks, write
back-pressure for the sender, closing), the pool's view, feeding the parser and dispatching
its events to the :class:`~._exchange.Exchange` in progress, how a failure is delivered, and
the ``sock_read`` timer. Sending lives in :mod:`._connection`.

Strategy, for the least Python work per request:

* The connection reads into a 64 KiB receive buffer of its own, reused for every read: the
  transport's default path allocates a 256 KiB ``bytes`` per read, which glibc serves with
  ``mmap`` and page faults, costing more than copying the few hundred bytes of a small
  response out of the buffer.
* ``data_received`` feeds the parser directly and dispatches its events in one loop to the
  exchange (``on_head``/``on_data``/``on_end``), which moves its own phase: body pieces go
  to its reader as they are, without a further copy.
* When the end of the message arrives and the connection can be reused, it goes back to the
  pool right there (the exchange calls :meth:`ConnectionProtocol.exchange_ended`), before
  anyone reads the body: a small response costs no extra wake-up.
* The ``sock_read`` (idle) timeout is one timer per connection that is not cancelled per
  request or per received piece: each piece just records the time, and when the timer fires
  it either raises the timeout or sleeps again until the new deadline.

The connection is the exchange's :class:`~._exchange.ExchangeHost`: the exchange, producer of
the response's reader, asks it to pause and resume the transport, and tells it when the
exchange ended or was dropped. Pausing ends with the response.

Errors are translated at this boundary: parser errors become :class:`BadResponseError`
(head) or :class:`ClientPayloadError` (body); a peer that closes early becomes
:class:`ServerDisconnectedError` saying what was missing, socket errors
:class:`ClientOSError`. A failure on a reused connection before any byte of the response
arrived is flagged ``is_stale_connection`` so the client can retry once.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import Hashable
from typing import Any, cast

from httpwire.parser import (
    END_OF_CHUNK,
    DecodingError,
    EndOfMessage,
    Event,
    HttpParserError,
    IncompleteMessageError,
    InformationalResponse,
    InvalidChunkError,
    InvalidHeaderError,
    LineTooLongError,
    ResponseHead,
    ResponseParser,
)

from ._errors import (
    BadResponseError,
    ClientConnectionError,
    ClientOSError,
    ClientPayloadError,
    ReadTimeoutError,
)
from ._exchange import SENDING, Exchange, disconnected, doing, payload_error
from ._pool import ConnectionPool
from ._proxy import ProxyConfig

__all__ = ["MAX_INTERIM", "READ_SIZE", "ConnectionProtocol", "ParserOptions"]


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


MAX_INTERIM = 32
"""The most interim (1xx) responses accepted before the final one of a request."""


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


class ConnectionProtocol(asyncio.BufferedProtocol):
    """One HTTP/1.1 connection's state and socket side: all of it but sending.

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

    # -- receiving -----------------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        """The connection's own receive buffer, made at the first read and reused."""
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = memoryview(bytearray(READ_SIZE))
        return buffer

    def buffer_updated(self, nbytes: int) -> None:
        """Copy what the transport read out of the buffer and feed it."""
        self.data_received(bytes(self._buffer[:nbytes]))  # type: ignore[index]  # made by get_buffer

    def data_received(self, data: bytes) -> None:
        """Feed the parser and hand its events to the exchange in progress."""
        exchange = self._exchange
        if exchange is None:
            # Nothing was asked: a server that talks out of turn (say a 408 before closing)
            # leaves the connection in an unknown state.
            self._pool.discard(self)
            return
        if self._read_timeout is not None:
            self._last_data = self._loop.time()
        exchange.received = True
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            self._parse_failed(exchange, exc)
            return
        self._dispatch(exchange, events)

    def _dispatch(self, exchange: Exchange, events: list[Event]) -> None:
        for event in events:
            if type(event) is bytes:
                exchange.on_data(event)
            elif event is END_OF_CHUNK:
                exchange.on_chunk_end()
            elif type(event) is ResponseHead:
                self._head_received(exchange, event)
            elif type(event) is EndOfMessage:
                if events[-1] is not event or events.index(event) != len(events) - 1:
                    # Bytes after the end of the message (the parser may share one
                    # EndOfMessage between messages, hence the index): a server out of
                    # step. Decided before ending, so the connection is never lent again.
                    exchange.reusable = False
                exchange.on_end(event)
                return
            elif type(event) is InformationalResponse:
                if not self._interim_received(exchange, event):
                    return
                drain = self._drain_waiter
                if drain is not None and not drain.done():
                    drain.set_result(None)  # wakes a wait for 100 Continue
            if self._exchange is not exchange:
                return  # failed while handling the event
        if self._parser.upgraded and exchange.head is not None:
            # Not HTTP any more: hand what followed the head to the reader, then end.
            rest = self._parser.trailing_data()
            if rest and exchange.reader is not None:
                exchange.reader.feed_data(rest)
            exchange.reusable = False
            exchange.on_end(EndOfMessage())

    def _interim_received(self, exchange: Exchange, event: InformationalResponse) -> bool:
        """Keep an interim response, within the caps; False when it failed the exchange.

        A server may send any number of 1xx heads before the final one, and since bytes
        keep coming no idle timeout ever fires: without a cap they cost memory and CPU
        without end.
        """
        exchange.on_interim(event)
        count = len(exchange.informational)
        if count > MAX_INTERIM or exchange.interim_bytes > self._options[3]:
            self._fail(
                exchange,
                BadResponseError(
                    f"more than {MAX_INTERIM} interim (1xx) responses, or more than "
                    f"{self._options[3]} bytes of them (max_head_size), before the final "
                    f"response: {count} responses of {exchange.interim_bytes} "
                    "bytes so far",
                    method=exchange.method,
                    url=exchange.url,
                    host=self._host,
                    port=self._port,
                ),
            )
            return False
        return True

    def eof_received(self) -> bool | None:
        """The server closed its side: end a read-until-close body, or fail a cut one."""
        exchange = self._exchange
        if exchange is None:
            # Closed by the server while idle: never lend it again, even before
            # connection_lost arrives.
            self._closed = True
            return None
        head = exchange.head
        if head is not None:
            if head.content_length is None and not head.chunked and self._tls_truncated():
                # RFC 9112 §9.8: a body delimited by the close is complete only after a
                # valid TLS closure alert; a bare TCP close may be an attacker's cut.
                self._fail(exchange, disconnected(exchange, None, self._host, self._port))
                return None
            try:
                events = self._parser.feed_eof()
            except IncompleteMessageError as exc:
                self._fail(exchange, disconnected(exchange, exc, self._host, self._port))
                return None
            except HttpParserError as exc:
                self._parse_failed(exchange, exc)
                return None
            self._dispatch(exchange, events)
        return None  # let the transport close itself

    def _tls_truncated(self) -> bool:
        """True when a TLS peer closed the TCP connection without a close_notify alert.

        The default loop calls ``eof_received`` either way; the TLS object tells them
        apart: after the alert a read returns nothing, without it the read would wait for
        more records (uvloop reports a missing alert as a lost connection instead).
        """
        transport = self._transport
        ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.pending():
            return False
        try:
            ssl_object.read(1)
        except ssl.SSLWantReadError:
            return True
        except ssl.SSLError:
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the exchange in progress, if any, and free the connection's slot."""
        self._closed = True
        transport = self._transport
        if transport is not None and not transport.is_closing():
            # A transport the peer closed may not be marked closed yet; it would warn
            # about it when it is collected.
            transport.close()
        if self._registry is not None:
            self._registry.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        exchange = self._exchange
        if exchange is not None:
            if exc is None:
                error: BaseException = disconnected(exchange, None, self._host, self._port)
            else:
                error = ClientOSError(
                    exc,
                    during=doing(exchange),
                    method=exchange.method,
                    url=exchange.url,
                    host=self._host,
                    port=self._port,
                    is_stale_connection=self._served > 0 and not exchange.received,
                )
                error.__cause__ = exc
            self._fail(exchange, error)
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)
        self._pool.discard(self)
        waiter = self._closed_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._lost = True

    # -- the exchange's host -------------------------------------------------------------

    def pause_reading(self) -> None:
        """Stop reading from the socket (the response's reader is full)."""
        if not self._reading_paused:
            self._reading_paused = True
            if self._transport is not None and not self._closed:
                self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Read from the socket again (the exchange goes on decoding what it held back)."""
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._closed:
                self._transport.resume_reading()
            if self._read_timeout is not None:
                self._last_data = self._loop.time()

    def _head_received(self, exchange: Exchange, head: ResponseHead) -> None:
        try:
            exchange.on_head(head)
        except HttpParserError as exc:  # an unsupported content coding
            self._fail(exchange, payload_error(exchange, exc, self._host, self._port))
            return
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)  # an early answer ends a wait for 100 Continue

    def exchange_ended(self, exchange: Exchange) -> None:
        """The response ended: pool the connection, or close it when it cannot be reused."""
        self._exchange = None
        self._served += 1
        if self._reading_paused:
            self._reading_paused = False
            if not self._closed and self._transport is not None:
                self._transport.resume_reading()
        if (
            exchange.reusable
            and exchange.sent
            and not exchange.head.should_close  # type: ignore[union-attr]  # ended: has a head
            and not self._parser.buffered  # bytes after the end: a server out of step
        ):
            self._pool.release(self)
        else:
            self._pool.discard(self)

    def exchange_dropped(self, exchange: Exchange) -> None:
        """The exchange failed or was let go of on its own side: close the connection."""
        if self._exchange is exchange:
            self._exchange = None
            self._pool.discard(self)
