"""StreamReader: each read method, EOF, errors, cancellation and concurrent readers."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from tests.helpers import CountingProducer, feed_all, feed_task

from httpwire.streams import (
    Body,
    ConcurrentReadError,
    EmptyStreamReader,
    FeedAfterEofError,
    IncompleteReadError,
    LineTooLongError,
    StreamReader,
)


async def test_read_returns_fed_piece_itself() -> None:
    reader = StreamReader()
    piece = b"x" * 1000
    reader.feed_data(piece)
    assert await reader.read(65536) is piece
    reader.feed_data(piece)
    assert await reader.readany() is piece


async def test_read_joins_only_what_it_returns() -> None:
    reader = StreamReader()
    feed_all(reader, [b"abc", b"def", b"ghi"])
    assert await reader.read(4) == b"abcd"
    assert await reader.read(1) == b"e"
    assert await reader.read(100) == b"fghi"
    assert await reader.read(100) == b""
    assert reader.at_eof()


async def test_read_all_waits_for_eof() -> None:
    reader = StreamReader()
    task = feed_task(reader, [b"a", b"b", b"c"])
    assert await reader.read() == b"abc"
    await task
    assert reader.total_bytes == 3


async def test_readexactly_raises_with_partial_on_early_eof() -> None:
    reader = StreamReader()
    feed_all(reader, [b"ab", b"c"])
    with pytest.raises(IncompleteReadError) as info:
        await reader.readexactly(5)
    assert info.value.partial == b"abc"
    assert info.value.expected == 5
    assert str(info.value) == "stream ended after 3 of the 5 bytes readexactly() required"
    assert isinstance(info.value, asyncio.IncompleteReadError)
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.partial, again.expected, str(again)) == (b"abc", 5, str(info.value))


async def test_readline_and_readuntil() -> None:
    reader = StreamReader()
    feed_all(reader, [b"one\ntw", b"o\r", b"\nthree"])
    assert await reader.readline() == b"one\n"
    assert await reader.readuntil(b"\r\n") == b"two\r\n"
    assert await reader.readline() == b"three"
    assert await reader.readline() == b""


async def test_readline_rejects_overlong_line_and_keeps_data() -> None:
    reader = StreamReader(limit=8)
    feed_all(reader, [b"0123", b"45678", b"9\n"])
    with pytest.raises(LineTooLongError) as info:
        await reader.readline()
    assert str(info.value) == (
        "line longer than the limit of 8 bytes: the line is 11 bytes long, "
        "separator b'\\n' included; the line starts b'0123456789\\n'"
    )
    assert await reader.read() == b"0123456789\n"


async def test_readchunk_reports_chunk_ends() -> None:
    reader = StreamReader()
    reader.feed_data(b"ab")
    reader.feed_data(b"cd")
    reader.end_chunk()
    reader.feed_data(b"ef")
    assert await reader.readchunk() == (b"abcd", True)
    assert await reader.readchunk() == (b"ef", False)
    reader.end_chunk()
    assert await reader.readchunk() == (b"", True)
    reader.feed_eof()
    assert await reader.readchunk() == (b"", False)


async def test_iterators() -> None:
    reader = StreamReader()
    feed_all(reader, [b"a\nbb", b"\nccc"])
    assert [line async for line in reader] == [b"a\n", b"bb\n", b"ccc"]
    reader = StreamReader()
    feed_all(reader, [b"abcde", b"fg"])
    assert [p async for p in reader.iter_chunked(3)] == [b"abc", b"def", b"g"]
    reader = StreamReader()
    feed_all(reader, [b"abcde", b"fg"])
    assert [p async for p in reader.iter_any()] == [b"abcde", b"fg"]
    reader = StreamReader()
    reader.feed_data(b"ab")
    reader.end_chunk()
    feed_all(reader, [b"c"])
    assert [p async for p in reader.iter_chunks()] == [(b"ab", True), (b"c", False)]


async def test_exception_reaches_current_and_later_readers() -> None:
    reader = StreamReader()
    task = asyncio.create_task(reader.read(10))
    await asyncio.sleep(0)
    error = ConnectionResetError("peer reset")
    reader.set_exception(error)
    with pytest.raises(ConnectionResetError):
        await task
    with pytest.raises(ConnectionResetError):
        await reader.readline()
    assert reader.exception() is error


async def test_cancelled_read_loses_nothing() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    task = asyncio.create_task(reader.readexactly(5))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.feed_data(b"de")
    assert await reader.readexactly(5) == b"abcde"


async def test_two_waiters_get_runtime_error_naming_both() -> None:
    reader = StreamReader()
    first = asyncio.create_task(reader.readline())
    await asyncio.sleep(0)
    with pytest.raises(ConcurrentReadError) as info:
        await reader.read(5)
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "read() called while another coroutine is waiting in readline() "
        "on the same StreamReader; a stream has one reader at a time"
    )
    reader.feed_data(b"x\n")
    assert await first == b"x\n"


async def test_feed_after_eof_is_an_error() -> None:
    reader = StreamReader()
    reader.feed_eof()
    with pytest.raises(FeedAfterEofError, match=r"feed_data\(\) called with 3 bytes after"):
        reader.feed_data(b"abc")


async def test_flow_control_pauses_and_resumes_once() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=10, low_water=4)
    reader.feed_data(b"x" * 6)
    reader.feed_data(b"x" * 6)
    assert producer.pauses == 1
    assert await reader.read(5) == b"xxxxx"
    assert producer.resumes == 0
    assert await reader.read(3) == b"xxx"
    assert producer.resumes == 1


async def test_empty_stream_reader() -> None:
    reader = EmptyStreamReader()
    assert reader.at_eof()
    assert await reader.read() == b""
    assert await reader.readline() == b""
    assert await reader.readchunk() == (b"", False)
    with pytest.raises(FeedAfterEofError):
        reader.feed_data(b"x")


def test_stream_reader_is_a_body() -> None:
    reader = StreamReader()
    assert isinstance(reader, Body)
    assert reader.size is None
    assert reader.reusable is False
