"""One connection's exchange against real servers: framing, uploads, 100-continue, decoding,
early closes at every point, timeouts, and cancellation at every await point.

After each failure the pool must balance: the connection is closed and its slot free.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    BadResponseError,
    ClientOSError,
    ClientPayloadError,
    OutgoingRequest,
    PoolStats,
    RawResponse,
    ReadTimeoutError,
    ServerDisconnectedError,
    TCPConnector,
)
from httpwire.streams import BytesBody, StreamReader

from .conftest import StartServer, client_sockets

NO_HEADERS: CIMultiDict[str] = CIMultiDict()
EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)
IDLE_ONLY = PoolStats(connecting=0, in_use=0, idle=1, waiting=0)
MIB = 2**20


class GeneratedBody:
    """A Body of ``size`` bytes made on the fly, recording the transport's buffer size."""

    def __init__(self, size: int, piece: int = 64 * 1024, known_size: bool = True) -> None:
        self.total = size
        self.piece = piece
        self.known_size = known_size
        self.digest = hashlib.sha256()
        self.transport: asyncio.WriteTransport | None = None
        self.peak_buffer = 0

    @property
    def size(self) -> int | None:
        return self.total if self.known_size else None

    @property
    def reusable(self) -> bool:
        return False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        left = self.total
        block = bytes(range(256)) * (self.piece // 256)
        while left > 0:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            self.digest.update(piece)
            if self.transport is not None:
                self.peak_buffer = max(self.peak_buffer, self.transport.get_write_buffer_size())
            yield piece


async def send(
    connector: TCPConnector,
    url: str,
    method: str = "GET",
    headers: CIMultiDict[str] = NO_HEADERS,
    body: Any = None,
    **kwargs: Any,
) -> RawResponse:
    request = OutgoingRequest(method, URL(url), headers, body, **kwargs)
    conn = await connector.acquire(request)
    if isinstance(body, GeneratedBody):
        body.transport = conn.transport
    return await conn.send(request)


async def read_json(response: RawResponse) -> Any:
    try:
        return json.loads(await response.content.read())
    finally:
        response.release()


# -- requests and their framing ------------------------------------------------------------


async def test_small_bytes_body_is_sent_with_content_length(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        response = await send(
            connector, httpwire_server.url("/upload-digest"), "POST", body=b"hello"
        )
        got = await read_json(response)
        assert got["content_length"] == 5
        assert got["sha256"] == hashlib.sha256(b"hello").hexdigest()
        assert not got["chunked"]
        assert connector.stats() == IDLE_ONLY


async def test_body_of_unknown_size_is_chunked(httpwire_server: Any) -> None:
    body = GeneratedBody(300_000, known_size=False)
    async with TCPConnector() as connector:
        got = await read_json(
            await send(connector, httpwire_server.url("/upload-digest"), "POST", body=body)
        )
        assert got["chunked"]
        assert got["bytes"] == 300_000
        assert got["sha256"] == body.digest.hexdigest()
        assert connector.stats() == IDLE_ONLY


async def test_a_stream_reader_body_goes_out_in_its_fed_pieces_not_its_lines(
    httpwire_server: Any,
) -> None:
    # A StreamReader iterates by lines; as a body it must be sent in the pieces it was fed,
    # or text would leave as one HTTP chunk per line.
    data = b"line of text\n" * 1000
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    async with TCPConnector() as connector:
        got = await read_json(
            await send(connector, httpwire_server.url("/upload-digest"), "POST", body=reader)
        )
    assert (got["chunked"], got["bytes"], got["chunks"]) == (True, len(data), 1)
    assert got["sha256"] == hashlib.sha256(data).hexdigest()


async def test_chunked_can_be_forced_for_a_sized_body(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        got = await read_json(
            await send(
                connector,
                httpwire_server.url("/upload-digest"),
                "PUT",
                body=BytesBody(b"abc"),
                chunked=True,
            )
        )
        assert (got["chunked"], got["bytes"], got["transfer_encoding"]) == (True, 3, "chunked")


async def test_post_without_body_sends_content_length_zero(httpwire_server: Any) -> None:
    # RFC 9110 §8.6: a POST without content still says Content-Length: 0.
    async with TCPConnector() as connector:
        got = await read_json(await send(connector, httpwire_server.url("/upload-digest"), "POST"))
        assert (got["content_length"], got["bytes"]) == (0, 0)


async def test_host_header_comes_from_the_url_unless_given(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        got = await read_json(await send(connector, httpwire_server.url("/headers")))
        assert got["headers"]["Host"] == URL(httpwire_server.http_url).raw_authority
        given = CIMultiDict({"Host": "example.org", "X-Order": "kept"})
        got = await read_json(
            await send(connector, httpwire_server.url("/headers"), headers=given)
        )
        assert got["headers"]["Host"] == "example.org"
        assert got["headers"]["X-Order"] == "kept"


async def test_head_request_has_no_body(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        response = await send(connector, httpwire_server.url("/bytes/100"), "HEAD")
        assert response.head.headers["Content-Length"] == "100"
        assert await response.content.read() == b""
        response.release()
        assert connector.stats() == IDLE_ONLY


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"X-Bad": "a\r\nInjected: yes"}, None, "X-Bad"),
        ({"Content-Length": "3"}, b"abcd", "Content-Length 3 disagrees with the body's size of 4"),
        ({"Content-Length": "1", "Transfer-Encoding": "chunked"}, b"a", "RFC 9112 §6.2"),
        ({"Transfer-Encoding": "gzip"}, b"a", "does not end with chunked"),
    ],
)
async def test_invalid_request_is_refused_before_sending_and_the_connection_kept(
    httpwire_server: Any, headers: dict[str, str], body: bytes | None, message: str
) -> None:
    async with TCPConnector() as connector:
        await read_json(await send(connector, httpwire_server.url("/get")))
        with pytest.raises(ValueError, match=message):
            await send(connector, httpwire_server.url("/post"), "POST", CIMultiDict(headers), body)
        assert connector.stats() == IDLE_ONLY
        got = await read_json(await send(connector, httpwire_server.url("/connection-id")))
        assert got["requests"] == 2


async def test_a_connection_serves_one_request_per_loan(httpwire_server: Any) -> None:
    url = URL(httpwire_server.url("/get"))
    async with TCPConnector() as connector:
        conn = await connector.acquire(OutgoingRequest("GET", url))
        await read_json(await conn.send(OutgoingRequest("GET", url, NO_HEADERS)))
        with pytest.raises(RuntimeError, match="not lent out: acquire"):
            await conn.send(OutgoingRequest("GET", url, NO_HEADERS))
        assert connector.stats() == IDLE_ONLY


async def test_body_shorter_than_its_content_length_is_an_error(httpwire_server: Any) -> None:
    body = GeneratedBody(1000, known_size=False)
    async with TCPConnector() as connector:
        with pytest.raises(ValueError, match="ended after 1000 of its announced 2000 bytes"):
            await send(
                connector,
                httpwire_server.url("/upload-digest"),
                "POST",
                CIMultiDict({"Content-Length": "2000"}),
                body,
            )
        assert connector.stats() == EMPTY


# -- streaming with bounded memory -----------------------------------------------------------


def _reset_peak_rss() -> bool:
    """Reset this process's peak resident size (Linux), so VmHWM measures from now."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


async def _upload_bounded(httpwire_server: Any, size: int) -> None:
    body = GeneratedBody(size, piece=256 * 1024)
    measured = _reset_peak_rss()
    before = _peak_rss() if measured else 0
    async with TCPConnector() as connector:
        got = await read_json(
            await send(connector, httpwire_server.url("/upload-digest"), "POST", body=body)
        )
    if measured:
        # The whole process (the in-process server included) grew by far less than the body.
        assert _peak_rss() - before < 64 * MIB, _peak_rss() - before
    assert got["bytes"] == size
    assert got["sha256"] == body.digest.hexdigest()
    # The transport's buffer never held much more than its high-water mark plus a piece.
    assert body.peak_buffer <= 64 * 1024 + 2 * body.piece, body.peak_buffer


async def test_streaming_upload_keeps_the_write_buffer_bounded(httpwire_server: Any) -> None:
    await _upload_bounded(httpwire_server, 64 * MIB)


@pytest.mark.slow
async def test_two_gib_upload_keeps_the_write_buffer_bounded(httpwire_server: Any) -> None:
    await _upload_bounded(httpwire_server, 2048 * MIB)


async def test_download_pauses_the_socket_while_the_reader_is_full(httpwire_server: Any) -> None:
    size = 16 * MIB
    async with TCPConnector() as connector:
        response = await send(
            connector, httpwire_server.url(f"/stream-bytes/{size}?chunk_size=65536")
        )
        reader = response.content
        peak = received = 0
        while True:
            peak = max(peak, reader.buffered)
            piece = await reader.read(65536)
            if not piece:
                break
            received += len(piece)
            await asyncio.sleep(0)  # a consumer slower than the socket
        response.release()
        assert received == size
        assert peak <= reader.high_water + 256 * 1024, peak
        assert connector.stats() == IDLE_ONLY


# -- Expect: 100-continue ---------------------------------------------------------------------


async def test_expect_continue_sends_the_body_after_100(httpwire_server: Any) -> None:
    body = GeneratedBody(100_000)
    async with TCPConnector() as connector:
        response = await send(
            connector,
            httpwire_server.url("/upload-digest"),
            "POST",
            body=body,
            expect_continue=True,
        )
        assert [i.status for i in response.informational] == [100]
        got = await read_json(response)
        assert got["expect_continue"]
        assert got["sha256"] == body.digest.hexdigest()
        assert connector.stats() == IDLE_ONLY


async def test_expect_continue_with_a_bytes_body(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        response = await send(
            connector,
            httpwire_server.url("/upload-digest"),
            "POST",
            body=b"x" * 1000,
            expect_continue=True,
        )
        assert [i.status for i in response.informational] == [100]
        got = await read_json(response)
        assert (got["expect_continue"], got["bytes"]) == (True, 1000)


async def test_expect_continue_answered_early_sends_no_body(raw_server: StartServer) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 2\r\n\r\nno")
        received.append(await reader.read())  # whatever the client sends before it closes

    base = await raw_server(handler)
    body = GeneratedBody(100_000)
    async with TCPConnector() as connector:
        response = await send(
            connector, base + "/up", "POST", body=body, expect_continue=True, sock_read=5
        )
        assert response.status == 417
        assert await response.content.read() == b"no"
        response.release()
        assert connector.stats() == EMPTY  # the request was not whole: not reusable
        await asyncio.sleep(0.05)
    assert b"Expect: 100-continue" in received[0]
    assert received[1] == b""  # no byte of the body was sent


# -- content decoding --------------------------------------------------------------------------


async def test_gzip_body_is_decoded_when_asked(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        got = await read_json(await send(connector, httpwire_server.url("/gzip"), decode=True))
        assert got["gzipped"] is True
        raw = await send(connector, httpwire_server.url("/gzip"))
        data = await raw.content.read()
        raw.release()
        assert json.loads(gzip.decompress(data))["gzipped"] is True


async def test_gzip_bomb_decodes_with_bounded_buffering(httpwire_server: Any) -> None:
    size = 64 * MIB
    async with TCPConnector() as connector:
        response = await send(
            connector, httpwire_server.url(f"/fault/gzip-bomb?size={size}"), decode=True
        )
        reader = response.content
        total = peak = 0
        while True:
            peak = max(peak, reader.buffered)
            piece = await reader.read(1 * MIB)
            if not piece:
                break
            total += len(piece)
            await asyncio.sleep(0)
        response.release()
    assert total == size
    assert peak <= reader.high_water + 2 * 65536, peak


# -- early closes and malformed responses -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        (
            "/fault/close-mid-headers",
            ServerDisconnectedError,
            "disconnected in the middle of the response head for GET",
        ),
        (
            "/fault/reset?after=request",
            ClientOSError,
            "failed while waiting for the response head for GET .*: Connection reset by peer",
        ),
        ("/fault/cl-and-te", BadResponseError, r"both Transfer-Encoding .* Content-Length"),
        ("/fault/huge-header?size=20000", BadResponseError, "longer than max_field_size=8190"),
        ("/fault/bad-chunk-size", ClientPayloadError, r"chunk size b'zz' is not hex"),
    ],
)
async def test_broken_head_is_a_clear_error(
    httpwire_server: Any, path: str, error: type[Exception], message: str
) -> None:
    async with TCPConnector() as connector:
        with pytest.raises(error, match=message) as info:
            await send(connector, httpwire_server.url(path))
        assert connector.stats() == EMPTY
    assert not getattr(info.value, "is_stale_connection", False)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        (
            "/fault/close-mid-body?length=1000&sent=100",
            ServerDisconnectedError,
            "disconnected after 100 of 1000 body bytes for GET",
        ),
        (
            "/fault/close-mid-chunked?chunks=2",
            ServerDisconnectedError,
            "disconnected after 16 body bytes, before the end of the chunked body",
        ),
        (
            "/fault/reset?after=body",
            ClientOSError,
            "failed while receiving the response body .*Connection reset by peer",
        ),
    ],
)
async def test_body_cut_short_is_an_error_never_a_short_body(
    httpwire_server: Any, path: str, error: type[Exception], message: str
) -> None:
    async with TCPConnector() as connector:
        response = await send(connector, httpwire_server.url(path))
        with pytest.raises(error, match=message):
            await response.content.read()
        response.release()
        assert connector.stats() == EMPTY


async def test_body_cut_short_in_a_later_piece(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"def")
        await writer.drain()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        assert await response.content.readexactly(3) == b"abc"
        with pytest.raises(ServerDisconnectedError, match="after 6 of 10 body bytes") as info:
            await response.content.read()
        assert info.value.received == 6
        assert info.value.expected == 10
        response.release()


async def test_body_read_until_close_ends_normally(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        assert await response.content.read() == b"all of it"
        response.release()
        assert response.is_complete
        assert connector.stats() == EMPTY


# -- timeouts ----------------------------------------------------------------------------------


async def test_sock_read_timeout_waiting_for_the_head(httpwire_server: Any) -> None:
    url = httpwire_server.url("/fault/stall")
    async with TCPConnector() as connector:
        with pytest.raises(ReadTimeoutError) as info:
            await send(connector, url, sock_read=0.2)
        assert connector.stats() == EMPTY
    assert isinstance(info.value, asyncio.TimeoutError)
    assert str(info.value) == (
        f"no bytes received from 127.0.0.1:{URL(url).port} for 0.2 s while waiting for "
        f"the response head for GET {url} (sock_read timeout)"
    )


async def test_sock_read_timeout_in_the_body(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        response = await send(
            connector, httpwire_server.url("/fault/stall?after=head"), sock_read=0.2
        )
        with pytest.raises(ReadTimeoutError, match="while waiting for the response body"):
            await response.content.read()
        response.release()
        assert connector.stats() == EMPTY


async def test_sock_read_is_an_idle_timeout_not_a_total(httpwire_server: Any) -> None:
    # Eight pieces 0.1 s apart take longer than sock_read, but no gap does.
    url = httpwire_server.url("/slow-stream?chunks=8&interval=0.1&size=10")
    async with TCPConnector() as connector:
        response = await send(connector, url, sock_read=0.35)
        assert len(await response.content.read()) == 80
        response.release()
        assert connector.stats() == IDLE_ONLY


# -- cancellation at every await point ---------------------------------------------------------


async def _cancel_after(delay: float, coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(delay)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancel_while_waiting_for_a_slot(httpwire_server: Any) -> None:
    url = URL(httpwire_server.url("/get"))
    async with TCPConnector(limit=1) as connector:
        held = await connector.acquire(OutgoingRequest("GET", url))
        await _cancel_after(0.05, connector.acquire(OutgoingRequest("GET", url)))
        assert connector.stats() == PoolStats(connecting=0, in_use=1, idle=0, waiting=0)
        held.release()
        assert connector.stats() == IDLE_ONLY


async def test_cancel_while_connecting(unaccepting_port: int) -> None:
    url = URL(f"http://127.0.0.1:{unaccepting_port}/")
    before = client_sockets(unaccepting_port)  # the sockets that fill the accept queue
    async with TCPConnector() as connector:
        await _cancel_after(0.1, connector.acquire(OutgoingRequest("GET", url)))
        assert connector.stats() == EMPTY
    assert client_sockets(unaccepting_port) == before


async def test_cancel_while_writing_the_body(raw_server: StartServer) -> None:
    done = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()  # never reads: the client's writes back up

    base = await raw_server(handler)
    body = GeneratedBody(512 * MIB, known_size=False)
    async with TCPConnector() as connector:
        await _cancel_after(0.3, send(connector, base + "/", "POST", body=body))
        assert connector.stats() == EMPTY
        assert client_sockets(URL(base).port or 80) == 0
    done.set()


async def test_cancel_while_waiting_for_the_head(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        await _cancel_after(0.1, send(connector, httpwire_server.url("/fault/stall")))
        assert connector.stats() == EMPTY


async def test_cancel_while_reading_the_body(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        response = await send(connector, httpwire_server.url("/slow-stream?chunks=3&interval=1"))
        assert await response.content.read(16) == b"a" * 16
        await _cancel_after(0.1, response.content.read(16))
        assert connector.stats().in_use == 1
        response.release()
        assert connector.stats() == EMPTY
        # The pool still works.
        await read_json(await send(connector, httpwire_server.url("/get")))
        assert connector.stats() == IDLE_ONLY


async def test_wait_for_timeout_around_a_request_leaves_the_pool_balanced(
    httpwire_server: Any,
) -> None:
    async with TCPConnector(limit=1) as connector:
        for delay in (0.0, 0.001, 0.01, 0.05):
            try:
                response = await asyncio.wait_for(
                    send(connector, httpwire_server.url("/delay/0.02")), delay
                )
            except TimeoutError:
                pass
            else:
                response.release()
            stats = connector.stats()
            assert stats.in_use == 0 and stats.connecting == 0 and stats.waiting == 0, stats


async def test_shorter_sock_read_on_a_reused_connection_fires_in_time(
    httpwire_server: Any,
) -> None:
    async with TCPConnector() as connector:
        await read_json(await send(connector, httpwire_server.url("/get"), sock_read=60))
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ReadTimeoutError):
            await send(connector, httpwire_server.url("/fault/stall"), sock_read=0.2)
        assert loop.time() - started < 5


async def test_early_answer_stops_an_upload_the_server_does_not_read(
    raw_server: StartServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig")
        await writer.drain()
        await asyncio.sleep(1)  # reads nothing more while the client would be uploading

    base = await raw_server(handler)
    body = GeneratedBody(256 * MIB, known_size=True)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/", "POST", body=body)
        assert response.status == 413
        assert await response.content.read() == b"big"
        response.release()
        assert connector.stats() == EMPTY  # the request was cut short: not reusable


async def test_bytes_after_the_response_make_the_connection_unusable(
    raw_server: StartServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        # An unrequested second response rides along with the first.
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        )
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        assert await response.content.read() == b"ok"
        response.release()
        assert connector.stats() == EMPTY


async def test_readchunk_keeps_the_servers_chunks(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        chunks = [await response.content.readchunk() for _ in range(3)]
        response.release()
    assert chunks == [(b"hello", True), (b" world", True), (b"", False)]
