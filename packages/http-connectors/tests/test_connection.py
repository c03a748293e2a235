"""One connection's exchange against real servers: framing, uploads, 100-continue, decoding,
early closes at every point, timeouts, and cancellation at every await point.

After each failure the pool must balance: the connection is closed and its slot free.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import random
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
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
from httpwire.connectors._exchange import BODY_HIGH_WATER
from httpwire.connectors._protocol import FIRST_READ, PIECE, READ_SIZE
from httpwire.connectors._sender import SLICE
from httpwire.streams import BytesBody, StreamReader
from httpwire_testserver import StartServer

from .conftest import client_sockets

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
    headers: CIMultiDict[str] | CIMultiDictProxy[str] = NO_HEADERS,
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


async def test_a_repeated_request_follows_every_change_of_its_headers(
    raw_server: StartServer,
) -> None:
    # The head of a repeated bodiless request is remembered while its read-only headers stay
    # as they are: a change of their dict, another URL or another target is sent as such,
    # and a head carrying credentials is built anew every time (never kept).
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            heads.append(head)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    base = URL(await raw_server(handler))
    fields = CIMultiDict({"Accept": "*/*"})
    view = CIMultiDictProxy(fields)

    async def get(url: URL, target: str | None = None) -> None:
        response = await send(connector, str(url), headers=view, target=target)
        assert await response.content.read() == b""
        response.release()

    async with TCPConnector() as connector:
        await get(base)
        await get(base)
        fields["X-Changed"] = "1"
        await get(base)
        await get(base.with_path("/other"))
        await get(base, target="*")
        fields["Authorization"] = "Bearer s3cret"
        await get(base)
        fields["Authorization"] = "Bearer t0ken"
        await get(base)
    lines = [head.split(b"\r\n")[:-2] for head in heads]
    assert lines[0] == lines[1] and b"X-Changed: 1" not in lines[1]
    assert b"X-Changed: 1" in lines[2]
    assert lines[3][0] == b"GET /other HTTP/1.1"
    assert lines[4][0] == b"GET * HTTP/1.1"
    assert b"Authorization: Bearer s3cret" in lines[5]
    assert b"Authorization: Bearer t0ken" in lines[6]
    from httpwire.connectors import _request

    assert not any(b"s3cret" in head or b"t0ken" in head for head in _request._HEADS.values())


async def test_host_is_sent_as_the_first_field_rfc9110_7_2(raw_server: StartServer) -> None:
    # RFC 9110 §7.2: a user agent that sends Host SHOULD send it as the first field line;
    # framing fields the connection adds come after the caller's.
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            heads.append(head)
            length = next(
                (
                    int(line[15:])
                    for line in head.split(b"\r\n")
                    if line.startswith(b"Content-Length:")
                ),
                0,
            )
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    base = await raw_server(handler)
    headers = CIMultiDict({"Accept": "*/*", "X-Order": "kept"})
    async with TCPConnector() as connector:
        for method, body in (("GET", None), ("POST", b"xy")):
            response = await send(connector, base, method, headers=headers, body=body)
            assert await response.content.read() == b""
            response.release()
    host = URL(base).raw_authority.encode()
    assert heads[0].split(b"\r\n")[1:4] == [b"Host: " + host, b"Accept: */*", b"X-Order: kept"]
    assert heads[1].split(b"\r\n")[1:5] == [
        b"Host: " + host,
        b"Accept: */*",
        b"X-Order: kept",
        b"Content-Length: 2",
    ]


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


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "POST"])
@pytest.mark.parametrize(
    "field",
    [("Content-Length", "5"), ("Transfer-Encoding", "chunked"), ("content-length", "\u0663")],
)
@pytest.mark.parametrize("mapping", [dict, CIMultiDict])
async def test_framing_fields_on_a_request_without_a_body_are_refused_rfc9112_6(
    httpwire_server: Any, method: str, field: tuple[str, str], mapping: type[Any]
) -> None:
    """Sent as is, a body-less request announcing a body desyncs the connection: the server
    reads the next request as this one's body (RFC 9112 §6.1-6.3). Refused before a byte is
    written, on every path, and the connection stays usable."""
    async with TCPConnector() as connector:
        await read_json(await send(connector, httpwire_server.url("/get")))
        with pytest.raises(ValueError, match="without a body cannot carry") as info:
            await send(connector, httpwire_server.url("/anything"), method, mapping([field]))
        assert "RFC 9112 §6." in str(info.value)
        assert connector.stats() == IDLE_ONLY
        got = await read_json(await send(connector, httpwire_server.url("/connection-id")))
        assert got["requests"] == 2


async def test_content_length_needs_ascii_digits(httpwire_server: Any) -> None:
    """'\u0663' (ARABIC-INDIC DIGIT THREE) passes str.isdigit() and int(): not a length."""
    async with TCPConnector() as connector:
        headers = CIMultiDict({"Content-Length": "\u0663"})
        with pytest.raises(ValueError, match="ASCII digits only"):
            await send(connector, httpwire_server.url("/post"), "POST", headers, b"abc")
        assert connector.stats() == IDLE_ONLY


@pytest.mark.parametrize("name", ["Authorization", "Proxy-Authorization", "Cookie"])
async def test_a_refused_secret_field_is_named_never_quoted(
    httpwire_server: Any, name: str
) -> None:
    async with TCPConnector() as connector:
        headers = CIMultiDict({name: "Bearer s3cret-token\n"})
        with pytest.raises(ValueError, match=f"header '{name}' has a value with LF") as info:
            await send(connector, httpwire_server.url("/get"), "GET", headers)
        for error in (info.value, info.value.__context__, info.value.__cause__):
            assert error is None or "s3cret" not in str(error)


async def test_errors_keep_the_url_without_its_credentials(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")

    base = URL(await raw_server(handler))
    async with TCPConnector() as connector:
        url = base.with_user("user").with_password("s3cret")
        response = await send(connector, str(url))
        with pytest.raises(ServerDisconnectedError) as info:
            await response.content.read()
        assert info.value.url == base.with_path("/")
        assert "s3cret" not in str(info.value) and "s3cret" not in repr(info.value.url)


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


async def test_a_large_in_memory_body_goes_out_in_slices_in_bounded_memory(
    httpwire_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100 MiB ``bytes`` body is never handed whole to the transport, which would copy
    what the socket did not take at once (and the head joined to it, a third copy): it
    goes out in slices, with back-pressure. Counted: the process's peak memory and the
    size of each write, never the time."""
    size = 100 * MIB
    body = bytes(range(256)) * (size // 256)
    async with TCPConnector() as connector:
        url = URL(httpwire_server.url("/upload-digest"))
        request = OutgoingRequest("POST", url, NO_HEADERS, body)
        conn = await connector.acquire(request)
        transport = conn.transport
        assert transport is not None
        writes: list[int] = []
        write = transport.write

        def counted(data: bytes | bytearray | memoryview) -> None:
            writes.append(len(data))
            write(data)

        try:
            monkeypatch.setattr(transport, "write", counted)
        except AttributeError:  # uvloop's transports take no attributes: memory only
            pass
        measured = _reset_peak_rss()
        before = _peak_rss() if measured else 0
        got = await read_json(await conn.send(request))
        grown = _peak_rss() - before
    assert got["bytes"] == size
    assert got["sha256"] == hashlib.sha256(body).hexdigest()
    if measured:
        # The whole process (the in-process server included) grew by far less than the body.
        assert grown < 16 * MIB, grown / MIB
    if writes:
        assert sum(writes) > size
        assert max(writes) <= SLICE + 1024, max(writes)  # a slice, and the head with it


async def test_idle_pooled_connections_hold_no_receive_buffer_of_their_own(
    httpwire_server: Any,
) -> None:
    """Reads land in one buffer per thread, copied out at once: an idle pooled connection
    keeps no receive buffer. Counted with tracemalloc, in this package's own files (the
    in-process server's allocations left out)."""
    count = 40
    url = httpwire_server.url("/bytes/10")
    async with TCPConnector(total_limit=None) as connector:
        response = await send(connector, url)  # the thread's buffer exists from here on
        await response.content.read()
        response.release()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            request = OutgoingRequest("GET", URL(url))
            conns = [await connector.acquire(request) for _ in range(count)]
            responses = await asyncio.gather(*(conn.send(request) for conn in conns))
            for response in responses:
                await response.content.read()
                response.release()
            assert connector.stats().idle == count
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    ours = [tracemalloc.Filter(True, "*/httpwire/connectors/*")]
    grown = sum(
        stat.size_diff
        for stat in after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
    )
    assert grown / count < 8 * 1024, grown / count  # a 64 KiB buffer each, before


async def test_reads_are_64_kib_until_a_body_streams_then_1_mib(raw_server: StartServer) -> None:
    """The first read of a response brings in at most 64 KiB, so on the default loop (one
    read per socket per turn) a response with a larger body is never complete when its head
    is handed out, whatever the buffer; once its body streams, reads bring in up to 1 MiB,
    and the next response starts small again. (uvloop reads on in the same turn.)"""
    body = b"x" * (100 * 1024)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL(base))
        conn = await connector.acquire(request)
        protocol = conn.protocol
        assert len(protocol.get_buffer(-1)) == FIRST_READ
        response = await conn.send(request)
        if not type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
            assert not response.is_complete  # the head came with at most 64 KiB of the body
        # While the rest streams, large reads; once it is in, small ones again.
        streaming = not response.is_complete
        assert len(protocol.get_buffer(-1)) == (READ_SIZE if streaming else FIRST_READ)
        assert await response.content.read() == body
        response.release()
        assert len(protocol.get_buffer(-1)) == FIRST_READ  # ended: small reads again


async def test_download_pauses_the_socket_while_the_reader_is_full(httpwire_server: Any) -> None:
    size = 16 * MIB
    async with TCPConnector() as connector:
        response = await send(
            connector, httpwire_server.url(f"/stream-bytes/{size}?chunk_size=65536")
        )
        reader = response.content
        assert reader.high_water == BODY_HIGH_WATER
        while not reader.paused and not reader.is_eof():  # noqa: ASYNC110 (no event says paused)
            await asyncio.sleep(0)  # the consumer is away: the reader fills up
        assert reader.paused  # 16 MiB cannot fit under the mark
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
        assert peak <= reader.high_water + READ_SIZE, peak  # plus one read
        assert connector.stats() == IDLE_ONLY


def random_pieces(size: int, piece: int, seed: int = 0) -> bytes:
    """What the test server's ``/bytes`` and ``/stream-bytes`` send for ``seed``."""
    rng = random.Random(seed)
    return b"".join(rng.randbytes(min(piece, size - at)) for at in range(0, size, piece))


async def read_pieces(response: RawResponse, n: int = 65536) -> list[bytes]:
    try:
        return [piece async for piece in response.content.iter_chunked(n)]
    finally:
        response.release()


async def test_a_download_is_exact_in_pieces_of_at_most_64_kib(httpwire_server: Any) -> None:
    """Large reads are handed on in 64 KiB pieces; every byte arrives once, in order,
    and the connection serves the next request (no byte of it was taken as body)."""
    size = 3 * MIB + 12345
    async with TCPConnector() as connector:
        response = await send(connector, httpwire_server.url(f"/bytes/{size}?seed=7"))
        pieces = await read_pieces(response)
        assert max(map(len, pieces)) <= PIECE
        assert b"".join(pieces) == random_pieces(size, 65536, 7)
        assert connector.stats() == IDLE_ONLY
        got = await read_json(await send(connector, httpwire_server.url("/connection-id")))
        assert got["requests"] == 2


@pytest.mark.parametrize("chunk", [1000, 100_000])
async def test_a_chunked_download_is_exact_across_pieces(httpwire_server: Any, chunk: int) -> None:
    """Chunks smaller and larger than a piece, their size lines cut anywhere by the pieces."""
    size = 2 * MIB + 777
    async with TCPConnector() as connector:
        url = httpwire_server.url(f"/stream-bytes/{size}?chunk_size={chunk}&seed=3")
        pieces = await read_pieces(await send(connector, url))
        assert max(map(len, pieces)) <= 65536
        assert b"".join(pieces) == random_pieces(size, chunk, 3)
        assert connector.stats() == IDLE_ONLY


async def test_a_large_gzip_download_is_decoded_exactly(raw_server: StartServer) -> None:
    rng = random.Random(5)
    plain = b"".join(rng.randbytes(64) * rng.randint(1, 64) for _ in range(8000))
    coded = gzip.compress(plain, 6)
    assert len(coded) > FIRST_READ + 4 * PIECE  # the compressed body streams too

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(coded)
            + coded
        )
        await writer.drain()
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        pieces = await read_pieces(await send(connector, base, decode=True))
        assert b"".join(pieces) == plain
        assert connector.stats() == IDLE_ONLY


@pytest.mark.parametrize("split", ["next piece", "same piece"])
async def test_bytes_after_a_body_in_the_same_read_are_never_body(
    raw_server: StartServer, split: str
) -> None:
    """A read that holds the end of a Content-Length body and bytes after it: the body
    gets exactly its length, and the connection is closed rather than reused (the bytes
    after it are no answer to anything). The read is written into the protocol's buffer
    by the test: no peer can choose where the loop's reads end, and the case that
    matters is the body ending exactly at the edge of a piece of the read."""
    first = 100_000
    rest = 2 * PIECE if split == "next piece" else PIECE + 1000
    body = random_pieces(first + rest, 65536, 11)
    surplus = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body[:first])
        await writer.drain()
        await reader.read()  # the rest never comes from the socket

    base = await raw_server(handler)
    async with TCPConnector(limit=1) as connector:
        request = OutgoingRequest("GET", URL(base))
        conn = await connector.acquire(request)
        response = await conn.send(request)
        assert await response.content.readexactly(first) == body[:first]
        # A request waiting for the one connection must not be handed this one.
        waiting = asyncio.create_task(connector.acquire(request))
        await asyncio.sleep(0)
        assert not waiting.done()
        protocol = conn.protocol
        read = body[first:] + surplus
        buffer = protocol.get_buffer(-1)
        assert len(buffer) == READ_SIZE  # the body streams: a large read
        buffer[: len(read)] = read
        protocol.buffer_updated(len(read))
        assert response.is_complete
        assert await response.content.read() == body[first:]
        response.release()
        assert conn.is_closed
        other = await waiting
        assert other is not conn
        assert not other.is_closed
        other.release()


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


@pytest.mark.parametrize("body", [b"x" * 1000, BytesBody(b"x" * 1000)], ids=["bytes", "body"])
async def test_expect_continue_to_a_server_that_ignores_it_sends_the_body_after_a_bound(
    raw_server: StartServer, body: Any
) -> None:
    """RFC 9110 §10.1.1: a client that sends 100-continue SHOULD NOT wait for an indefinite
    period before sending the content. This server reads the body without ever answering
    the expectation, as many do."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"expect: 100-continue" in head.lower()
        got = await reader.readexactly(1000)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(got), got))
        await writer.drain()
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        # The guard only turns a hang into a failure; the bound under test is 0.05 s.
        response = await asyncio.wait_for(
            send(
                connector,
                base + "/",
                "PUT",
                NO_HEADERS,
                body,
                expect_continue=True,
                expect_continue_timeout=0.05,
            ),
            30,
        )
        assert (response.status, await response.content.read()) == (200, b"x" * 1000)
        response.release()
        assert connector.stats() == IDLE_ONLY


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


def _compress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "gzip, gzip":
        return gzip.compress(gzip.compress(data))
    if coding == "br":
        brotli = pytest.importorskip("brotli")
        return bytes(brotli.compress(data))
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor().compress(data))


@pytest.mark.parametrize("chunk", [64, 1])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip, gzip", "br", "zstd"])
async def test_chunked_bomb_decodes_with_bounded_buffering(
    raw_server: StartServer, coding: str, chunk: int
) -> None:
    """DESIGN.md: the decoder stops while the reader is paused, whatever the framing. With
    small chunks each chunk is its own parser event: none may be decoded while paused."""
    size = 32 * MIB
    body = _compress(coding, bytes(size))
    framed = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + chunk]), body[i : i + chunk])
        for i in range(0, len(body), chunk)
    )
    sent = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Encoding: " + coding.encode() + b"\r\n\r\n" + framed + b"0\r\n\r\n"
        )
        await writer.drain()
        sent.set()
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/", decode=True)
        reader = response.content
        await sent.wait()
        for _ in range(20):  # let the connection take in what it can while nobody reads
            await asyncio.sleep(0)
        bound = reader.high_water + 2 * 65536 + 128 * 1024  # a piece, a step, a zstd block
        assert reader.buffered <= bound, reader.buffered
        total = 0
        while piece := await reader.read(1 * MIB):
            assert reader.buffered <= bound, reader.buffered
            total += len(piece)
        response.release()
    assert total == size


# -- early closes and malformed responses -----------------------------------------------------


@pytest.mark.parametrize(
    ("interim", "count"),
    [
        (b"HTTP/1.1 100 Continue\r\n\r\n", 40_000),
        (
            b"HTTP/1.1 103 Early Hints\r\n"
            + (b"Link: <" + b"x" * 7_400 + b">\r\n") * 7  # 52 KB, each field within limits
            + b"\r\n",
            600,
        ),
    ],
    ids=["40000-continues", "600-large-early-hints"],
)
async def test_interim_responses_are_capped(
    raw_server: StartServer, interim: bytes, count: int
) -> None:
    """RFC 9110 §15.2 lets a server send 1xx responses before the final one, but not
    without end: each is kept for the caller, and bytes keep the idle timeout from firing."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for _ in range(count):
            writer.write(interim)
            await writer.drain()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        with pytest.raises(BadResponseError, match=r"more than 32 interim \(1xx\) responses"):
            await send(connector, base + "/", sock_read=30)
        assert connector.stats() == EMPTY


async def test_a_few_interim_responses_are_kept_in_order(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </b.js>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        assert [r.headers["Link"] for r in response.informational] == ["</a.css>", "</b.js>"]
        assert await response.content.read() == b"ok"
        response.release()


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
    ("body", "message"),
    [
        (b"f" * 9000 + b"\r\n", "chunk size line"),
        (b"zz\r\n", "chunk size b'zz' is not hex"),
        (b"0\r\nBad Trailer\r\n\r\n", "trailer line 1"),
    ],
    ids=["long-size-line", "bad-size", "bad-trailer"],
)
async def test_a_bad_chunk_line_in_the_same_piece_as_the_head_is_a_payload_error(
    raw_server: StartServer, body: bytes, message: str
) -> None:
    """The head is valid: what is wrong is the body (RFC 9112 §7.1), whichever read brought
    it, so the error is a ClientPayloadError, not a BadResponseError."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        with pytest.raises(ClientPayloadError, match=message):
            response = await send(connector, base + "/")
            await response.content.read()
        assert connector.stats() == EMPTY


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


# Loop turns a close() may take: far more than a TLS shutdown with a live peer takes, far
# fewer than the 5 s bound costs when close() waits for a socket that never reports back.
CLOSE_TURNS = 100_000


async def _close_counting_turns(connector: TCPConnector) -> int:
    """Close the connector; return how many loop turns it took (work, not seconds)."""
    closing = asyncio.ensure_future(connector.close())
    spent = 0
    while not closing.done():
        await asyncio.sleep(0)
        spent += 1
        if spent == CLOSE_TURNS:  # a socket close() waits for costs its whole 5 s bound
            break
    await closing
    return spent


async def test_cancel_at_every_turn_of_connecting_leaves_nothing_registered(
    raw_server: StartServer, httpwire_server: Any
) -> None:
    """uvloop calls connection_made but never connection_lost for a transport whose
    create_connection was cancelled: the connector must not wait for it. Cancelled at each
    loop turn of the connect (and of a TLS handshake), close() stays quick and clean."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    urls = [URL(await raw_server(handler)), URL(httpwire_server.url("/get", scheme="https"))]
    for url in urls:
        for turns in range(30):
            connector = TCPConnector(ssl_context=httpwire_server.ssl_context())
            task = asyncio.ensure_future(connector.acquire(OutgoingRequest("GET", url)))
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            try:
                (await task).release()
            except asyncio.CancelledError:
                pass
            spent = await _close_counting_turns(connector)
            assert spent < CLOSE_TURNS, f"close() hung after {turns} turns of connecting to {url}"
            assert connector.stats() == EMPTY


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


async def _stray_bytes_server(raw_server: StartServer, stray: bytes) -> tuple[str, Any]:
    """A server whose first connection answers once, then sends ``stray`` when told to.

    Later connections answer each request with ``fresh``. Returns the base URL and a
    function that makes the first connection send ``stray`` and returns once it was written.
    """
    go = asyncio.Event()
    written = asyncio.Event()
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await go.wait()
            writer.write(stray)
            if b"408" in stray:
                writer.write_eof()  # a timeout answer, then FIN: what servers do to idlers
            await writer.drain()
            written.set()
            await reader.read()
            return
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
            await writer.drain()

    async def send_stray() -> None:
        go.set()
        await written.wait()

    return await raw_server(handler), send_stray


@pytest.mark.parametrize(
    "stray",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
        b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-",  # a partial head: the parser would keep it
    ],
    ids=["unrequested-response", "408-and-fin", "partial-head"],
)
async def test_bytes_that_arrive_on_an_idle_connection_are_never_read_as_a_response(
    raw_server: StartServer, stray: bytes
) -> None:
    """Any byte received while a connection idles makes it unusable (RFC 9112 §9.3 allows
    a response only to a request). The bytes sit unread in the socket when the connection
    is lent again at once: the check is made when it is lent, not only when they are read."""
    base, send_stray = await _stray_bytes_server(raw_server, stray)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/first")
        assert await response.content.read() == b"ok"
        response.release()
        assert connector.stats() == IDLE_ONLY
        await send_stray()  # written to our socket; no loop turn read it yet
        response = await send(connector, base + "/second")
        assert (response.status, await response.content.read()) == (200, b"fresh")
        response.release()


async def test_bytes_after_the_end_held_by_the_parser_make_the_connection_unusable(
    raw_server: StartServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            # The start of an unrequested head rides along with the answer.
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
            await writer.drain()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        response = await send(connector, base + "/")
        assert await response.content.read() == b"ok"
        response.release()
        assert connector.stats() == EMPTY  # closed, never pooled


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
