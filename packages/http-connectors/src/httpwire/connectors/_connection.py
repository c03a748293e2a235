"""The per-connection protocol: writes one request at a time and parses its response.

Strategy, for the least Python work per request:

* The protocol object *is* the connection the pool lends out: no wrapper, ``__slots__``.
* The request head (and a small body) leave in one ``transport.write``.
* ``data_received`` feeds the parser directly and dispatches its events in one loop: body
  pieces go to the :class:`~httpwire.streams.StreamReader` as they are, without a copy.
* When the end of the message arrives and the connection can be reused, it goes back to the
  pool right there, before anyone reads the body: a small response costs no extra wake-up.
* The ``sock_read`` (idle) timeout is one timer per connection that is not cancelled per
  request or per received piece: each piece just records the time, and when the timer fires
  it either raises the timeout or sleeps again until the new deadline.
* The only per-request allocations are the parser's events, one future for the head, the
  :class:`RawResponse` and its reader.

The protocol is the reader's producer: when the reader's buffer is full it pauses the
transport, and content decoding (when asked) stops too, so a small compressed body cannot
fill memory however large it decodes. Pausing ends with the response.

Errors are translated here, at the boundary: parser errors become :class:`BadResponseError`
(head) or :class:`ClientPayloadError` (body), a peer that closes early becomes
:class:`ServerDisconnectedError` saying what was missing, socket errors become
:class:`ClientOSError`. A failure on a reused connection before any byte of the response
arrived is flagged ``is_stale_connection`` so the client can retry once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import TYPE_CHECKING, cast

from yarl import URL

from httpwire.parser import (
    END_OF_CHUNK,
    ChunkedEncoder,
    ContentDecoder,
    DecodingError,
    EndOfMessage,
    HttpParserError,
    IncompleteMessageError,
    InformationalResponse,
    InvalidChunkError,
    ResponseHead,
    ResponseParser,
    make_decoder,
)
from httpwire.streams import Body, StreamReader

from ._errors import (
    BadResponseError,
    ClientConnectionError,
    ClientOSError,
    ClientPayloadError,
    ReadTimeoutError,
    ServerDisconnectedError,
)
from ._exchange import Exchange, disconnected, doing, payload_error
from ._pool import ACTIVE
from ._proxy import ProxyConfig, proxied
from ._request import Headers, build_request_head
from ._response import RawResponse

if TYPE_CHECKING:
    from ._pool import ConnectionPool

__all__ = ["Connection", "ParserOptions"]

# A body up to this size is joined to the head and sent in one write.
_JOIN_LIMIT = 16384
# Parser errors that only a body can cause, even when its head came in the same piece.
_BODY_ERRORS = (InvalidChunkError, DecodingError)

ParserOptions = tuple[int, int, int, int]
"""max_line_size, max_field_size, max_headers, max_head_size for the response parser."""


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: an ``asyncio.Protocol`` that the pool lends out.

    Use it through :meth:`send` once per loan; see the package README for the whole
    acquire/send/release cycle. Everything else is for the connector and the pool.

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
        "_pool",
        "_port",
        "_read_timeout",
        "_reading_paused",
        "_registry",
        "_served",
        "_timer",
        "_transport",
        "_write_paused",
        "idle_since",
        "pool_key",
        "pool_state",
        "proxy_route",
        "tunneled",
    )

    def __init__(
        self,
        pool: ConnectionPool[Connection],
        key: Hashable,
        host: str | None,
        port: int | None,
        parser_options: ParserOptions = (8190, 8190, 128, 65536),
        registry: set[Connection] | None = None,
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
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._read_timeout: float | None = None
        self._last_data = 0.0
        self._timer: asyncio.TimerHandle | None = None

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
    def transport(self) -> asyncio.Transport | None:
        """The transport, once connected."""
        return self._transport

    def close(self) -> None:
        """Close the transport now (``connection_lost`` follows); idempotent."""
        if not self._closed:
            self._closed = True
            transport = self._transport
            if transport is not None:
                # Unsent bytes belong to a request being abandoned: drop them rather than
                # wait, maybe forever, for a peer that does not read.
                if transport.get_write_buffer_size():
                    transport.abort()
                else:
                    transport.close()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

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

    def _dispatch(self, exchange: Exchange, events: list[object]) -> None:
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
                exchange.informational += (event,)
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

    def eof_received(self) -> bool | None:
        """The server closed its side: end a read-until-close body, or fail a cut one."""
        exchange = self._exchange
        if exchange is None:
            # Closed by the server while idle: never lend it again, even before
            # connection_lost arrives.
            self._closed = True
            return None
        if exchange.head is not None:
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

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the exchange in progress, if any, and free the connection's slot."""
        self._closed = True
        transport = self._transport
        if transport is not None and not transport.is_closing():
            # A TLS transport the peer closed is not marked closed on Python 3.10, which
            # would warn about it when it is collected.
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

    def pause_writing(self) -> None:
        """The transport's buffer is full: uploads wait."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained: uploads go on."""
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

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

    # -- sending -------------------------------------------------------------------------

    async def send(
        self,
        method: str,
        url: URL,
        headers: Headers,
        body: Body | bytes | None = None,
        *,
        target: str | None = None,
        sock_read: float | None = None,
        chunked: bool | None = None,
        expect_continue: bool = False,
        decode: bool = False,
    ) -> RawResponse:
        """Send one request and wait for the final response head.

        Args:
            method: The request method, upper case (``"GET"``).
            url: The request URL; the target is its path and query.
            headers: The request's fields in order: a ``CIMultiDict`` (what the client
                passes) or any mapping. ``Host`` is added from the URL when absent, and the
                body's framing (``Content-Length`` or ``Transfer-Encoding: chunked``) when
                the caller set neither.
            body: ``bytes``, a :class:`~httpwire.streams.Body` (streamed with
                back-pressure), or ``None``.
            target: The request-target to send instead of the URL's path and query (the
                absolute form through a proxy, or ``*``).
            sock_read: Seconds without a byte from the server before
                :class:`ReadTimeoutError` (``None``: wait forever). It runs while waiting for
                the head and while the body arrives, and pauses while the reader is full
                or the request body is still being sent.
            chunked: Force (True) or forbid (False) chunked framing of the body; by default
                chunked is used only when the body's size is unknown.
            expect_continue: Send ``Expect: 100-continue`` and send the body only after
                ``100 Continue``; a final answer that comes first is returned and the body
                is never sent. Also on when ``headers`` hold that expectation.
            decode: Decode the content codings of the response into :attr:`RawResponse.content`
                (gzip, deflate; br and zstd when installed).

        Returns:
            The final response head and a stream of its body.

        Raises:
            ValueError: A header or the target is invalid, or ``Content-Length`` and the
                body disagree. The connection is unharmed and went back to the pool.
            ClientConnectionError: The connection failed (see the error tree); the
                connection was closed.
            ReadTimeoutError: ``sock_read`` elapsed; the connection was closed.
        """
        if self._exchange is not None:
            raise RuntimeError("a request is already in progress on this connection")
        if self.pool_state != ACTIVE:
            raise RuntimeError(
                "send() on a connection that is not lent out: acquire() a connection for "
                "each request"
            )
        if self._closed:
            self._pool.discard(self)
            raise ServerDisconnectedError(
                "response",
                method=method,
                url=url,
                host=self._host,
                port=self._port,
                is_stale_connection=self._served > 0,
            )
        if self.proxy_route is not None:
            headers, target = proxied(self.proxy_route, self.tunneled, url, headers, target)
        try:
            head, payload, encoder, length = build_request_head(
                method, url, headers, body, target, chunked, expect_continue
            )
        except BaseException:
            self._pool.release(self)
            raise
        waiter: asyncio.Future[RawResponse] = self._loop.create_future()
        exchange = self._exchange = Exchange(self, method, url, waiter)
        exchange.stale = self._served > 0
        self._parser.expect_response(method)
        self._read_timeout = sock_read
        if decode:
            exchange.decoder = _DECODE_ASKED
        transport = self._transport
        assert transport is not None
        try:
            if payload is None:
                transport.write(head)
                exchange.upload_done = True
            elif expect_continue:
                transport.write(head)
                if not await self._continue_wanted(exchange):
                    return await waiter
                if isinstance(payload, bytes):
                    transport.write(payload)
                    exchange.upload_done = True
                else:
                    await self._upload(exchange, b"", payload, encoder, length)
            elif isinstance(payload, bytes):
                if len(payload) <= _JOIN_LIMIT:
                    transport.write(head + payload)
                else:
                    transport.writelines((head, payload))
                exchange.upload_done = True
            else:
                await self._upload(exchange, head, payload, encoder, length)
            self._arm_timer()
            return await waiter
        except BaseException as exc:
            if self._exchange is exchange:
                # Cancelled, or the body's iterator failed: the request is half sent.
                self._exchange = None
                if not waiter.done():
                    waiter.cancel()
                self._pool.discard(self)
            elif waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Cancelled after the head arrived: the response was never handed out.
                waiter.result().release()
            if isinstance(exc, OSError) and not isinstance(exc, ClientConnectionError):
                raise ClientOSError(
                    exc,
                    during="sending the request",
                    method=method,
                    url=url,
                    host=self._host,
                    port=self._port,
                ) from exc
            raise

    async def _continue_wanted(self, exchange: Exchange) -> bool:
        """Wait for ``100 Continue`` (True) or a final response (False)."""
        self._arm_timer()
        while exchange.head is None:
            if exchange.informational and exchange.informational[-1].status == 100:
                return True
            waiter = self._drain_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._drain_waiter = None
            if self._exchange is not exchange:
                return False
        return False

    async def _upload(
        self,
        exchange: Exchange,
        head: bytes,
        body: Body,
        encoder: ChunkedEncoder | None,
        length: int | None,
    ) -> None:
        """Stream the body, waiting while the transport's buffer is full."""
        transport = self._transport
        assert transport is not None
        sent = 0
        pending = head
        exchange.sending = True
        async for piece in body:
            if not piece:
                continue
            if self._exchange is not exchange or exchange.head is not None:
                # Failed, or the server answered before the body was complete: stop sending.
                # upload_done stays False: the request was cut short, so the connection
                # cannot be reused.
                exchange.sending = False
                return
            sent += len(piece)
            if length is not None and sent > length:
                raise ValueError(
                    f"the body yielded more than its announced {length} bytes; "
                    "the request was cut short"
                )
            data = encoder.encode(piece) if encoder is not None else piece
            if pending:
                if len(data) <= _JOIN_LIMIT:
                    transport.write(pending + data)
                else:
                    transport.writelines((pending, data))
                pending = b""
            else:
                transport.write(data)
            if self._write_paused:
                await self._drain(exchange)
        if pending:
            transport.write(pending)
        if encoder is not None:
            transport.write(encoder.finish())
        elif length is not None and sent != length:
            raise ValueError(
                f"the body ended after {sent} of its announced {length} bytes; "
                "the request was cut short"
            )
        exchange.sending = False
        exchange.upload_done = True

    async def _drain(self, exchange: Exchange) -> None:
        while (
            self._write_paused
            and self._exchange is exchange
            and exchange.head is None  # an early answer ends the upload
            and not self._closed
        ):
            waiter = self._drain_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._drain_waiter = None

    # -- receiving -----------------------------------------------------------------------

    def _head_received(self, exchange: Exchange, head: ResponseHead) -> None:
        exchange.head = head
        reader = exchange.reader = StreamReader(exchange)
        if exchange.decoder is not None:
            exchange.decoder = None
            if head.content_coding:
                try:
                    exchange.decoder = make_decoder(head.content_coding)
                except HttpParserError as exc:  # an unsupported coding
                    self._fail(exchange, payload_error(exchange, exc, self._host, self._port))
                    return
        response = exchange.response = RawResponse(
            self, exchange.method, head, reader, exchange.informational
        )
        waiter = exchange.waiter
        if not waiter.done():
            waiter.set_result(response)
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)  # an early answer ends a wait for 100 Continue

    def _decode(self, exchange: Exchange, data: bytes) -> None:
        decoder = exchange.decoder
        reader = exchange.reader
        assert decoder is not None and reader is not None
        try:
            out = decoder.feed(data) if data else b""
            if out:
                reader.feed_data(out)
            while decoder.pending and not self._reading_paused:
                out = decoder.feed(b"")
                if out:
                    reader.feed_data(out)
            if exchange.end is not None and not decoder.pending:
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
        ):
            self._pool.release(self)
        else:
            self._pool.discard(self)

    def _abort_exchange(self, response: RawResponse) -> None:
        """The caller let go of a response before its body arrived: close the connection."""
        exchange = self._exchange
        if exchange is not None and exchange.response is response:
            self._exchange = None
            self._pool.discard(self)

    # -- failures ------------------------------------------------------------------------

    def _fail(self, exchange: Exchange, error: BaseException) -> None:
        """Deliver ``error`` to whoever waits on the exchange and close the connection."""
        if self._exchange is exchange:
            self._exchange = None
        waiter = exchange.waiter
        if not waiter.done():
            waiter.set_exception(error)
        elif exchange.reader is not None:
            exchange.reader.set_exception(error)
        if exchange.response is not None:
            exchange.response._conn = None
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)
        self._pool.discard(self)

    def _parse_failed(self, exchange: Exchange, exc: HttpParserError) -> None:
        error: ClientConnectionError | ClientPayloadError
        if exchange.head is None and not isinstance(exc, _BODY_ERRORS):
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
        if self._reading_paused or exchange.sending:
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


# Marks an exchange whose caller asked for decoding, until the head says which coding.
_DECODE_ASKED: ContentDecoder = object()  # type: ignore[assignment]  # a sentinel
