"""The state of one request/response exchange, and the errors that describe its failures."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Literal

from yarl import URL

from httpwire.parser import (
    ContentDecoder,
    EndOfMessage,
    IncompleteMessageError,
    InformationalResponse,
    ResponseHead,
)
from httpwire.streams import StreamReader

from ._errors import ClientPayloadError, ServerDisconnectedError
from ._response import RawResponse
from ._util import host_port, strip_userinfo

if TYPE_CHECKING:
    from ._feeding import ResponseFeeder

__all__ = ["Exchange", "disconnected", "doing", "payload_error"]


# A shared empty queue for exchanges that do not decode (a real one is made with a decoder).
_NO_INPUT: deque[bytes] = deque(maxlen=0)


class Exchange:
    """The state of the one request/response in progress on a connection.

    It is also the producer of the response's reader, so that a reader outliving its
    response (the body was read after the connection went back to the pool) can never
    pause or resume the connection's next exchange.
    """

    __slots__ = (
        "conn",
        "decoder",
        "end",
        "head",
        "held",
        "informational",
        "interim_bytes",
        "method",
        "reader",
        "received",
        "response",
        "reusable",
        "sending",
        "stale",
        "upload_done",
        "url",
        "waiter",
    )

    def __init__(
        self, conn: ResponseFeeder, method: str, url: URL, waiter: asyncio.Future[RawResponse]
    ) -> None:
        self.conn = conn
        self.method = method
        self.url = url
        self.waiter = waiter
        self.head: ResponseHead | None = None
        self.reader: StreamReader | None = None
        self.response: RawResponse | None = None
        self.decoder: ContentDecoder | None = None
        self.end: EndOfMessage | None = None  # an end held back until decoding catches up
        self.held: deque[bytes] = _NO_INPUT  # compressed input waiting while the reader is full
        self.informational: list[InformationalResponse] = []
        self.interim_bytes = 0  # the size of the interim responses, roughly as received
        self.received = False  # any byte of the response arrived
        self.upload_done = False  # the whole request was written
        self.sending = False  # the body is being written
        self.reusable = True
        self.stale = False

    def pause_reading(self) -> None:
        conn = self.conn
        if conn._exchange is self:
            conn.pause_reading()

    def resume_reading(self) -> None:
        conn = self.conn
        if conn._exchange is self:
            conn.resume_reading()


def doing(exchange: Exchange) -> str:
    """What the exchange was doing, for an error message."""
    if not exchange.upload_done:
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
        reader = exchange.reader
        received = reader.total_bytes if reader is not None else 0
        head = exchange.head
        if head is not None and head.content_length is not None:
            expected = head.content_length
            if exc is not None and exc.received is not None and exchange.decoder is not None:
                received = exc.received  # the reader counts decoded bytes
    error = ServerDisconnectedError(
        stage,
        received=received,
        expected=expected,
        method=exchange.method,
        url=exchange.url,
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
        method=exchange.method,
        url=exchange.url,
    )
    error.__cause__ = exc
    return error
