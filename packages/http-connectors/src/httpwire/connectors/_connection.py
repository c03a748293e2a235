"""The per-connection protocol: writes one request at a time and parses its response.

Strategy, for the least Python work per request:

* The protocol object *is* the connection the pool lends out: no wrapper, ``__slots__``.
* The request head (and a small body) leave in one ``transport.write``.
* The only per-request allocations are the parser's events, one future for the head, the
  :class:`~._exchange.Exchange`, the :class:`~._exchange.RawResponse` and its reader.

The sender moves the exchange's phase through its sending half (``sent_all``,
``await_continue``, ``resume_sending``) and stops a streamed body as soon as the exchange
leaves :attr:`~._exchange.Phase.SENDING` (an early answer, or a failure).

:class:`Connection` is the sending side on top of :class:`~._protocol.ConnectionProtocol`
(the connection's state, receiving, failures, the idle timer).
"""

from __future__ import annotations

import asyncio
from time import monotonic

from httpwire.parser import ChunkedEncoder
from httpwire.streams import Body, iter_body

from ._errors import ClientConnectionError, ClientOSError, ServerDisconnectedError
from ._exchange import AWAITING_HEAD, SENDING, Exchange, RawResponse
from ._interfaces import OutgoingRequest
from ._pool import ACTIVE
from ._protocol import ConnectionProtocol, ParserOptions
from ._proxy import proxied
from ._request import build_request_head

__all__ = ["Connection", "ParserOptions"]

# A body up to this size is joined to the head and sent in one write.
_JOIN_LIMIT = 16384


class Connection(ConnectionProtocol):
    """One HTTP/1.1 connection: an ``asyncio.Protocol`` that the pool lends out.

    Use it through :meth:`send` once per loan (or give it back unused with
    :meth:`release`); see the package README for the whole acquire/send/release cycle. It
    conforms to :class:`~httpwire.connectors.HTTPConnection`.

    Args:
        pool: The pool whose slot this connection fills.
        key: The endpoint key (its pool key).
        host: The host to name in errors (or a Unix socket path).
        port: The port to name in errors (``None`` for a Unix socket).
        parser_options: Limits for the response parser.
        registry: A set the connection is in from ``connection_made`` to
            ``connection_lost`` (the connector's register of open sockets).
    """

    __slots__ = ()

    # -- sending -------------------------------------------------------------------------

    async def send(self, request: OutgoingRequest) -> RawResponse:
        """Send one request and wait for the final response head.

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
            The final response head and a stream of its body.

        Raises:
            ValueError: A header or the target is invalid, or the framing fields and the
                body disagree. Nothing was sent; the connection went back to the pool.
            ClientConnectionError: The connection failed (see the error tree); the
                connection was closed.
            ReadTimeoutError: ``sock_read`` elapsed; the connection was closed.
        """
        # One unpacking: cheaper than an attribute look-up per field on the hot path.
        (method, url, headers, body, target, chunked, expect_continue, decode, _, sock_read) = (
            request[:10]
        )
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
        exchange = self._exchange = Exchange(
            self, method, url, waiter, decode, self._served > 0, (self._host, self._port)
        )
        self._used = True
        self._parser.expect_response(method)
        self._read_timeout = sock_read
        transport = self._transport
        assert transport is not None
        try:
            if payload is None:
                transport.write(head)
                exchange.sent_all()
            elif expect_continue:
                transport.write(head)
                exchange.await_continue()
                if not await self._continue_wanted(exchange, request.expect_continue_timeout):
                    return await waiter
                exchange.resume_sending()
                if isinstance(payload, bytes):
                    transport.write(payload)
                    exchange.sent_all()
                else:
                    await self._upload(exchange, b"", payload, encoder, length)
            elif isinstance(payload, bytes):
                if len(payload) <= _JOIN_LIMIT:
                    transport.write(head + payload)
                else:
                    transport.writelines((head, payload))
                exchange.sent_all()
            else:
                await self._upload(exchange, head, payload, encoder, length)
            if request[14] is not None:  # request.trace, by index: the hot path
                request[14].on_request_sent(monotonic())
            self._arm_timer()
            return await waiter
        except BaseException as exc:
            if self._exchange is exchange:
                # Cancelled, or the body's iterator failed: the request is half sent.
                self._exchange = None
                exchange.cancel()
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

    async def _continue_wanted(self, exchange: Exchange, wait: float) -> bool:
        """Wait for ``100 Continue`` or ``wait`` seconds (True), or a final response (False).

        The wait is bounded because a server that ignores ``Expect`` never answers it:
        RFC 9110 §10.1.1 says a client that sends it should not wait indefinitely.
        """
        self._arm_timer()
        loop = self._loop
        deadline = loop.time() + wait
        while exchange.phase is AWAITING_HEAD:
            if exchange.informational and exchange.informational[-1].status == 100:
                return True
            if loop.time() >= deadline:
                return True
            waiter = self._drain_waiter = loop.create_future()
            timer = loop.call_at(deadline, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._drain_waiter = None
        return False  # the final response arrived first, or the exchange failed

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
        async for piece in iter_body(body):
            if not piece:
                continue
            if exchange.phase is not SENDING:
                # Failed, or the server answered before the body was complete: stop sending.
                # The request was cut short (never sent_all()), so the connection cannot
                # be reused.
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
        exchange.sent_all()

    async def _drain(self, exchange: Exchange) -> None:
        while (
            self._write_paused
            and exchange.phase is SENDING  # failed, or an early answer: the upload ends
            and not self._closed
        ):
            waiter = self._drain_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._drain_waiter = None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
