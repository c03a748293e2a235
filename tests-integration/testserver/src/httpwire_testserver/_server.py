"""The asyncio side: one task per connection, parsing with ``httpwire.parser`` alone.

Strategy: each connection reads whatever the socket has (up to 1 MiB), feeds
it to a :class:`~httpwire.parser.RequestParser` and keeps the events in a
queue. The connection loop pops a request head, lets the application answer,
and pulls body events from the same queue only when the handler asks for them,
so bodies stream with the socket's own flow control and memory stays bounded
whatever their size. Leftover events of pipelined requests simply wait in the
queue. Responses are framed here: ``Content-Length`` for whole bodies,
chunked (``ChunkedEncoder``) for streamed ones, read-until-close for HTTP/1.0.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncIterable
from http import HTTPStatus

from httpwire.parser import (
    HTTP10,
    HTTP11,
    ChunkedEncoder,
    HttpParserError,
    IncompleteMessageError,
    LimitExceededError,
    LineTooLongError,
    RequestHead,
    RequestParser,
    serialize_response_head,
)

from ._app import App, error_response
from ._http import ConnectionInfo, RawResponse, RawWriter, Request, Response

__all__ = ["HttpServer"]

_READ_SIZE = 2**20
_DRAIN_LIMIT = 2**20  # unread request body bytes drained to keep a connection alive
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 16 * 2**20
_SERVER = "httpwire-testserver"


class _ClientGoneError(Exception):
    """The client closed the connection between requests."""


class _Connection:
    def __init__(
        self,
        app: App,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        info: ConnectionInfo,
        idle_timeout: float | None,
    ) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.reader = reader
        self.writer = writer
        self.info = info
        self.parser = RequestParser(
            max_line_size=65536,
            max_field_size=65536,
            max_headers=256,
            max_head_size=2**20,
            mark_chunks=True,
        )
        self.events: deque[object] = deque()
        self.eof = False
        self.responded = False  # whether any byte of the current response went out

    # -- the event queue -------------------------------------------------------

    async def next_event(self) -> object:
        while not self.events:
            if self.eof:
                raise _ClientGoneError
            data = await self.reader.read(_READ_SIZE)
            if data:
                self.events.extend(self.parser.feed(data))
            else:
                self.eof = True
                self.events.extend(self.parser.feed_eof())
        return self.events.popleft()

    async def next_body_event(self) -> object:
        try:
            return await self.next_event()
        except _ClientGoneError:  # feed_eof() raised nothing, so no message was open
            raise IncompleteMessageError("connection closed during a request body") from None

    async def send_continue(self) -> None:
        self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await self.writer.drain()

    # -- the exchange loop -----------------------------------------------------

    async def run(self) -> None:
        try:
            while True:
                try:
                    if self.idle_timeout is not None and not self.events:
                        head = await asyncio.wait_for(self.next_event(), self.idle_timeout)
                    else:
                        head = await self.next_event()
                except (TimeoutError, _ClientGoneError):
                    return  # closed by the client, or idle too long between requests
                assert isinstance(head, RequestHead), head
                self.info.requests += 1
                self.responded = False
                request = Request(head, self.info, self)
                if head.method == "CONNECT":
                    await self.send(request, error_response(405, "this server is no proxy"), True)
                    return
                answer = await self.app.handle(request)
                if isinstance(answer, RawResponse):
                    await self.raw(request, answer)
                    return
                if not await self.finish(request, answer):
                    return
        except HttpParserError as exc:
            if not self.responded and not isinstance(exc, IncompleteMessageError):
                await self.reject(exc)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    async def reject(self, exc: HttpParserError) -> None:
        if isinstance(exc, LineTooLongError) and not self.info.requests:
            status = 414
        elif isinstance(exc, LimitExceededError):
            status = 431
        else:
            status = 400
        body = f"{status} {HTTPStatus(status).phrase}: {exc}\n".encode()
        head = serialize_response_head(
            status,
            HTTPStatus(status).phrase,
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
            ],
        )
        with contextlib.suppress(ConnectionError):
            self.writer.write(head + body)
            await self.writer.drain()
            await self.linger()  # the rest of the bad request must not turn our answer into a RST

    async def raw(self, request: Request, answer: RawResponse) -> None:
        if answer.read_body:
            async for _ in request.iter_body():
                pass
        self.responded = True
        await answer.action(RawWriter(self.writer, self.reader))

    async def finish(self, request: Request, response: Response) -> bool:
        """Send the response; return whether the connection stays open."""
        close = response.close or request.head.should_close or request.head.upgrade
        linger = False
        if not request.body_complete:
            head = request.head
            left = None if head.content_length is None else head.content_length - request.body_size
            if (
                close
                or (head.expect_continue and not request.continued)  # the body may never come
                or (left is not None and left > _DRAIN_LIMIT)
            ):
                close = linger = True
            else:
                drained = 0
                async for piece in request.iter_body():
                    drained += len(piece)
                    if drained > _DRAIN_LIMIT:
                        close = linger = True
                        break
        await self.send(request, response, close)
        if linger:
            await self.linger()
        return not close

    async def linger(self) -> None:
        """Read and drop what the client still sends, so closing does not reset our answer."""
        if self.writer.can_write_eof():
            self.writer.write_eof()
        deadline = time.monotonic() + _LINGER_SECONDS
        received = 0
        with contextlib.suppress(TimeoutError, ConnectionError, asyncio.TimeoutError):
            while received < _LINGER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                data = await asyncio.wait_for(self.reader.read(_READ_SIZE), left)
                if not data:
                    break
                received += len(data)

    async def send(self, request: Request, response: Response, close: bool) -> None:
        status = response.status
        reason = response.reason
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        fields = list(response.headers)
        names = {name.lower() for name, _ in fields}
        bodiless_status = status in (204, 304) or 100 <= status < 200
        no_body = request.method == "HEAD" or bodiless_status
        body = response.body
        chunked = False
        if isinstance(body, bytes):
            if "content-length" not in names and not bodiless_status:
                fields.append(("Content-Length", str(len(body))))
        elif response.content_length is not None:
            if "content-length" not in names:
                fields.append(("Content-Length", str(response.content_length)))
        elif no_body:
            pass
        elif request.version >= HTTP11:
            fields.append(("Transfer-Encoding", "chunked"))
            chunked = True
        else:
            close = True  # an HTTP/1.0 client reads such a body until the connection closes
        if close:
            fields.append(("Connection", "close"))
        elif request.version == HTTP10:
            fields.append(("Connection", "keep-alive"))
        if "date" not in names:
            fields.append(("Date", _http_date()))
        if "server" not in names:
            fields.append(("Server", _SERVER))
        head = serialize_response_head(status, reason, fields)
        self.responded = True
        if no_body:
            self.writer.write(head)
            await self.writer.drain()
        elif isinstance(body, bytes):
            self.writer.write(head + body)
            await self.writer.drain()
        else:
            self.writer.write(head)
            await self._stream(body, chunked, response.trailers)
        if close and self.writer.can_write_eof():
            self.writer.write_eof()
        if no_body and not isinstance(body, bytes):
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _stream(
        self, body: AsyncIterable[bytes], chunked: bool, trailers: list[tuple[str, str]]
    ) -> None:
        encoder = ChunkedEncoder() if chunked else None
        async for piece in body:
            if not piece:
                continue
            self.writer.write(encoder.encode(piece) if encoder else piece)
            await self.writer.drain()
        if encoder is not None:
            self.writer.write(encoder.finish(trailers or None))
        await self.writer.drain()


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


class HttpServer:
    """Serves one :class:`App` on listening sockets, inside the running event loop.

    Args:
        app: The application.
        idle_timeout: Close a keep-alive connection after this many seconds
            without a new request (``None``: keep it until the client closes).
    """

    def __init__(self, app: App, *, idle_timeout: float | None = None) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self._ids = itertools.count(1)
        self._servers: list[asyncio.Server] = []
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def serve(self, sock: socket.socket, *, tls: ssl.SSLContext | None = None) -> None:
        """Start accepting connections on a listening socket (TCP or Unix)."""
        scheme = "https" if tls is not None else "http"
        transport = "unix" if sock.family == socket.AF_UNIX else "tcp"
        local_port = None if transport == "unix" else int(sock.getsockname()[1])

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections[task] = writer
            try:
                peer = writer.get_extra_info("peername")
                host = peer[0] if isinstance(peer, tuple) else ""
                info = ConnectionInfo(next(self._ids), scheme, transport, host, local_port)
                sock_ = writer.get_extra_info("socket")
                if transport == "tcp" and sock_ is not None:
                    sock_.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await _Connection(self.app, reader, writer, info, self.idle_timeout).run()
            except asyncio.CancelledError:
                pass  # only close() cancels a connection: the server is going away
            finally:
                del self._connections[task]

        if transport == "unix":
            server = await asyncio.start_unix_server(
                connected, sock=sock, limit=_READ_SIZE, ssl=tls
            )
        else:
            server = await asyncio.start_server(
                connected,
                sock=sock,
                limit=_READ_SIZE,
                ssl=tls,
                ssl_handshake_timeout=10.0 if tls is not None else None,
            )
        self._servers.append(server)

    async def close(self) -> None:
        """Stop listening and end every connection."""
        for server in self._servers:
            server.close()
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5.0)
        self._servers.clear()
