"""What a handler sees and returns: the request, its streamed body, and the responses.

The connection code (``_server.py``) builds a :class:`Request` per exchange and
hands it to the application; the application answers with a :class:`Response`
(a whole or streamed body, framed by the connection) or a :class:`RawResponse`
(bytes written as they are, for the fault endpoints; the connection always ends
after one). Request bodies are pulled from the connection on demand, so an
endpoint that never reads the body never buffers it, and one that iterates over
it holds one piece at a time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlsplit

from httpwire.parser import EndOfMessage, HttpVersion, RequestHead

if TYPE_CHECKING:
    # multidict comes with httpwire-parser; this distribution names no other dependency.
    from multidict import CIMultiDict

__all__ = [
    "BodySource",
    "ConnectionInfo",
    "RawResponse",
    "RawWriter",
    "Request",
    "RequestBodyTooLargeError",
    "Response",
    "json_response",
]


class RequestBodyTooLargeError(Exception):
    """A handler asked to buffer a request body bigger than its limit (answered with 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes; stream it to /upload-digest")
        self.limit = limit


@dataclass
class ConnectionInfo:
    """Facts about the connection a request came on.

    Attributes:
        id: A number unique to this connection within the server's life.
        scheme: ``"http"`` or ``"https"``.
        transport: ``"tcp"`` or ``"unix"``.
        peer: The client's address (``"127.0.0.1"``, ``"::1"``; ``""`` on a Unix socket).
        local_port: The server port the connection reached (``None`` on a Unix socket).
        requests: How many requests this connection has carried so far, this one included.
    """

    id: int
    scheme: str
    transport: str
    peer: str
    local_port: int | None
    requests: int = 0


class BodySource(Protocol):
    """Where a request's body events come from (the connection)."""

    async def next_body_event(self) -> bytes | EndOfMessage | object:
        """Return the next body piece, chunk marker or :class:`EndOfMessage`."""

    async def send_continue(self) -> None:
        """Write ``100 Continue`` (the client sent ``Expect: 100-continue``)."""


class Request:
    """One request as the application sees it.

    Attributes:
        head: The parsed request head.
        method: The method, as sent (case-sensitive).
        target: The request target, as sent.
        path: The path of the target (absolute-form targets included).
        query: The raw query string (without ``?``).
        args: The decoded query parameters in order, blanks kept.
        headers: The request's fields.
        version: The request's HTTP version.
        connection: Facts about the connection.
        trailers: The trailer fields of a chunked body, once the body was read to its end.
        chunks: How many chunks a chunked body had, once it was read.
        body_size: Bytes of body read so far.
    """

    def __init__(self, head: RequestHead, connection: ConnectionInfo, source: BodySource) -> None:
        self.head = head
        self.method = head.method
        self.target = head.target
        split = urlsplit(head.target)
        self.path = split.path or "/"
        self.query = split.query
        self.args: list[tuple[str, str]] = parse_qsl(self.query, keep_blank_values=True)
        self.headers: CIMultiDict[str] = head.headers
        self.version: HttpVersion = head.version
        self.connection = connection
        self.trailers: CIMultiDict[str] | None = None
        self.chunks = 0
        self.body_size = 0
        self.body_complete = False
        self._source = source
        self._continued = False

    @property
    def continued(self) -> bool:
        """Whether ``100 Continue`` was sent for this request."""
        return self._continued

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first query parameter ``name``, or ``default``."""
        for key, value in self.args:
            if key == name:
                return value
        return default

    def int_arg(self, name: str, default: int, *, low: int = 0, high: int = 2**62) -> int:
        """Return query parameter ``name`` as an int clamped to ``[low, high]``.

        Raises:
            ValueError: The parameter is not an integer.
        """
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        return min(max(int(raw), low), high)

    def float_arg(
        self, name: str, default: float, *, low: float = 0.0, high: float = 3600.0
    ) -> float:
        """Return query parameter ``name`` as a float clamped to ``[low, high]``.

        Raises:
            ValueError: The parameter is not a number.
        """
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        return min(max(float(raw), low), high)

    def host(self) -> str:
        """The authority the client addressed: ``Host``, else the absolute target's."""
        split = urlsplit(self.target)
        if split.netloc:
            return split.netloc
        return self.headers.get("Host", "localhost")

    def url(self) -> str:
        """The full URL of the request, as httpbin reports it."""
        split = urlsplit(self.target)
        if split.scheme and split.netloc:
            return self.target
        return f"{self.connection.scheme}://{self.host()}{self.target}"

    async def iter_body(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, one piece at a time (never buffered whole)."""
        if self.body_complete:
            return
        if self.head.expect_continue and not self._continued:
            self._continued = True
            await self._source.send_continue()
        while True:
            event = await self._source.next_body_event()
            if isinstance(event, bytes):
                self.body_size += len(event)
                yield event
            elif isinstance(event, EndOfMessage):
                self.trailers = event.trailers
                self.body_complete = True
                return
            else:  # the end of one chunk of a chunked body
                self.chunks += 1

    async def read(self, limit: int = 64 * 2**20) -> bytes:
        """Return the whole body.

        Raises:
            RequestBodyTooLargeError: The body is longer than ``limit``.
        """
        if self.head.content_length is not None and self.head.content_length > limit:
            raise RequestBodyTooLargeError(limit)
        pieces: list[bytes] = []
        size = 0
        async for piece in self.iter_body():
            size += len(piece)
            if size > limit:
                raise RequestBodyTooLargeError(limit)
            pieces.append(piece)
        return b"".join(pieces)


@dataclass
class Response:
    """A response whose framing the connection decides.

    Attributes:
        status: The status code.
        headers: Fields in order; the connection adds ``Content-Length`` or
            ``Transfer-Encoding``, ``Connection`` and ``Date`` unless given here.
        body: The whole body, or an async iterable of pieces (sent chunked unless
            ``content_length`` is set).
        content_length: The length of an iterable body when known in advance.
        reason: The reason phrase (the standard one when ``None``).
        close: Close the connection after this response.
        trailers: Trailer fields to send after a chunked body.
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""
    content_length: int | None = None
    reason: str | None = None
    close: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)


class RawWriter:
    """Raw access to a connection, for handlers that must break the protocol on purpose."""

    def __init__(self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader) -> None:
        self._writer = writer
        self._reader = reader

    async def write(self, data: bytes) -> None:
        """Write bytes as they are, and wait until the transport accepted them."""
        self._writer.write(data)
        await self._writer.drain()

    async def wait_closed_by_peer(self) -> None:
        """Wait until the client closes its side (what a stalled server does)."""
        while await self._reader.read(65536):
            pass

    def reset(self) -> None:
        """Abort the connection so the client sees a TCP RST (``SO_LINGER`` with timeout 0)."""
        sock = self._writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()


@dataclass
class RawResponse:
    """A handler that writes the response itself; the connection ends after it.

    Attributes:
        action: Called with a :class:`RawWriter`; what it writes goes out untouched.
        read_body: Read (and discard) the request body before calling ``action``.
    """

    action: Callable[[RawWriter], Awaitable[None]]
    read_body: bool = True


def json_response(
    data: object, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """A JSON response pretty-printed the way httpbin prints it."""
    body = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    return Response(status, [("Content-Type", "application/json"), *headers], body)
