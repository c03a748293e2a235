"""Payloads: sizes, content types, reuse, files read off the loop, streams read once."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from httpwire.forms import (
    AsyncIterablePayload,
    BodyPayload,
    BytesPayload,
    FilePayload,
    JsonPayload,
    MultipartWriter,
    Payload,
    PayloadError,
    StreamReaderPayload,
    StringPayload,
    TextFilePayload,
    payload_from,
)
from httpwire.streams import Body, StreamReader

from .helpers import collect, stream_of


async def test_bytes_payload() -> None:
    payload = BytesPayload(b"abc")
    assert (payload.size, payload.reusable, payload.content_type) == (
        3,
        True,
        "application/octet-stream",
    )
    assert await collect(payload) == await collect(payload) == b"abc"
    assert await collect(BytesPayload(b"")) == b""


async def test_bytearray_and_memoryview_are_copied_once() -> None:
    data = bytearray(b"abc")
    payload = BytesPayload(data, content_type="x/y")
    data[0:1] = b"zzzz"
    assert await collect(payload) == b"abc"
    assert payload.size == 3
    view = memoryview(b"0123456789")[2:5]
    assert await collect(BytesPayload(view)) == b"234"


def test_bytes_payload_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="BytesPayload needs bytes-like data, not str"):
        BytesPayload("text")  # type: ignore[arg-type]  # the point of the test


async def test_string_payload_charsets() -> None:
    default = StringPayload("café")
    assert default.content_type == "text/plain; charset=utf-8"
    assert await collect(default) == "café".encode()
    latin = StringPayload("café", content_type="text/html; charset=latin-1")
    assert latin.content_type == "text/html; charset=latin-1"
    assert await collect(latin) == b"caf\xe9"
    assert latin.size == 4
    explicit = StringPayload("café", encoding="utf-16-le")
    assert explicit.content_type == "text/plain; charset=utf-16-le"
    with pytest.raises(UnicodeEncodeError):
        StringPayload("€", encoding="latin-1")


async def test_json_payload() -> None:
    payload = JsonPayload({"a": ["é", 1]})
    assert payload.content_type == "application/json"
    assert json.loads(await collect(payload)) == {"a": ["é", 1]}
    custom = JsonPayload([1], dumps=lambda v: json.dumps(v, indent=1))
    assert await collect(custom) == b"[\n 1\n]"


def test_every_payload_is_a_body() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    payloads: list[Payload] = [
        BytesPayload(b""),
        StringPayload(""),
        JsonPayload(None),
        FilePayload(io.BytesIO()),
        TextFilePayload(io.StringIO()),
        AsyncIterablePayload(gen()),
        StreamReaderPayload(StreamReader()),
        MultipartWriter(),
    ]
    for payload in payloads:
        body: Body = payload  # checked by mypy too
        assert isinstance(body, Body), payload


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_file_payload_size_starts_where_the_file_is(tmp_path: Path) -> None:
    path = _write(tmp_path / "report.xls", bytes(range(256)) * 100)
    with path.open("rb") as fd:
        fd.seek(1000)
        payload = FilePayload(fd, chunk_size=4096)
        assert payload.size == 25600 - 1000
        assert payload.offset == 1000
        assert payload.filename == "report.xls"
        assert payload.content_type == "application/vnd.ms-excel"
        assert payload.reusable
        first = await collect(payload)
        second = await collect(payload)  # seeks back to 1000
    assert first == second == path.read_bytes()[1000:]


async def test_file_payload_reads_off_the_loop_thread(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.bin", b"x" * 100_000)
    threads: set[int] = set()

    class RecordingFile(io.FileIO):
        def read(self, size: int | None = -1, /) -> bytes:
            threads.add(threading.get_ident())
            data = super().read(size)
            assert data is not None
            return data

    with RecordingFile(str(path), "rb") as fd:
        payload = FilePayload(fd, chunk_size=10_000)
        assert await collect(payload) == b"x" * 100_000
    assert threads
    assert threading.get_ident() not in threads


async def test_the_loop_keeps_running_while_a_file_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.bin", b"y" * 2_000_000)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    with path.open("rb") as fd:
        pieces = 0
        async for _ in FilePayload(fd, chunk_size=65536):
            pieces += 1
    task.cancel()
    assert pieces == 31
    assert ticks >= pieces  # each executor read let the loop run other tasks


async def test_bytesio_is_read_inline_and_reusable() -> None:
    buf = io.BytesIO(b"0123456789")
    buf.seek(3)
    payload = FilePayload(buf, chunk_size=4)
    assert (payload.size, payload.filename, payload.content_type) == (
        7,
        None,
        "application/octet-stream",
    )
    assert [piece async for piece in payload] == [b"3456", b"789"]
    assert await collect(payload) == b"3456789"
    assert not payload.can_sendfile


async def test_pipe_is_sent_once_with_unknown_size() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"through a pipe")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fd:
        payload = FilePayload(fd)
        assert (payload.size, payload.reusable, payload.can_sendfile) == (None, False, False)
        assert await collect(payload) == b"through a pipe"
        with pytest.raises(PayloadError, match="cannot seek back, so it can be sent only once"):
            await collect(payload)


async def test_text_mode_file_given_to_file_payload_is_explained(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.txt", b"text")
    with path.open("r") as fd:
        payload = FilePayload(fd)  # type: ignore[arg-type]  # the point of the test
        with pytest.raises(PayloadError, match=r"returned str, not bytes \(open the file in"):
            await collect(payload)


async def test_file_that_shrank_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.bin", b"a" * 100)
    with path.open("rb") as fd:
        payload = FilePayload(fd)
        os.truncate(path, 40)
        with pytest.raises(
            PayloadError,
            match=r"file 'f.bin' ended 60 bytes short of the 100 bytes it held",
        ):
            await collect(payload)


async def test_file_that_grew_sends_the_announced_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.bin", b"a" * 100)
    with path.open("rb") as fd:
        payload = FilePayload(fd)
        with path.open("ab") as more:
            more.write(b"b" * 50)
        assert await collect(payload) == b"a" * 100


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_size must be positive, not 0"):
        FilePayload(io.BytesIO(), chunk_size=0)
    with pytest.raises(ValueError, match="chunk_size must be positive, not -1"):
        TextFilePayload(io.StringIO(), chunk_size=-1)


async def test_a_regular_file_can_be_sent_with_loop_sendfile(tmp_path: Path) -> None:
    content = os.urandom(300_000)
    path = _write(tmp_path / "send.bin", content)
    received = bytearray()
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.extend(await reader.read())
        writer.close()
        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    with path.open("rb") as fd:
        fd.seek(12345)
        payload = FilePayload(fd)
        assert payload.can_sendfile
        assert payload.offset is not None and payload.size is not None
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        sent = await loop.sendfile(transport, payload.file, payload.offset, payload.size)
        transport.close()
        await done.wait()
        assert sent == payload.size
        assert bytes(received) == await collect(payload) == content[12345:]
    server.close()
    await server.wait_closed()


async def test_socket_file_cannot_use_sendfile() -> None:
    left, right = socket.socketpair()
    with left, right, left.makefile("rb") as fd:
        assert not FilePayload(fd).can_sendfile


async def test_text_file_payload(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("ligne un\nligne deux é\n", encoding="utf-8")
    with path.open("r", encoding="utf-8") as fd:
        fd.readline()
        payload = TextFilePayload(fd, encoding="latin-1", chunk_size=3)
        assert (payload.size, payload.reusable, payload.filename) == (None, True, "notes.txt")
        assert payload.content_type == "text/plain; charset=latin-1"
        assert await collect(payload) == "ligne deux é\n".encode("latin-1")
        assert await collect(payload) == "ligne deux é\n".encode("latin-1")


async def test_binary_file_given_to_text_payload_is_explained() -> None:
    payload = TextFilePayload(io.BytesIO(b"abc"))  # type: ignore[arg-type]  # the point
    with pytest.raises(PayloadError, match=r"returned bytes, not str"):
        await collect(payload)


async def test_async_iterable_payload() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b""
        yield bytearray(b"b")  # type: ignore[misc]  # accepted at run time too
        yield memoryview(b"c")  # type: ignore[misc]

    payload = AsyncIterablePayload(gen(), content_type="text/csv")
    assert (payload.size, payload.reusable, payload.content_type) == (None, False, "text/csv")
    assert [piece async for piece in payload] == [b"a", b"b", b"c"]
    with pytest.raises(PayloadError, match="already iterated; an async iterable runs only once"):
        await collect(payload)


async def test_async_iterable_yielding_str_is_an_error() -> None:
    async def gen() -> AsyncIterator[str]:
        yield "text"

    payload = AsyncIterablePayload(gen())  # type: ignore[arg-type]  # the point of the test
    with pytest.raises(PayloadError, match=r"item 0 of .* is str, not bytes"):
        await collect(payload)


def test_async_iterable_payload_needs_an_async_iterable() -> None:
    with pytest.raises(TypeError, match="needs an async iterable, not list"):
        AsyncIterablePayload([b"x"])  # type: ignore[arg-type]  # the point of the test


async def test_stream_reader_payload_sends_pieces_not_lines() -> None:
    stream = stream_of(b"line one\nline two\nno newline", [4, 12])
    payload = StreamReaderPayload(stream)
    assert (payload.size, payload.reusable) == (None, False)
    assert [piece async for piece in payload] == [b"line", b" one\nlin", b"e two\nno newline"]
    with pytest.raises(PayloadError, match="a StreamReader can be sent only once"):
        await collect(payload)
    with pytest.raises(TypeError, match="needs a StreamReader, not bytes"):
        StreamReaderPayload(b"x")  # type: ignore[arg-type]  # the point of the test


async def test_stream_reader_fed_while_sent() -> None:
    stream = StreamReader()

    async def feed() -> None:
        for i in range(5):
            stream.feed_data(b"%d" % i)
            await asyncio.sleep(0)
        stream.feed_eof()

    task = asyncio.create_task(feed())
    assert await collect(payload_from(stream)) == b"01234"
    await task


async def test_payload_from_picks_the_payload_for_each_value(tmp_path: Path) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    path = _write(tmp_path / "f.bin", b"data")
    with path.open("rb") as binary, path.open("r") as text:
        cases: list[tuple[object, type[Payload]]] = [
            (b"x", BytesPayload),
            (bytearray(b"x"), BytesPayload),
            ("x", StringPayload),
            (binary, FilePayload),
            (text, TextFilePayload),
            (gen(), AsyncIterablePayload),
            (StreamReader(), StreamReaderPayload),
            ({"a": "1"}, BytesPayload),
            ([("a", "1")], BytesPayload),
            ({"f": binary}, MultipartWriter),
        ]
        for value, kind in cases:
            assert type(payload_from(value)) is kind, value
    existing = BytesPayload(b"")
    assert payload_from(existing) is existing
    named = payload_from(b"x", content_type="image/png", filename="a.png")
    assert (named.content_type, named.filename) == ("image/png", "a.png")


async def test_spooled_temporary_files_are_sent_by_their_mode() -> None:
    # A SpooledTemporaryFile is an io.IOBase but neither a text nor a buffered io class.
    with (
        tempfile.SpooledTemporaryFile(mode="w+b") as binary,
        tempfile.SpooledTemporaryFile(mode="w+", encoding="utf-8") as text,
    ):
        binary.write(b"bytes")
        binary.seek(0)
        text.write("t\u00e9xt")
        text.seek(0)
        assert type(payload_from(binary)) is FilePayload
        assert type(payload_from(text)) is TextFilePayload
        assert await collect(payload_from(binary)) == b"bytes"
        assert await collect(payload_from(text)) == "t\u00e9xt".encode()


def test_payload_from_rejects_other_values() -> None:
    with pytest.raises(TypeError, match=r"cannot send a value of type int as a request body"):
        payload_from(42)
    with pytest.raises(TypeError, match=r"cannot send a value of type set"):
        payload_from({b"x"})


async def test_dict_and_pairs_become_urlencoded_forms() -> None:
    assert await collect(payload_from({"key1": "value1", "key2": "value2"})) == (
        b"key1=value1&key2=value2"
    )
    payload = payload_from([("key", "value1"), ("key", "value2")])
    assert payload.content_type == "application/x-www-form-urlencoded"
    assert await collect(payload) == b"key=value1&key=value2"


class _OwnBody:
    """A body of the streams protocol written by a user, not a payload of this package."""

    def __init__(
        self, pieces: list[bytes | bytearray], size: object, reusable: bool = True
    ) -> None:
        self._pieces = pieces
        self.size = size
        self.reusable = reusable

    async def _iterate(self) -> AsyncIterator[bytes | bytearray]:
        for piece in self._pieces:
            yield piece

    def __aiter__(self) -> AsyncIterator[bytes | bytearray]:
        return self._iterate()


async def test_payload_from_keeps_the_size_and_reusability_of_a_body() -> None:
    payload = payload_from(_OwnBody([b"ab", b"", bytearray(b"c")], size=3))
    assert isinstance(payload, BodyPayload)
    assert (payload.size, payload.reusable) == (3, True)
    assert b"".join([piece async for piece in payload]) == b"abc"
    assert b"".join([piece async for piece in payload]) == b"abc"


async def test_a_body_that_is_not_reusable_is_iterated_once() -> None:
    payload = payload_from(_OwnBody([b"abc"], size=None, reusable=False))
    assert (payload.size, payload.reusable) == (None, False)
    assert [piece async for piece in payload] == [b"abc"]
    with pytest.raises(PayloadError, match="not reusable"):
        [piece async for piece in payload]


@pytest.mark.parametrize("size", [-1, 2.0, "2", True])
def test_a_body_with_an_invalid_size_is_refused(size: object) -> None:
    with pytest.raises(TypeError, match=r"_OwnBody\.size must be an int >= 0 or None"):
        payload_from(_OwnBody([b"ab"], size=size))
