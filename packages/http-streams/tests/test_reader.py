"""StreamReader: each read method, EOF, errors, cancellation and concurrent readers."""

from __future__ import annotations

import asyncio
import pickle
import tracemalloc

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


async def test_read_returns_the_whole_pieces_that_fit() -> None:
    reader = StreamReader()
    feed_all(reader, [b"abc", b"def", b"ghi"])
    assert await reader.read(4) == b"abc"  # "def" would not fit
    assert await reader.read(1) == b"d"  # a piece longer than n is cut
    assert await reader.read(4) == b"ef"  # the rest of a piece is a piece
    assert await reader.read(100) == b"ghi"
    assert await reader.read(100) == b""
    assert reader.at_eof()
    reader = StreamReader()
    feed_all(reader, [b"abc", b"def", b"ghi"])
    assert await reader.read(7) == b"abcdef"  # pieces that fit together are joined
    assert await reader.read(7) == b"ghi"
    reader = StreamReader()
    feed_all(reader, [b"abcd", b"ef", b"gh", b"i"])
    assert await reader.read(3) == b"abc"
    assert await reader.read(5) == b"defgh"  # the rest of the first, then whole pieces
    assert await reader.read(6) == b"i"


async def test_read_all_waits_for_eof() -> None:
    reader = StreamReader()
    task = feed_task(reader, [b"a", b"b", b"c"])
    assert await reader.read() == b"abc"
    await task
    assert reader.total_bytes == 3


async def test_read_all_of_an_ended_stream_returns_at_once() -> None:
    piece = b"x" * 1000
    reader = StreamReader()
    reader.feed_data(piece)
    reader.feed_eof()
    assert await reader.read() is piece  # one piece: handed over as it is
    assert await reader.read() == b""
    assert reader.at_eof()
    reader = StreamReader()
    reader.feed_data(b"hello")
    assert await reader.readexactly(2) == b"he"
    reader.feed_eof()
    assert await reader.read() == b"llo"  # the rest of a partly read piece
    assert reader.buffered == 0 and reader.at_eof()
    reader = StreamReader()
    reader.feed_eof()
    assert await reader.read() == b""
    reader = StreamReader()
    feed_all(reader, [b"a", b"b"])  # two pieces: joined
    assert await reader.read() == b"ab"


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
    assert [p async for p in reader.iter_chunked(3)] == [b"abc", b"de", b"fg"]
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
    assert await reader.read(3) == b"x"  # the rest of the first piece: 6 left
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


READS = {
    "read": lambda r: r.read(10),
    "read_all": lambda r: r.read(),
    "readany": lambda r: r.readany(),
    "readexactly": lambda r: r.readexactly(10),
    "readline": lambda r: r.readline(),
    "readuntil": lambda r: r.readuntil(b"\r\n"),
    "readchunk": lambda r: r.readchunk(),
}


@pytest.mark.parametrize("name", sorted(READS))
async def test_every_read_cancelled_while_waiting_loses_nothing(name: str) -> None:
    reader = StreamReader()
    fed = b""
    if name not in ("read", "readany", "readchunk"):
        # These wait with data buffered: too little, or no separator yet.
        fed = b"abc"
        reader.feed_data(b"ab")
        reader.feed_data(b"c")
    for _ in range(3):
        task = asyncio.create_task(READS[name](reader))
        await asyncio.sleep(0)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert reader.buffered == len(fed)
    reader.feed_data(b"z")
    reader.feed_eof()
    assert await reader.read() == fed + b"z"


async def test_read_all_cancelled_after_draining_puts_the_bytes_back() -> None:
    reader = StreamReader()
    reader.feed_data(b"one ")
    task = asyncio.create_task(reader.read())
    await asyncio.sleep(0)
    reader.feed_data(b"two ")
    reader.end_chunk()
    await asyncio.sleep(0)
    reader.feed_data(b"three")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reader.buffered == 13
    # The chunk mark inside the bytes put back is kept too.
    assert await reader.readchunk() == (b"one two ", True)
    reader.feed_eof()
    assert await reader.read() == b"three"


async def test_wait_for_timeout_on_a_read_loses_nothing() -> None:
    reader = StreamReader()
    reader.feed_data(b"partial line")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readline(), 0.01)
    reader.feed_data(b" ends\n")
    assert await reader.readline() == b"partial line ends\n"


@pytest.mark.parametrize("first", sorted(READS))
@pytest.mark.parametrize("second", ["read", "readline", "readchunk"])
async def test_second_reader_is_refused_while_one_waits(first: str, second: str) -> None:
    reader = StreamReader()
    task = asyncio.create_task(READS[first](reader))
    await asyncio.sleep(0)
    waiting = "read" if first == "read_all" else first
    called = "read" if second == "read" else second
    with pytest.raises(ConcurrentReadError) as info:
        await READS[second](reader)
    assert info.value.call == called
    assert info.value.waiting == waiting
    assert f"{called}() called while another coroutine is waiting in {waiting}()" in str(
        info.value
    )
    reader.feed_data(b"0123456789\r\n")
    reader.feed_eof()
    await task  # the first reader was not disturbed
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)


async def test_wait_eof() -> None:
    reader = StreamReader()
    reader.feed_data(b"data")
    task = asyncio.create_task(reader.wait_eof())
    await asyncio.sleep(0)
    assert not task.done()
    with pytest.raises(ConcurrentReadError, match=r"wait_eof\(\) called while"):
        await reader.wait_eof()
    reader.feed_eof()
    await task
    assert reader.is_eof() and not reader.at_eof()
    await reader.wait_eof()  # returns at once
    assert await reader.read() == b"data"
    assert reader.at_eof()


async def test_wait_eof_raises_the_producer_exception() -> None:
    reader = StreamReader()
    task = asyncio.create_task(reader.wait_eof())
    await asyncio.sleep(0)
    error = OSError("connection lost")
    reader.set_exception(error)
    with pytest.raises(OSError) as info:
        await task
    assert info.value is error
    with pytest.raises(OSError):
        await reader.wait_eof()


async def test_exception_drops_buffered_data_and_wins_over_eof() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.feed_eof()
    reader.set_exception(ValueError("bad body"))
    assert reader.buffered == 0 and reader.total_bytes == 3
    for name in sorted(READS):
        with pytest.raises(ValueError, match=r"^bad body$"):
            await READS[name](reader)
    with pytest.raises(ValueError, match=r"^bad body$"):
        await anext(aiter(reader))


async def test_readexactly_rejects_negative_size_and_reads_zero() -> None:
    reader = StreamReader()
    assert await reader.readexactly(0) == b""
    with pytest.raises(ValueError, match=r"^readexactly\(\) needs a non-negative size, got -1$"):
        await reader.readexactly(-1)


async def test_read_zero_returns_at_once() -> None:
    reader = StreamReader()
    assert await reader.read(0) == b""


async def test_readuntil_finds_a_separator_across_many_pieces() -> None:
    reader = StreamReader()
    feed_all(reader, [b"ab", b"c", b"-", b"-", b"=", b"d--=e", b"--", b"="])
    assert await reader.readuntil(b"--=") == b"abc--="
    assert await reader.readuntil(b"--=") == b"d--="
    assert await reader.readuntil(b"--=") == b"e--="
    assert await reader.readuntil(b"--=") == b""


async def test_readuntil_rejects_an_empty_separator() -> None:
    with pytest.raises(ValueError, match=r"^readuntil\(\) needs a non-empty separator$"):
        await StreamReader().readuntil(b"")


async def test_line_too_long_without_separator_names_the_start_of_the_line() -> None:
    reader = StreamReader(limit=4)
    reader.feed_data(b"abcdef")
    with pytest.raises(LineTooLongError) as info:
        await reader.readuntil(b"\r\n")
    error = info.value
    assert str(error) == (
        "line longer than the limit of 4 bytes: no separator b'\\r\\n' in the first 6 bytes; "
        "the line starts b'abcdef'..."
    )
    assert (error.separator, error.limit, error.size, error.found) == (b"\r\n", 4, 6, False)
    assert isinstance(error, ValueError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


async def test_line_of_exactly_the_limit_is_accepted() -> None:
    reader = StreamReader(limit=4)
    feed_all(reader, [b"abc\n", b"de", b"f", b"g"])
    assert await reader.readline() == b"abc\n"
    assert await reader.readline() == b"defg"  # unterminated last line of 4 bytes


async def test_line_iteration_splits_overlong_lines_instead_of_raising() -> None:
    reader = StreamReader(limit=4)
    feed_all(reader, [b"abcdefghij\nxy\n"])
    assert [line async for line in reader] == [b"abcd", b"efgh", b"ij\n", b"xy\n"]


async def test_chunk_marks_passed_by_other_reads_are_dropped() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.end_chunk()
    reader.end_chunk()  # no data since the last mark: ignored
    reader.feed_data(b"def")
    reader.end_chunk()
    assert await reader.readexactly(4) == b"abcd"
    assert await reader.readchunk() == (b"ef", True)
    reader.end_chunk()  # nothing new: no empty chunk
    reader.feed_eof()
    assert await reader.readchunk() == (b"", False)
    with pytest.raises(FeedAfterEofError) as info:
        reader.end_chunk()
    assert str(info.value) == (
        "end_chunk() called after feed_eof(): a StreamReader takes nothing after the end "
        "of its stream"
    )


async def test_readchunk_waits_for_a_mark_alone() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    assert await reader.readchunk() == (b"abc", False)
    task = asyncio.create_task(reader.readchunk())
    await asyncio.sleep(0)
    assert not task.done()
    reader.end_chunk()
    assert await task == (b"", True)


async def test_feed_after_eof_message_and_pickle() -> None:
    reader = StreamReader()
    reader.feed_eof()
    reader.feed_eof()  # harmless
    with pytest.raises(FeedAfterEofError) as info:
        reader.feed_data(b"late")
    assert str(info.value) == (
        "feed_data() called with 4 bytes after feed_eof(): a StreamReader takes nothing "
        "after the end of its stream"
    )
    assert isinstance(info.value, RuntimeError)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


async def test_empty_feed_is_ignored_and_does_not_wake() -> None:
    reader = StreamReader()
    task = asyncio.create_task(reader.read(5))
    await asyncio.sleep(0)
    reader.feed_data(b"")
    await asyncio.sleep(0)
    assert not task.done()
    reader.feed_data(b"x")
    assert await task == b"x"


async def test_empty_stream_reader_every_method() -> None:
    reader = EmptyStreamReader()
    assert reader.is_eof() and reader.at_eof() and reader.exception() is None
    assert await reader.read(10) == b""
    assert await reader.readany() == b""
    assert await reader.readexactly(0) == b""
    with pytest.raises(IncompleteReadError) as info:
        await reader.readexactly(1)
    assert (info.value.partial, info.value.expected) == (b"", 1)
    assert await reader.readuntil(b"--") == b""
    assert [x async for x in reader] == []
    assert [x async for x in reader.iter_chunked(4)] == []
    assert [x async for x in reader.iter_any()] == []
    assert [x async for x in reader.iter_chunks()] == []
    await reader.wait_eof()
    assert reader.total_bytes == 0 and reader.size is None
    assert isinstance(reader, StreamReader)
    with pytest.raises(FeedAfterEofError):
        reader.end_chunk()


async def test_iter_chunked_rejects_a_non_positive_size() -> None:
    with pytest.raises(ValueError, match=r"^iter_chunked\(\) needs a positive size, got 0$"):
        StreamReader().iter_chunked(0)


async def test_repr_shows_the_state() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, high_water=2, low_water=0)
    reader.feed_data(b"abc")
    assert repr(reader) == "<StreamReader 3 bytes buffered, 3 fed, paused>"
    reader.feed_eof()
    assert repr(reader) == "<StreamReader 3 bytes buffered, 3 fed, eof, paused>"
    await reader.read()
    assert repr(reader) == "<StreamReader 0 bytes buffered, 3 fed, eof>"
    waiting = StreamReader()
    task = asyncio.create_task(waiting.readline())
    await asyncio.sleep(0)
    assert repr(waiting) == "<StreamReader 0 bytes buffered, 0 fed, waiting in readline()>"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_data_fed_after_an_exception_is_dropped() -> None:
    reader = StreamReader()
    reader.set_exception(ConnectionResetError("reset"))
    reader.feed_data(b"x" * 1000)
    reader.end_chunk()
    assert (reader.buffered, reader.total_bytes) == (0, 0)
    with pytest.raises(ConnectionResetError, match=r"^reset$"):
        await reader.readchunk()


async def test_chunk_marks_do_not_pile_up_under_a_reader_that_ignores_them() -> None:
    # A chunked body read with readany(): each mark is made while the reader waits.
    reader = StreamReader()

    async def produce() -> None:
        for _ in range(20000):
            reader.feed_data(b"x" * 100)
            reader.end_chunk()
            await asyncio.sleep(0)
        reader.feed_eof()

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        task = asyncio.create_task(produce())
        received = 0
        while data := await reader.readany():
            received += len(data)
        await task
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert received == 2_000_000
    # 20000 marks kept would take over 500 KB.
    assert grown < 50_000, grown


async def test_feed_data_copies_mutable_buffers_and_rejects_text() -> None:
    reader = StreamReader()
    data = bytearray(b"abc")
    reader.feed_data(data)
    data[0] = ord("z")  # changing it afterwards changes nothing in the stream
    reader.feed_data(memoryview(b"def"))
    with pytest.raises(TypeError) as info:
        reader.feed_data("text")  # type: ignore[arg-type]  # the mistake under test
    assert str(info.value) == "feed_data() takes bytes, got str: 'text'"
    reader.feed_eof()
    assert await reader.read() == b"abcdef"


async def test_high_water_may_be_given_by_position() -> None:
    producer = CountingProducer()
    reader = StreamReader(producer, 10)
    assert (reader.high_water, reader.low_water) == (10, 2)
    reader.feed_data(b"x" * 11)
    assert producer.pauses == 1
