"""No copies on the hot path: fed pieces are handed out as they are, read() holds a body once."""

from __future__ import annotations

import asyncio
import tracemalloc

from httpwire.streams import StreamReader

MiB = 1024 * 1024
PIECE = 64 * 1024


def test_a_read_of_buffered_data_never_suspends() -> None:
    # No event loop at all: a read that finds its data completes on the first send(),
    # so it created no future and touched no loop.
    reader = StreamReader()
    piece = b"abc\ndef"
    reader.feed_data(piece)
    coro = reader.readline()
    try:
        coro.send(None)
    except StopIteration as done:
        assert done.value == b"abc\n"
    else:
        raise AssertionError("readline() suspended with a line buffered")
    coro2 = reader.read(100)
    try:
        coro2.send(None)
    except StopIteration as done:
        assert done.value == b"def"


async def test_fed_pieces_are_handed_out_as_they_are() -> None:
    reader = StreamReader()
    pieces = [bytes([i]) * 1000 for i in range(6)]
    for piece in pieces:
        reader.feed_data(piece)
    assert await reader.read(1000) is pieces[0]
    assert await reader.readany() is pieces[1]
    assert await reader.readexactly(1000) is pieces[2]
    assert await reader.readchunk() == (pieces[3], False)
    reader.feed_eof()
    data = await reader.read(5000)
    assert data == pieces[4] + pieces[5]  # spans two pieces: joined once
    reader = StreamReader()
    reader.feed_data(pieces[0])
    reader.feed_eof()
    assert await reader.read() is pieces[0]
    reader = StreamReader()
    line = b"x" * 99 + b"\n"
    reader.feed_data(line)
    assert await reader.readline() is line


async def test_iterators_hand_out_pieces_as_they_are() -> None:
    reader = StreamReader()
    pieces = [b"a" * 10, b"b" * 20]
    for piece in pieces:
        reader.feed_data(piece)
    reader.feed_eof()
    got = [p async for p in reader.iter_any()]
    assert got[0] is pieces[0] and got[1] is pieces[1]


async def _peak_of_read_all(size: int, prefeed: bool) -> tuple[int, bytes]:
    reader = StreamReader()

    def piece(i: int) -> bytes:
        return i.to_bytes(4, "big") * (PIECE // 4)

    async def produce() -> None:
        for i in range(size // PIECE):
            reader.feed_data(piece(i))
            if i % 4 == 0:
                await asyncio.sleep(0)
        reader.feed_eof()

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        if prefeed:
            await produce()
            body = await reader.read()
        else:
            task = asyncio.create_task(produce())
            body = await reader.read()
            await task
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, body


async def test_read_all_of_a_streamed_body_holds_it_once() -> None:
    size = 64 * MiB
    peak, body = await _peak_of_read_all(size, prefeed=False)
    assert len(body) == size
    assert body[:8] == bytes(8) and body[-4:] == (size // PIECE - 1).to_bytes(4, "big")
    assert peak < 1.5 * size, peak / size


async def test_read_all_of_a_buffered_body_holds_it_once() -> None:
    # Everything is buffered first (64 MiB in pieces), then read() drains the pieces
    # into one buffer, freeing each as it goes: no moment holds the body twice.
    size = 64 * MiB
    peak, body = await _peak_of_read_all(size, prefeed=True)
    assert len(body) == size
    assert peak < 1.5 * size, peak / size
