"""One request/response exchange: its phase, its response handle, and the errors of its failures.

Strategy: the exchange is the one object that answers "where is this request, and is its
response still attached to the connection?". It owns an explicit :class:`Phase`::

    SENDING -> AWAITING_HEAD -> RECEIVING -> DONE
       |  ^          |             |
       |  +----------+ (100)       +-------> FAILED (from any phase before DONE)
       +-----------------------> RECEIVING  (an early answer cuts the upload short)

and every change of phase is a method of :class:`Exchange`: the sender calls
:meth:`~Exchange.sent_all`, :meth:`~Exchange.await_continue` and
:meth:`~Exchange.resume_sending`; the connection hands it the parser's head
(:meth:`~Exchange.on_head`) and its failures (:meth:`~Exchange.fail`); the response handle
calls :meth:`~Exchange.abandon`; its body calls :meth:`~Exchange.body_ended`.

The response side is an object of its own, :class:`ResponseBody`, made when the head
arrives: it holds the head, the reader and the decoder (none of them optional), receives
the body's events from the connection, and is the producer of the reader. It decodes
content codings itself: while the reader is full, compressed input waits there (at most
one socket read, since the socket is paused too), so a small compressed body cannot fill
memory however large it decodes. Before the head, the exchange's ``body`` is a stand-in
that receives nothing (the parser never gives a body event before the head).

The exchange talks to its connection only through :class:`ExchangeHost`, a Protocol
declared here, so this module imports nothing of the connection.

The phases are an ``IntEnum`` whose members are bound to module constants: the hot path
compares them by identity, without an attribute look-up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from enum import IntEnum
from typing import Literal, Protocol

from yarl import URL

from httpwire.parser import (
    ContentDecoder,
    EndOfMessage,
    HttpParserError,
    IncompleteMessageError,
    InformationalResponse,
    ResponseHead,
    make_decoder,
)
from httpwire.streams import StreamReader

from ._errors import ClientConnectionError, ClientPayloadError, ServerDisconnectedError
from ._util import host_port, strip_userinfo

__all__ = [
    "BODY_HIGH_WATER",
    "Exchange",
    "ExchangeHost",
    "Phase",
    "RawResponse",
    "ResponseBody",
    "closed_error",
    "disconnected",
    "doing",
    "payload_error",
]


class Phase(IntEnum):
    """Where an exchange is; the order is the order of a request's life."""

    SENDING = 0
    """The request (head or body) is being written."""
    AWAITING_HEAD = 1
    """Nothing is being written; the final response head has not arrived."""
    RECEIVING = 2
    """The head arrived and was handed out; the body is arriving."""
    DONE = 3
    """The whole response arrived; the exchange let go of its connection."""
    FAILED = 4
    """The exchange failed or was abandoned before its end; it let go of its connection."""


SENDING = Phase.SENDING
AWAITING_HEAD = Phase.AWAITING_HEAD
RECEIVING = Phase.RECEIVING
DONE = Phase.DONE
FAILED = Phase.FAILED


class ExchangeHost(Protocol):
    """What an exchange needs from the connection it runs on."""

    def pause_reading(self) -> None:
        """Stop reading from the socket: the response's reader is full."""
        ...

    def resume_reading(self) -> None:
        """Read from the socket again."""
        ...

    def exchange_ended(self, exchange: Exchange) -> None:
        """The whole response arrived: go back to the pool, or close if unusable."""
        ...

    def exchange_dropped(self, exchange: Exchange) -> None:
        """The exchange failed or was abandoned on its own side: close the connection."""
        ...


# A shared empty queue for bodies that are not decoded (a real one is made with a decoder).
_NO_INPUT: deque[bytes] = deque(maxlen=0)

BODY_HIGH_WATER = 1048576
"""Buffered body bytes above which the connection stops reading: the largest socket read
while a body streams, so that one read never pauses a reader that keeps up (the reader
then holds at most 2 MiB: this, plus the read that passed it)."""


class Exchange:
    """The one request/response in progress on a connection, from the first byte sent.

    Args:
        host: The connection it runs on.
        method: The request method.
        url: The request URL.
        waiter: The future :meth:`on_head` resolves with the response.
        decode: Whether to undo the response's content codings.
        stale: Whether the connection served a response before (for retry flags).
        endpoint: The host and port to name in errors.

    Attributes:
        phase: Where the exchange is (a :class:`Phase`).
        head: The final response head, from :attr:`Phase.RECEIVING` on.
        body: Where the body's events go: a :class:`ResponseBody` from
            :attr:`Phase.RECEIVING` on (before, a stand-in that never receives any).
        informational: The interim (1xx) responses received so far.
        sent: The whole request was written.
        received: Some byte of the response arrived.
        reusable: Nothing seen so far forbids reusing the connection afterwards.
    """

    __slots__ = (
        "body",
        "decode",
        "endpoint",
        "head",
        "host",
        "informational",
        "interim_bytes",
        "method",
        "phase",
        "received",
        "reusable",
        "sent",
        "stale",
        "url",
        "waiter",
    )

    def __init__(
        self,
        host: ExchangeHost,
        method: str,
        url: URL,
        waiter: asyncio.Future[RawResponse],
        decode: bool,
        stale: bool,
        endpoint: tuple[str | None, int | None],
    ) -> None:
        self.host = host
        self.method = method
        self.url = url
        self.waiter: asyncio.Future[RawResponse] | None = waiter
        self.decode = decode
        self.stale = stale
        self.endpoint = endpoint
        self.phase: Phase = SENDING
        self.head: ResponseHead | None = None
        self.body: ResponseBody | _NoBody = _NO_BODY
        self.informational: list[InformationalResponse] = []
        self.interim_bytes = 0  # the size of the interim responses, roughly as received
        self.sent = False
        self.received = False
        self.reusable = True

    @property
    def continued(self) -> bool:
        """True once ``100 Continue`` was the latest interim response."""
        informational = self.informational
        return bool(informational) and informational[-1].status == 100

    # -- the sender's transitions ----------------------------------------------------------

    def sent_all(self) -> None:
        """The whole request was written: wait for the head (unless it came already)."""
        self.sent = True
        if self.phase is SENDING:
            self.phase = AWAITING_HEAD

    def await_continue(self) -> None:
        """The head was written with ``Expect: 100-continue``: the body waits for an answer."""
        if self.phase is SENDING:
            self.phase = AWAITING_HEAD

    def resume_sending(self) -> None:
        """``100 Continue`` arrived (or the wait for it ended): the body goes out."""
        if self.phase is AWAITING_HEAD:
            self.phase = SENDING

    # -- the parser's events, dispatched by the connection ---------------------------------

    def on_interim(self, event: InformationalResponse) -> None:
        """Keep an interim (1xx) response; the connection caps them by :attr:`interim_bytes`."""
        self.informational.append(event)
        self.interim_bytes += (
            len(event.reason) + 16 + sum(len(n) + len(v) + 4 for n, v in event.raw_headers)
        )

    def on_head(self, head: ResponseHead) -> ResponseBody:
        """The final head arrived: make the body and the response and hand it out.

        Returns:
            Where the body's events go from now on (also :attr:`body`).

        Raises:
            HttpParserError: Decoding was asked and the content coding is unsupported.
        """
        self.head = head
        decoder = (
            make_decoder(head.content_coding) if self.decode and head.content_coding else None
        )
        if head.should_close:
            self.reusable = False
        body = self.body = ResponseBody(self, head, decoder)
        # The head may arrive before the body was all written (an early answer).
        self.phase = RECEIVING
        response = RawResponse(self, head, body.reader, tuple(self.informational))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(response)
        return body

    def body_ended(self) -> None:
        """The body (decoded, when asked) is all in the reader: the exchange is done."""
        self.phase = DONE
        # Nothing fails or feeds the response any more. Dropping the links that point back
        # here (the waiter holds the response, which holds this exchange; the body and its
        # reader hold each other) lets reference counting free the response's objects as
        # soon as the caller drops it, instead of leaving ten per request to the cycle
        # collector.
        self.waiter = None
        body = self.body
        self.body = _NO_BODY
        body.detach()
        self.host.exchange_ended(self)

    def fail(self, error: BaseException) -> None:
        """Fail the exchange with ``error``: the head's waiter, or else the body's reader.

        The connection calls it and then lets go of the exchange itself. Idempotent: an
        ended or failed exchange is left as it is.
        """
        if self.phase >= DONE:
            return
        self.phase = FAILED
        if isinstance(error, (ClientConnectionError, ClientPayloadError)):
            error.with_request(self.method, self.url)  # the one place errors get the request
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        else:
            self.body.fail(error)

    def cancel(self) -> None:
        """The sender gave up (cancelled, or its body failed): nobody waits for the head."""
        if self.phase < DONE:
            self.phase = FAILED
            if self.waiter is not None:
                self.waiter.cancel()

    def abandon(self, how: str) -> None:
        """The response was let go of before its body arrived: drop the connection.

        A read still waiting for the body would otherwise wait forever: it fails instead.
        """
        if self.phase is not RECEIVING:
            return
        self.phase = FAILED
        self.body.fail(closed_error(self.method, how), keep=True)
        self.host.exchange_dropped(self)

    def body_failed(self, exc: HttpParserError) -> None:
        """The body could not be decoded: fail the exchange and drop the connection."""
        self.fail(payload_error(self, exc, *self.endpoint))
        self.host.exchange_dropped(self)


class _NoBody:
    """The exchange's body before the head: the parser gives no body event before it."""

    __slots__ = ()

    def on_data(self, data: bytes) -> None:
        raise RuntimeError("response body bytes before the response head")

    def on_chunk_end(self) -> None:
        raise RuntimeError("response body chunk before the response head")

    def on_end(self, end: EndOfMessage) -> None:
        raise RuntimeError("response end before the response head")

    def fail(self, error: BaseException, keep: bool = False) -> None:
        """Nothing reads a body that has not begun."""

    def detach(self) -> None:
        """Nothing to let go of."""


_NO_BODY = _NoBody()


class ResponseBody:
    """The response side of an exchange, from its head on: the reader and its producer.

    Made by :meth:`Exchange.on_head`. It feeds the body's pieces to the reader, decoding
    content codings when asked, and pauses and resumes the connection's reading as the
    reader fills and drains (through the exchange's host). While the reader is full,
    compressed input waits here (at most one socket read, since the socket is paused too),
    so a small compressed body cannot fill memory however large it decodes.

    Args:
        exchange: The exchange it belongs to.
        head: The final response head.
        decoder: The content decoder, or ``None`` to pass the body on as it came.

    Attributes:
        head: The final response head.
        reader: The stream the body goes to (:attr:`RawResponse.content`).
        decoder: The content decoder, if the body is decoded.
    """

    __slots__ = ("_end", "_exchange", "_held", "_paused", "decoder", "head", "reader")

    def __init__(
        self, exchange: Exchange, head: ResponseHead, decoder: ContentDecoder | None
    ) -> None:
        self._exchange = exchange
        self.head = head
        self.decoder = decoder
        # Positional: a keyword would make the class call build a dict on every response.
        self.reader = StreamReader(self, BODY_HIGH_WATER)
        self._end: EndOfMessage | None = None  # an end held back until decoding catches up
        self._held = _NO_INPUT if decoder is None else deque()  # input waiting while paused
        self._paused = False  # the reader is full: decoding waits too

    def on_data(self, data: bytes) -> None:
        """A piece of the body: into the reader, decoded when asked."""
        if self.decoder is None:
            self.reader.feed_data(data)
        else:
            self._decode(data)

    def on_chunk_end(self) -> None:
        """The end of one of the sender's chunks (decoded output has none of its own)."""
        if self.decoder is None:
            self.reader.end_chunk()

    def on_end(self, end: EndOfMessage) -> None:
        """The end of the message: end the body, once decoding has caught up."""
        if self.decoder is None:
            self._paused = False
            self.reader.feed_eof()
            self._exchange.body_ended()
        else:
            self._end = end
            self._decode(b"")

    def detach(self) -> None:
        """The exchange ended: let go of the reader, which keeps this body as its producer.

        The reader lives on in the response (:attr:`RawResponse.content`); nothing feeds or
        fails it through this body any more.
        """
        del self.reader

    @property
    def held_bytes(self) -> int:
        """How many bytes of compressed input wait for the reader to have room."""
        return sum(map(len, self._held))

    def fail(self, error: BaseException, keep: bool = False) -> None:
        """Make reads raise ``error`` (with ``keep``, unless they already raise another)."""
        if not keep or self.reader.exception() is None:
            self.reader.set_exception(error)

    # -- the reader's producer -----------------------------------------------------------

    def pause_reading(self) -> None:
        """The reader is full: decoding stops and the connection stops reading."""
        if not self._paused and self._exchange.phase is RECEIVING:
            self._paused = True
            self._exchange.host.pause_reading()

    def resume_reading(self) -> None:
        """The reader has room: the connection reads again and held input is decoded."""
        if self._paused and self._exchange.phase is RECEIVING:
            self._paused = False
            self._exchange.host.resume_reading()
            if self.decoder is not None:
                self._decode(b"")

    # -- receiving -----------------------------------------------------------------------

    def _decode(self, data: bytes) -> None:
        """Decode ``data`` (and what waits) into the reader, unless the reader is full.

        While the reader is paused compressed input waits in ``_held``, whatever the
        framing: with chunked framing every chunk is an event of its own, and feeding each
        to the decoder would let a small body fill memory however full the reader.
        """
        decoder = self.decoder
        assert decoder is not None
        reader = self.reader
        held = self._held
        if data:
            held.append(data)
        try:
            while not self._paused:
                if decoder.pending:
                    out = decoder.feed(b"")
                elif held:
                    out = decoder.feed(held.popleft())
                else:
                    break
                if out:
                    reader.feed_data(out)
            if self._end is not None and not decoder.pending and not held:
                out = decoder.flush()
                if out:
                    reader.feed_data(out)
                self._ended()
        except HttpParserError as exc:
            self._exchange.body_failed(exc)

    def _ended(self) -> None:
        self._paused = False
        self.reader.feed_eof()
        self._exchange.body_ended()


def closed_error(method: str, how: str) -> ClientConnectionError:
    """What reading the body of a response let go of before its end raises."""
    return ClientConnectionError(
        f"the response to {method} was {how} before its body was read to the end; "
        "the rest of the body is gone",
        method=method,
    )


class RawResponse:
    """The head and the body stream of one response, as a connection received them.

    The connection goes back to its pool by itself as soon as the whole body has arrived
    (the unread rest waits in :attr:`content`), so a fully received response holds no
    connection. :meth:`release` must still be called once the caller is done: when the body
    did not arrive whole, it closes the connection, whose state is then unknown.

    Attributes:
        head: The final response head (status, reason, headers, raw headers, framing).
        content: The body, decoded when decoding was asked for and the response had a
            content coding; a reader that is at EOF at once for bodiless responses.
        informational: Interim 1xx responses received before the final one, in order.
        method: The method of the request this answers.
    """

    __slots__ = ("_exchange", "content", "head", "informational", "method")

    def __init__(
        self,
        exchange: Exchange,
        head: ResponseHead,
        content: StreamReader,
        informational: tuple[InformationalResponse, ...],
    ) -> None:
        self._exchange = exchange
        self.method = exchange.method
        self.head = head
        self.content = content
        self.informational = informational

    @property
    def status(self) -> int:
        """The status code of the final response."""
        return self.head.status

    @property
    def is_complete(self) -> bool:
        """True once the whole body arrived (and the connection went back to the pool)."""
        return self._exchange.phase is DONE

    def release(self) -> None:
        """Let go of the response once done with it, whether or not its body was read.

        When the whole body arrived the connection is already back in the pool and unread
        bytes stay readable in :attr:`content`. Otherwise the connection, whose state is
        then unknown, is closed, and reading :attr:`content` raises
        :class:`ClientConnectionError` (rather than wait for bytes that will never come).
        Idempotent.
        """
        self._exchange.abandon("released")

    def close(self) -> None:
        """Abandon the response: drop the connection unless the whole body already arrived.

        Unlike :meth:`release`, unread bytes of a whole body are discarded too: every later
        read of :attr:`content` raises :class:`ClientConnectionError`. Idempotent.
        """
        self.release()
        if self.content.exception() is None and not self.content.at_eof():
            self.content.set_exception(closed_error(self.method, "closed"))

    def __repr__(self) -> str:
        state = "complete" if self.is_complete else "receiving"
        return f"<RawResponse {self.method} {self.head.status} {self.head.reason!r} {state}>"


def doing(exchange: Exchange) -> str:
    """What the exchange was doing, for an error message."""
    if not exchange.sent:
        return "sending the request"
    if exchange.head is None:
        return "waiting for the response head"
    return "receiving the response body"


def disconnected(
    exchange: Exchange, exc: IncompleteMessageError | None, host: str | None, port: int | None
) -> ServerDisconnectedError:
    """The error for a server that closed before the response was complete."""
    stage: Literal["response", "head", "body"]
    if not exchange.received:
        stage = "response"
    elif exchange.head is None:
        stage = "head"
    else:
        stage = "body"
    received = expected = None
    if stage == "body":
        body = exchange.body
        received = body.reader.total_bytes if isinstance(body, ResponseBody) else 0
        head = exchange.head
        if head is not None and head.content_length is not None:
            expected = head.content_length
            if exc is not None and exc.received is not None and exchange.decode:
                received = exc.received  # the reader counts decoded bytes
    error = ServerDisconnectedError(
        stage,
        received=received,
        expected=expected,
        host=host,
        port=port,
        is_stale_connection=exchange.stale and not exchange.received,
    )
    if exc is not None:
        error.__cause__ = exc
    return error


def payload_error(
    exchange: Exchange, exc: BaseException, host: str | None, port: int | None
) -> ClientPayloadError:
    """The error for a malformed or undecodable body."""
    error = ClientPayloadError(
        f"invalid response body from {host_port(host, port)} for "
        f"{exchange.method} {strip_userinfo(exchange.url)}: {exc}",
        host=host,
        port=port,
    )
    error.__cause__ = exc
    return error
