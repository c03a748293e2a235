"""The working side of a connection: one socket's parser, exchange, sender and timer.

:class:`Wire` is everything a :class:`~._connection.Connection` does, kept apart from the
public class so that what users and the docs see is only ``send``, ``release``, ``close``
and read-only facts, not the callbacks other objects call. It is made of, and drives,
separate objects, each with its own small interface and none writing another's state:

* a :class:`~._protocol.SocketProtocol`, the ``asyncio.BufferedProtocol`` the loop drives,
  which forwards the transport's callbacks here (:class:`~._protocol.SocketEvents`);
* a :class:`~._sender.Sender`, which writes each request's head and body;
* the :class:`~._exchange.Exchange` in progress, which owns the request's phase and, from
  the head on, its :class:`~._exchange.ResponseBody`; the wire is its
  :class:`~._exchange.ExchangeHost`;
* a :class:`~._pool.PoolEntry`, the pool's record of the connection (read here, written
  only by the pool).

The wire itself parses: it feeds what arrives to the response parser and dispatches
the events in one loop (the head and interim responses to the exchange, body pieces
straight to the response body), translates failures into the error tree, and runs the
``sock_read`` timer.

Strategy, for the least Python work per request:

* The request head (and a small body) leave in one ``transport.write``; the only
  per-request allocations are the parser's events, one future for the head, the exchange,
  its response body, the :class:`~._exchange.RawResponse` and its reader.
* When the end of the message arrives and the connection can be reused, it goes back to
  the pool right there (:meth:`Wire.exchange_ended`), before anyone reads the body: a
  small response costs no extra wake-up.
* The ``sock_read`` (idle) timeout is one timer per connection that is not cancelled per
  request or per received piece: each piece just records the time, and when the timer fires
  it either raises the timeout or sleeps again until the new deadline.

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
from time import monotonic
from typing import Any

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
    ServerDisconnectedError,
)
from ._exchange import (
    SENDING,
    Exchange,
    RawResponse,
    ResponseBody,
    disconnected,
    doing,
    payload_error,
)
from ._interfaces import OutgoingRequest
from ._pool import ACTIVE, ConnectionPool, PoolEntry
from ._protocol import SocketProtocol
from ._proxy import ProxyConfig, proxied
from ._request import build_request_head
from ._sender import Sender
from ._util import ParserLimits

__all__ = ["MAX_INTERIM", "Wire"]


MAX_INTERIM = 32
"""The most interim (1xx) responses accepted before the final one of a request."""


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


def _give_up(waiter: asyncio.Future[bool]) -> None:
    """The deadline of a :meth:`Wire.wait_closed` passed before the connection was lost."""
    if not waiter.done():
        waiter.set_result(False)


class Wire:
    """What a :class:`~._connection.Connection` does: sends, receives, fails, times out.

    Args:
        owner: The connection it works for: what goes back to the pool and the registry.
        pool: The pool whose slot the connection fills.
        entry: The pool's record of the connection.
        host: The host to name in errors (or a Unix socket path).
        port: The port to name in errors (``None`` for a Unix socket).
        limits: Limits for the response parser.
        registry: A set the owner is in from the moment the transport is ready until it is
            lost (the connector's register of open sockets).
        proxy: The proxy the connection goes through, if any.
        tunneled: Whether it is a tunnel through that proxy (CONNECT or SOCKS5) rather than
            a forwarding proxy.
    """

    __slots__ = (
        "_addresses",
        "_closed",
        "_closed_waiters",
        "_exchange",
        "_host",
        "_large_reads",
        "_last_data",
        "_limits",
        "_loop",
        "_lost",
        "_owner",
        "_parser",
        "_poller",
        "_pool",
        "_port",
        "_protocol",
        "_proxy",
        "_read_timeout",
        "_reading_paused",
        "_registry",
        "_sender",
        "_served",
        "_timer",
        "_timer_due",
        "_transport",
        "_tunneled",
        "_used",
        "entry",
    )

    def __init__(
        self,
        owner: object,
        pool: ConnectionPool[Any],
        entry: PoolEntry,
        host: str | None,
        port: int | None,
        limits: ParserLimits,
        registry: set[Any] | None = None,
        proxy: ProxyConfig | None = None,
        tunneled: bool = False,
    ) -> None:
        self._owner = owner
        self._pool = pool
        self._registry = registry
        self.entry = entry
        self._proxy = proxy
        self._tunneled = tunneled
        self._host = host
        self._port = port
        self._limits = limits
        # Chunk ends are marked so that the reader's readchunk() keeps the sender's chunks.
        self._parser = ResponseParser(
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
            max_head_size=limits.max_head_size,
            mark_chunks=True,
        )
        self._loop = loop = asyncio.get_running_loop()
        self._sender = Sender(loop)
        self._protocol = SocketProtocol(self)
        self._large_reads = False  # the protocol reads 256 KiB at once: a body streams
        self._transport: asyncio.Transport | None = None
        self._exchange: Exchange | None = None
        self._closed = False
        self._closed_waiters: list[asyncio.Future[bool]] = []
        self._lost = False
        self._served = 0
        self._used = False  # a request was (at least partly) written on it
        self._reading_paused = False
        self._read_timeout: float | None = None
        self._last_data = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0  # when the timer fires (its handle's when(), without a call)
        self._poller: _Poller | None = None  # asks the socket for unread bytes, when idle
        self._addresses: tuple[Any, Any] | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("busy" if self._exchange else "ready")
        return f"<Connection {self.entry.key!r} {state}, {self._served} responses>"

    # -- what the connection shows -------------------------------------------------------

    @property
    def protocol(self) -> SocketProtocol:
        """The asyncio protocol to open the transport with (for connectors)."""
        return self._protocol

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, once connected."""
        return self._transport

    @property
    def is_closed(self) -> bool:
        """True once the connection was closed, by us or by the peer."""
        return self._closed

    @property
    def addresses(self) -> tuple[Any, Any]:
        """The socket's local and remote addresses; ``(None, None)`` before it is connected.

        Asked of the transport once, then kept: every traced request reports them.
        """
        addresses = self._addresses
        if addresses is None:
            transport = self._transport
            if transport is None:
                return None, None
            addresses = self._addresses = (
                transport.get_extra_info("sockname"),
                transport.get_extra_info("peername"),
            )
        return addresses

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

    def close(self, reason: str = "the connection was closed") -> None:
        """Close the connection and free its slot; idempotent: :meth:`Connection.close`."""
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
                        f"{reason} while {doing(exchange)}",
                        host=self._host,
                        port=self._port,
                    ),
                )
        self._pool.discard(self._owner)

    def release(self) -> None:
        """Give a connection that was acquired but not used for a request back to the pool."""
        if self._exchange is None:
            self._pool.release(self._owner)
        else:
            raise RuntimeError("release() on a connection with a request in progress")

    async def wait_closed(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109  # a timer, no cancellation
        """Wait until the transport is gone: :meth:`Connection.wait_closed`."""
        if self._transport is None or self._lost:
            return True
        # A future of its own for each waiter: cancelling one wait cancels no other, with no
        # shield (whose extra callback costs a turn of the loop). The deadline is a timer
        # that resolves the future with False: no task is cancelled.
        waiter: asyncio.Future[bool] = self._loop.create_future()
        waiters = self._closed_waiters
        waiters.append(waiter)
        timer = None if timeout is None else self._loop.call_later(timeout, _give_up, waiter)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in waiters:  # cancelled, or gave up, before the connection was lost
                waiters.remove(waiter)

    # -- sending -------------------------------------------------------------------------

    async def send(self, request: OutgoingRequest) -> RawResponse:
        """Send one request and wait for the final response head: :meth:`Connection.send`."""
        # One unpacking: cheaper than an attribute look-up per field on the hot path.
        (method, url, headers, body, target, chunked, expect_continue, decode, _, sock_read) = (
            request[:10]
        )
        if self._exchange is not None:
            raise RuntimeError("a request is already in progress on this connection")
        if self.entry.state != ACTIVE:
            raise RuntimeError(
                "send() on a connection that is not lent out: acquire() a connection for "
                "each request"
            )
        if self._closed:
            self._pool.discard(self._owner)
            raise ServerDisconnectedError(
                "response",
                host=self._host,
                port=self._port,
                is_stale_connection=self._served > 0,
            ).with_request(method, url)
        if self._proxy is not None:
            headers, target = proxied(self._proxy, self._tunneled, url, headers, target)
        try:
            head, payload, encoder, length = build_request_head(
                method, url, headers, body, target, chunked, expect_continue
            )
        except BaseException:
            self._pool.release(self._owner)
            raise
        waiter: asyncio.Future[RawResponse] = self._loop.create_future()
        exchange = self._exchange = Exchange(
            self, method, url, waiter, decode, self._served > 0, (self._host, self._port)
        )
        self._used = True
        self._parser.expect_response(method)
        self._read_timeout = sock_read
        try:
            if expect_continue:
                self._arm_timer()  # sock_read runs while the body waits for 100 Continue
            rest = self._sender.send(
                exchange,
                head,
                payload,
                encoder,
                length,
                expect_continue,
                request.expect_continue_timeout,
            )
            if rest is not None:
                await rest
            if exchange.sent and request[14] is not None:  # request.trace, by index
                request[14].on_request_sent(monotonic())
            if sock_read is not None:
                self._arm_timer()
            return await waiter
        except BaseException as exc:
            if self._exchange is exchange:
                # Cancelled, or the body's iterator failed: the request is half sent.
                self._exchange = None
                exchange.cancel()
                self._pool.discard(self._owner)
            elif waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Cancelled after the head arrived: the response was never handed out.
                waiter.result().release()
            if isinstance(exc, OSError) and not isinstance(exc, ClientConnectionError):
                raise ClientOSError(
                    exc, during="sending the request", host=self._host, port=self._port
                ).with_request(method, url) from exc
            raise

    # -- the socket's events (SocketEvents) ----------------------------------------------

    def on_connected(self, transport: asyncio.Transport) -> None:
        """Keep the transport and join the connector's register of open sockets."""
        self._transport = transport
        self._sender.attach(transport)
        if self._registry is not None:
            self._registry.add(self._owner)

    def on_write_paused(self) -> None:
        """The transport's buffer is full: uploads wait."""
        self._sender.write_paused()

    def on_write_resumed(self) -> None:
        """The transport's buffer drained: uploads go on."""
        self._sender.write_resumed()

    def on_data(self, data: bytes) -> None:
        """Feed the parser and hand its events to the exchange in progress."""
        exchange = self._exchange
        if exchange is None:
            # Nothing was asked: a server that talks out of turn (say a 408 before closing)
            # leaves the connection in an unknown state.
            self._pool.discard(self._owner)
            return
        exchange.received = True
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            self._parse_failed(exchange, exc)
            return
        self._dispatch(exchange, events)
        if self._read_timeout is not None and self._exchange is exchange:
            # Stamped only for an exchange that goes on: the idle timer reads it.
            self._last_data = self._loop.time()

    def on_streamed(self, data: bytes, rest: int) -> None:
        """Feed the parser a piece of a large read (a body streams); ``rest`` bytes follow.

        A piece in the middle of the body (the parser hands it back as the very object)
        goes straight to the response body. Otherwise the events are dispatched as
        :meth:`on_data` does, and when the message ends with more bytes of the read
        behind it, the connection is not reused: those bytes came after the response.
        """
        exchange = self._exchange
        if exchange is None:
            self._pool.discard(self._owner)  # bytes after the end of the response
            return
        if self._read_timeout is not None:
            self._last_data = self._loop.time()
        try:
            events = self._parser.feed(data)
        except HttpParserError as exc:
            self._parse_failed(exchange, exc)
            return
        if len(events) == 1 and type(events[0]) is bytes:
            exchange.body.on_data(events[0])
            return
        if rest and events and type(events[-1]) is EndOfMessage:
            # Decided before the end hands the connection back. (An end that is not the
            # last event is caught by _dispatch: bytes after it are in this very piece.)
            exchange.reusable = False
        self._dispatch(exchange, events)

    def on_eof(self) -> None:
        """The server closed its side: end a read-until-close body, or fail a cut one."""
        exchange = self._exchange
        if exchange is None:
            # Closed by the server while idle: never lend it again, even before
            # connection_lost arrives.
            self._closed = True
            return
        head = exchange.head
        if head is not None:
            if head.content_length is None and not head.chunked and self._tls_truncated():
                # RFC 9112 §9.8: a body delimited by the close is complete only after a
                # valid TLS closure alert; a bare TCP close may be an attacker's cut.
                self._fail(exchange, disconnected(exchange, None, self._host, self._port))
                return
            try:
                events = self._parser.feed_eof()
            except IncompleteMessageError as exc:
                self._fail(exchange, disconnected(exchange, exc, self._host, self._port))
                return
            except HttpParserError as exc:
                self._parse_failed(exchange, exc)
                return
            self._dispatch(exchange, events)

    def on_lost(self, exc: Exception | None) -> None:
        """Fail the exchange in progress, if any, and free the connection's slot."""
        self._closed = True
        transport = self._transport
        if transport is not None and not transport.is_closing():
            # A transport the peer closed may not be marked closed yet; it would warn
            # about it when it is collected.
            transport.close()
        if self._registry is not None:
            self._registry.discard(self._owner)
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
                    host=self._host,
                    port=self._port,
                    is_stale_connection=self._served > 0 and not exchange.received,
                )
                error.__cause__ = exc
            self._fail(exchange, error)
        self._sender.wake()
        self._pool.discard(self._owner)
        for waiter in self._closed_waiters:
            if not waiter.done():
                waiter.set_result(True)
        self._closed_waiters.clear()
        self._lost = True

    def _tls_truncated(self) -> bool:
        """True when a TLS peer closed the TCP connection without a close_notify alert.

        The default loop reports the end of file either way; the TLS object tells them
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

    # -- receiving -----------------------------------------------------------------------

    def _dispatch(self, exchange: Exchange, events: list[Event]) -> None:
        body = exchange.body
        last = len(events) - 1
        for position, event in enumerate(events):
            if type(event) is bytes:
                body.on_data(event)
            elif event is END_OF_CHUNK:
                body.on_chunk_end()
            elif type(event) is ResponseHead:
                try:
                    body = exchange.on_head(event)
                except HttpParserError as exc:  # an unsupported content coding
                    self._fail(exchange, payload_error(exchange, exc, self._host, self._port))
                    return
                if not exchange.sent:
                    self._sender.wake()  # an early answer ends a wait for 100 Continue
            elif type(event) is EndOfMessage:
                if position != last:
                    # Bytes after the end of the message: a server out of step. Decided
                    # before ending, so the connection is never lent again.
                    exchange.reusable = False
                body.on_end(event)
                return
            elif type(event) is InformationalResponse:
                if not self._interim_received(exchange, event):
                    return
                self._sender.wake()  # a wait for 100 Continue looks again
            if self._exchange is not exchange:
                return  # failed while handling the event
        if self._parser.upgraded and isinstance(body, ResponseBody):
            # Not HTTP any more: hand what followed the head to the reader, then end.
            rest = self._parser.trailing_data()
            if rest:
                body.reader.feed_data(rest)
            exchange.reusable = False
            body.on_end(EndOfMessage())
        elif not self._large_reads and isinstance(body, ResponseBody):
            # The body goes on past this read: read it in large pieces.
            self._large_reads = True
            self._protocol.large_reads(True)

    def _interim_received(self, exchange: Exchange, event: InformationalResponse) -> bool:
        """Keep an interim response, within the caps; False when it failed the exchange.

        A server may send any number of 1xx heads before the final one, and since bytes
        keep coming no idle timeout ever fires: without a cap they cost memory and CPU
        without end.
        """
        exchange.on_interim(event)
        count = len(exchange.informational)
        max_head_size = self._limits.max_head_size
        if count > MAX_INTERIM or exchange.interim_bytes > max_head_size:
            self._fail(
                exchange,
                BadResponseError(
                    f"more than {MAX_INTERIM} interim (1xx) responses, or more than "
                    f"{max_head_size} bytes of them (max_head_size), before the final "
                    f"response: {count} responses of {exchange.interim_bytes} "
                    "bytes so far",
                    host=self._host,
                    port=self._port,
                ),
            )
            return False
        return True

    # -- failures ------------------------------------------------------------------------

    def _fail(self, exchange: Exchange, error: BaseException) -> None:
        """Deliver ``error`` to whoever waits on the exchange and close the connection."""
        if self._exchange is exchange:
            self._exchange = None
        exchange.fail(error)
        self._sender.wake()
        self._pool.discard(self._owner)

    def _parse_failed(self, exchange: Exchange, exc: HttpParserError) -> None:
        error: ClientConnectionError | ClientPayloadError
        if exchange.head is None and not _in_body(exc):
            error = BadResponseError(
                str(exc),
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
            if self._timer_due <= now + timeout:
                return  # it fires in time and re-arms itself if it is early
            timer.cancel()  # armed for a longer timeout of an earlier request
        due = self._timer_due = now + timeout
        self._timer = self._loop.call_at(due, self._on_timer)

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
            self._timer_due = due
            self._timer = self._loop.call_at(due, self._on_timer)
            return
        waiting_for = "the response head" if exchange.head is None else "the response body"
        self._fail(
            exchange,
            ReadTimeoutError(
                timeout,
                waiting_for=waiting_for,
                host=self._host,
                port=self._port,
            ),
        )

    # -- the exchange's host (ExchangeHost) ----------------------------------------------

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

    def exchange_ended(self, exchange: Exchange) -> None:
        """The response ended: pool the connection, or close it when it cannot be reused."""
        self._exchange = None
        self._served += 1
        if self._large_reads:
            self._large_reads = False
            self._protocol.large_reads(False)
        if self._reading_paused:
            self._reading_paused = False
            if not self._closed and self._transport is not None:
                self._transport.resume_reading()
        if (
            exchange.reusable
            and exchange.sent
            and not self._parser.buffered  # bytes after the end: a server out of step
        ):
            self._pool.release(self._owner)
        else:
            self._pool.discard(self._owner)

    def exchange_dropped(self, exchange: Exchange) -> None:
        """The exchange failed or was let go of on its own side: close the connection."""
        if self._exchange is exchange:
            self._exchange = None
            self._pool.discard(self._owner)
