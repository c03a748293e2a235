"""Receiving: the connection feeds the response parser and hands its events to the exchange.

Strategy, for the least Python work per request:

* The connection is an ``asyncio.BufferedProtocol`` with its own 64 KiB receive buffer,
  reused for every read: the transport's default path allocates a 256 KiB ``bytes`` per
  read, which glibc serves with ``mmap`` and page faults, costing more than copying the few
  hundred bytes of a small response out of the buffer.
* ``data_received`` feeds the parser directly and dispatches its events in one loop: body
  pieces go to the :class:`~httpwire.streams.StreamReader` as they are, without a further copy.
* When the end of the message arrives and the connection can be reused, it goes back to the
  pool right there, before anyone reads the body: a small response costs no extra wake-up.

The connection is the reader's producer: when the reader's buffer is full it pauses the
transport, and content decoding (when asked) stops too, so a small compressed body cannot
fill memory however large it decodes. Pausing ends with the response.

A peer that closes early becomes :class:`ServerDisconnectedError` saying what was missing,
socket errors become :class:`ClientOSError`. A failure on a reused connection before any
byte of the response arrived is flagged ``is_stale_connection`` so the client can retry once.
"""

from __future__ import annotations

import ssl
from collections import deque

from httpwire.parser import (
    END_OF_CHUNK,
    EndOfMessage,
    Event,
    HttpParserError,
    IncompleteMessageError,
    InformationalResponse,
    ResponseHead,
    make_decoder,
)
from httpwire.streams import StreamReader

from ._errors import BadResponseError, ClientOSError
from ._exchange import Exchange, disconnected, doing, payload_error
from ._protocol import READ_SIZE, ConnectionBase
from ._response import RawResponse, closed_error

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
                if exchange.decoder is None:
                    exchange.reader.feed_data(event)  # type: ignore[union-attr]  # set by the head
                else:
                    self._decode(exchange, event)
            elif event is END_OF_CHUNK:
                if exchange.decoder is None:  # decoded output has no chunks of its own
                    exchange.reader.end_chunk()  # type: ignore[union-attr]  # set by the head
            elif type(event) is ResponseHead:
                self._head_received(exchange, event)
            elif type(event) is EndOfMessage:
                if events[-1] is not event or events.index(event) != len(events) - 1:
                    # Bytes after the end of the message (the parser may share one
                    # EndOfMessage between messages, hence the index): a server out of
                    # step. Decided before finishing, so the connection is never lent again.
                    exchange.reusable = False
                if exchange.decoder is not None:
                    exchange.end = event
                    self._decode(exchange, b"")
                else:
                    self._finish(exchange)
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
            self._finish(exchange, reusable=False)

    def _interim_received(self, exchange: Exchange, event: InformationalResponse) -> bool:
        """Keep an interim response, within the caps; False when it failed the exchange.

        A server may send any number of 1xx heads before the final one, and since bytes
        keep coming no idle timeout ever fires: without a cap they cost memory and CPU
        without end.
        """
        informational = exchange.informational
        informational.append(event)
        exchange.interim_bytes += (
            len(event.reason) + 16 + sum(len(n) + len(v) + 4 for n, v in event.raw_headers)
        )
        if len(informational) > MAX_INTERIM or exchange.interim_bytes > self._options[3]:
            self._fail(
                exchange,
                BadResponseError(
                    f"more than {MAX_INTERIM} interim (1xx) responses, or more than "
                    f"{self._options[3]} bytes of them (max_head_size), before the final "
                    f"response: {len(informational)} responses of {exchange.interim_bytes} "
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
        """Read from the socket again, and go on decoding what was held back."""
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._closed:
                self._transport.resume_reading()
            if self._read_timeout is not None:
                self._last_data = self._loop.time()
            exchange = self._exchange
            if exchange is not None and exchange.decoder is not None:
                self._decode(exchange, b"")

    # -- receiving -----------------------------------------------------------------------

    def _head_received(self, exchange: Exchange, head: ResponseHead) -> None:
        exchange.head = head
        reader = exchange.reader = StreamReader(exchange)
        if exchange.decoder is not None:
            exchange.decoder = None
            if head.content_coding:
                try:
                    exchange.decoder = make_decoder(head.content_coding)
                    exchange.held = deque()
                except HttpParserError as exc:  # an unsupported coding
                    self._fail(exchange, payload_error(exchange, exc, self._host, self._port))
                    return
        response = exchange.response = RawResponse(
            self, exchange.method, head, reader, tuple(exchange.informational)
        )
        waiter = exchange.waiter
        if not waiter.done():
            waiter.set_result(response)
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)  # an early answer ends a wait for 100 Continue

    def _decode(self, exchange: Exchange, data: bytes) -> None:
        """Decode ``data`` (and what waits) into the reader, unless the reader is full.

        While the reader is paused compressed input waits in ``exchange.held``, whatever
        the framing: with chunked framing every chunk is an event of its own, and feeding
        each to the decoder would let a small body fill memory however full the reader.
        At most one read of the socket waits there, since the socket is paused too.
        """
        decoder = exchange.decoder
        reader = exchange.reader
        held = exchange.held
        assert decoder is not None and reader is not None
        if data:
            held.append(data)
        try:
            while not self._reading_paused:
                if decoder.pending:
                    out = decoder.feed(b"")
                elif held:
                    out = decoder.feed(held.popleft())
                else:
                    break
                if out:
                    reader.feed_data(out)
            if exchange.end is not None and not decoder.pending and not held:
                out = decoder.flush()
                if out:
                    reader.feed_data(out)
                self._finish(exchange)
        except HttpParserError as exc:
            self._fail(exchange, payload_error(exchange, exc, self._host, self._port))

    def _finish(self, exchange: Exchange, reusable: bool = True) -> None:
        """The response ended: complete the reader, and pool or close the connection."""
        self._exchange = None
        self._served += 1
        reader = exchange.reader
        assert reader is not None and exchange.head is not None
        reader.feed_eof()
        response = exchange.response
        if response is not None:
            response._done = True
            response._conn = None
        if self._reading_paused:
            self._reading_paused = False
            if not self._closed and self._transport is not None:
                self._transport.resume_reading()
        if (
            reusable
            and exchange.reusable
            and exchange.upload_done
            and not exchange.head.should_close
            and not self._parser.buffered  # bytes after the end: a server out of step
        ):
            self._pool.release(self)
        else:
            self._pool.discard(self)

    def _abort_exchange(self, response: RawResponse, how: str) -> None:
        """The caller let go of a response before its body arrived: close the connection.

        A read still waiting for the body would otherwise wait forever: it fails instead.
        """
        exchange = self._exchange
        if exchange is not None and exchange.response is response:
            self._exchange = None
            self._pool.discard(self)
            if exchange.reader is not None and exchange.reader.exception() is None:
                exchange.reader.set_exception(closed_error(response, how))
