"""Receiving: the connection feeds the response parser and hands its events to the exchange.

Strategy, for the least Python work per request:

* The connection is an ``asyncio.BufferedProtocol`` with its own 64 KiB receive buffer,
  reused for every read: the transport's default path allocates a 256 KiB ``bytes`` per
  read, which glibc serves with ``mmap`` and page faults, costing more than copying the few
  hundred bytes of a small response out of the buffer.
* ``data_received`` feeds the parser directly and dispatches its events in one loop to the
  :class:`~._exchange.Exchange` (``on_head``/``on_data``/``on_end``), which moves its own
  phase: body pieces go to its reader as they are, without a further copy.
* When the end of the message arrives and the connection can be reused, it goes back to the
  pool right there (the exchange calls :meth:`ResponseFeeder.exchange_ended`), before anyone
  reads the body: a small response costs no extra wake-up.

The connection is the exchange's :class:`~._exchange.ExchangeHost`: the exchange, producer of
the response's reader, asks it to pause and resume the transport, and tells it when the
exchange ended or was dropped. Pausing ends with the response.

A peer that closes early becomes :class:`ServerDisconnectedError` saying what was missing,
socket errors become :class:`ClientOSError`. A failure on a reused connection before any
byte of the response arrived is flagged ``is_stale_connection`` so the client can retry once.
"""

from __future__ import annotations

import ssl

from httpwire.parser import (
    END_OF_CHUNK,
    EndOfMessage,
    Event,
    HttpParserError,
    IncompleteMessageError,
    InformationalResponse,
    ResponseHead,
)

from ._errors import BadResponseError, ClientOSError
from ._exchange import Exchange, disconnected, doing, payload_error
from ._protocol import READ_SIZE, ConnectionBase

__all__ = ["MAX_INTERIM", "ResponseFeeder"]

MAX_INTERIM = 32
"""The most interim (1xx) responses accepted before the final one of a request."""


class ResponseFeeder(ConnectionBase):
    """A connection's receiving side: the protocol callbacks that feed the response."""

    __slots__ = ()

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

    # -- the reader's producer -----------------------------------------------------------

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

    # -- the exchange's host -------------------------------------------------------------

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
