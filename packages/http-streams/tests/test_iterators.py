"""The iterators of StreamReader: what they yield, when they stop, and leaving them early."""

from __future__ import annotations

import asyncio

import pytest
from tests.helpers import feed_all

from httpwire.streams import ChunkIterator, LineIterator, ReadIterator, StreamReader


async def test_leaving_an_iterator_early_leaves_the_rest_readable() -> None:
    reader = StreamReader()
    feed_all(reader, [b"one\ntwo\n", b"three\nfour"])
    async for line in reader:
        assert line == b"one\n"
        break
    async for piece in reader.iter_chunked(3):
        assert piece == b"two"
        break
    assert await reader.read() == b"\nthree\nfour"


async def test_iterators_are_their_own_iterators() -> None:
    reader = StreamReader()
    lines = aiter(reader)
    assert isinstance(lines, LineIterator) and aiter(lines) is lines
    pieces = reader.iter_any()
    assert isinstance(pieces, ReadIterator) and aiter(pieces) is pieces
    chunks = reader.iter_chunks()
    assert isinstance(chunks, ChunkIterator) and aiter(chunks) is chunks


async def test_iterators_wait_for_data_and_stop_at_the_end() -> None:
    reader = StreamReader()

    async def produce() -> None:
        for piece in (b"ab", b"c\nd", b"e"):
            await asyncio.sleep(0)
            reader.feed_data(piece)
            reader.end_chunk()
        reader.feed_eof()

    task = asyncio.create_task(produce())
    assert [chunk async for chunk in reader.iter_chunks()] == [
        (b"ab", True),
        (b"c\nd", True),
        (b"e", True),
    ]
    await task
    with pytest.raises(StopAsyncIteration):
        await anext(reader.iter_chunks())


async def test_iterators_raise_the_producer_exception() -> None:
    reader = StreamReader()
    reader.feed_data(b"partial")
    reader.set_exception(ConnectionResetError("reset by peer"))
    for iterator in (aiter(reader), reader.iter_any(), reader.iter_chunked(2)):
        with pytest.raises(ConnectionResetError, match=r"^reset by peer$"):
            await anext(iterator)
