"""Writing one request on a connection: its head and body, with back-pressure and 100-continue.

Strategy: one :class:`Sender` per connection, made with it, so a request costs no object
of its own here. :meth:`Sender.send` writes what it can at once and returns ``None`` in
the common case (a head alone, or a head and a small body in **one** ``transport.write``);
only a streamed body, a large one or an ``Expect: 100-continue`` wait needs the coroutine
it returns otherwise, so the common path creates no coroutine, task, future or timer.

A large body (``bytes``, or a large piece of a streamed one) is never handed whole to the
transport: it goes out as :data:`SLICE`-sized slices of a ``memoryview`` (no copy), each
written only while the transport is not paused for writing. A transport copies what the
socket did not take at once, so one write of a 100 MiB body would cost up to 100 MiB more
memory (and more, joined to its head); slices bound that to one slice.

The sender moves the exchange's phase through its sending half (``sent_all``,
``await_continue``, ``resume_sending``) and stops writing a streamed body as soon as the
exchange leaves :attr:`~._exchange.Phase.SENDING` (an early answer, or a failure). While
the transport's buffer is full it waits on one future, which the connection also wakes
when the exchange changes (a head, an interim response, a failure); the wait for
``100 Continue`` is bounded (RFC 9110 §10.1.1: a client should not wait indefinitely).

A body that says it can be sent with ``loop.sendfile`` (a regular file of known size, as
``httpwire.forms.FilePayload`` tells with ``can_sendfile``, ``file``, ``offset`` and
``size``) goes from the file to the socket in the kernel, without a read into Python, when
the loop can (a plain TCP or Unix socket on the default loop) and the body is framed by
Content-Length; otherwise, and over TLS, it is read and written like any streamed body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from httpwire.parser import ChunkedEncoder
from httpwire.streams import Body, iter_body

from ._exchange import AWAITING_HEAD, SENDING, Exchange

__all__ = ["JOIN_LIMIT", "SLICE", "Sender"]

JOIN_LIMIT = 16384
"""A body up to this size is joined to the head and sent in one write."""

SLICE = 262144
"""The most bytes of a large body handed to the transport in one write."""


class Sender:
    """Writes the requests of one connection, one at a time.

    Args:
        loop: The connection's event loop.
    """

    __slots__ = ("_loop", "_paused", "_transport", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._paused = False  # the transport's write buffer is full
        self._waiter: asyncio.Future[None] | None = None

    def attach(self, transport: asyncio.Transport) -> None:
        """Write on ``transport`` from now on."""
        self._transport = transport

    def write_paused(self) -> None:
        """The transport's buffer is full: streamed bodies wait."""
        self._paused = True

    def write_resumed(self) -> None:
        """The transport's buffer drained: streamed bodies go on."""
        self._paused = False
        self.wake()

    def wake(self) -> None:
        """Something changed for the exchange being sent: a waiting sender looks again."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def send(
        self,
        exchange: Exchange,
        head: bytes,
        payload: Body | bytes | None,
        encoder: ChunkedEncoder | None,
        length: int | None,
        expect_continue: bool,
        continue_wait: float,
    ) -> Coroutine[Any, Any, None] | None:
        """Write the request, or start to.

        Args:
            exchange: The exchange whose request this is.
            head: The serialized head.
            payload: The body as :func:`~._request.build_request_head` returned it.
            encoder: The chunked encoder of a streamed body, if any.
            length: The Content-Length a streamed body must match, if any.
            expect_continue: Hold the body until ``100 Continue`` (or ``continue_wait``).
            continue_wait: The most seconds to hold the body.

        Returns:
            ``None`` when the whole request was written; otherwise a coroutine to await
            that writes the rest.
        """
        transport = self._transport
        assert transport is not None
        if payload is None:
            transport.write(head)
            exchange.sent_all()
            return None
        if expect_continue:
            transport.write(head)
            exchange.await_continue()
            return self._after_continue(exchange, payload, encoder, length, continue_wait)
        if isinstance(payload, bytes):
            if len(payload) <= JOIN_LIMIT:
                transport.write(head + payload)
                exchange.sent_all()
                return None
            return self._send_bytes(exchange, head, payload)
        return self._upload(exchange, head, payload, encoder, length)

    async def _send_bytes(self, exchange: Exchange, head: bytes, payload: bytes) -> None:
        """A large ``bytes`` body: the head, then the body in slices with back-pressure."""
        transport = self._transport
        assert transport is not None
        # The head rides with the first slice: one write, one copy of at most a slice.
        transport.write(head + payload[:SLICE])
        if await self._write_slices(exchange, payload, SLICE):
            exchange.sent_all()

    async def _write_slices(self, exchange: Exchange, data: bytes, start: int = 0) -> bool:
        """Write ``data[start:]`` in slices, each once the transport is not paused.

        Returns:
            False when the exchange stopped sending (an early answer, or a failure) first.
        """
        transport = self._transport
        assert transport is not None
        view = memoryview(data)
        end = len(view)
        while True:
            if self._paused:
                await self._drain(exchange)
            if exchange.phase is not SENDING:
                return False
            if start >= end:
                return True
            transport.write(view[start : start + SLICE])
            start += SLICE

    async def _after_continue(
        self,
        exchange: Exchange,
        payload: Body | bytes,
        encoder: ChunkedEncoder | None,
        length: int | None,
        wait: float,
    ) -> None:
        if not await self._continue_wanted(exchange, wait):
            return  # the final response came first (or the exchange failed): no body
        exchange.resume_sending()
        if isinstance(payload, bytes):
            if await self._write_slices(exchange, payload):
                exchange.sent_all()
        else:
            await self._upload(exchange, b"", payload, encoder, length)

    async def _continue_wanted(self, exchange: Exchange, wait: float) -> bool:
        """Wait for ``100 Continue`` or ``wait`` seconds (True), or a final response (False).

        The wait is bounded because a server that ignores ``Expect`` never answers it:
        RFC 9110 §10.1.1 says a client that sends it should not wait indefinitely.
        """
        loop = self._loop
        deadline = loop.time() + wait
        while exchange.phase is AWAITING_HEAD:
            if exchange.continued:
                return True
            if loop.time() >= deadline:
                return True
            waiter = self._waiter = loop.create_future()
            timer = loop.call_at(deadline, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return False  # the final response arrived first, or the exchange failed

    async def _upload(
        self,
        exchange: Exchange,
        head: bytes,
        body: Body,
        encoder: ChunkedEncoder | None,
        length: int | None,
        sendfile: bool = True,
    ) -> None:
        """Stream the body, waiting while the transport's buffer is full."""
        transport = self._transport
        assert transport is not None
        if (
            sendfile
            and encoder is None
            and length is not None
            and getattr(body, "can_sendfile", False)
            and await self._sendfile(exchange, head, body, length)
        ):
            return
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
            if len(data) > SLICE:
                # A large piece goes out in slices, as a large bytes body does.
                if pending:
                    transport.write(pending)
                    pending = b""
                if not await self._write_slices(exchange, data):
                    return
                continue
            if pending:
                transport.write(pending + data)
                pending = b""
            else:
                transport.write(data)
            if self._paused:
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

    async def _sendfile(self, exchange: Exchange, head: bytes, body: Body, length: int) -> bool:
        """Send a regular file's body with ``loop.sendfile``; False when the loop cannot."""
        transport = self._transport
        assert transport is not None
        if transport.get_extra_info("sslcontext") is not None:
            return False  # TLS: the bytes must pass through Python anyway
        transport.write(head)
        try:
            sent = await self._loop.sendfile(
                transport,
                body.file,  # type: ignore[attr-defined]  # said by can_sendfile
                body.offset,  # type: ignore[attr-defined]
                length,
                fallback=False,
            )
        except asyncio.SendfileNotAvailableError:
            # Raised before a byte of the file was sent (uvloop, say): stream it instead.
            await self._upload(exchange, b"", body, None, length, sendfile=False)
            return True
        if sent != length:
            raise ValueError(
                f"the body ended after {sent} of its announced {length} bytes "
                "(the file shrank); the request was cut short"
            )
        exchange.sent_all()
        return True

    async def _drain(self, exchange: Exchange) -> None:
        """Wait while the transport's buffer is full and the exchange is still sending."""
        while self._paused and exchange.phase is SENDING:  # failed, or an early answer
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
