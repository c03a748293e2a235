"""The Body and Producer protocols, and BytesBody."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from httpwire.streams import Body, BytesBody, Producer, StreamReader, iter_body


class Generated:
    """A Body written without knowing this package: structural typing at work."""

    size = None
    reusable = False

    async def _pieces(self) -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()


async def send(body: Body) -> bytes:
    """What a connection does with a Body: iterate it, skipping empty pieces."""
    return b"".join([piece async for piece in body if piece])


async def test_bodies_are_recognised_and_iterated() -> None:
    assert isinstance(Generated(), Body)
    assert await send(Generated()) == b"ab"
    assert not isinstance(b"bytes", Body)
    assert not isinstance(object(), Body)


async def test_bytes_body_is_sized_reusable_and_yields_one_piece() -> None:
    data = b"payload"
    body = BytesBody(data)
    assert isinstance(body, Body)
    assert (body.size, body.reusable, body.data) == (7, True, data)
    pieces = [piece async for piece in body]
    assert pieces == [data] and pieces[0] is data
    assert await send(body) == data  # and again: reusable
    assert [piece async for piece in BytesBody(b"")] == []
    assert repr(body) == "<BytesBody 7 bytes>"


async def test_a_stream_reader_is_a_body_fed_while_it_is_sent() -> None:
    # The guide's streamed upload: one coroutine feeds a StreamReader() that is sent as a body.
    stream = StreamReader()
    assert isinstance(stream, Body)
    assert (stream.size, stream.reusable) == (None, False)

    async def feed() -> None:
        for i in range(100):
            stream.feed_data(b"%d\n" % i)
            await asyncio.sleep(0)
        stream.feed_data(b"no newline at the end")
        stream.feed_eof()

    task = asyncio.create_task(feed())
    sent = await send(stream)
    await task
    assert sent == b"".join(b"%d\n" % i for i in range(100)) + b"no newline at the end"


async def test_binary_body_with_long_lines_is_sent_whole() -> None:
    stream = StreamReader(limit=1024)
    body = bytes(range(256)) * 1000  # 256000 bytes, few newlines, lines longer than the limit
    stream.feed_data(body)
    stream.feed_eof()
    assert await send(stream) == body


def test_transports_are_producers() -> None:
    assert isinstance(asyncio.ReadTransport(), Producer)
    assert not isinstance(object(), Producer)


async def test_iter_body_gives_a_stream_its_pieces_not_its_lines() -> None:
    stream = StreamReader()
    pieces = [b"a\nb\nc", b"\nd"]
    for piece in pieces:
        stream.feed_data(piece)
    stream.feed_eof()
    got = [piece async for piece in iter_body(stream)]
    assert got == pieces and got[0] is pieces[0]
    assert [piece async for piece in iter_body(Generated())] == [b"a", b"b"]
    assert [piece async for piece in iter_body(BytesBody(b"xyz"))] == [b"xyz"]
