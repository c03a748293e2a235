"""The async iterators of StreamReader: small classes rather than async generators.

An async generator costs a frame switch and an ``asend`` wrapper per item; these
iterators await the reader's method directly, and leave nothing to finalize
when a loop breaks early.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._reader import StreamReader

__all__ = ["ChunkIterator", "LineIterator", "ReadIterator"]


class ReadIterator:
    """Yields ``read(n)`` (or ``readany()`` when ``n`` is None) until the end of the stream."""

    __slots__ = ("_n", "_reader")

    def __init__(self, reader: StreamReader, n: int | None) -> None:
        self._reader = reader
        self._n = n

    def __aiter__(self) -> ReadIterator:
        return self

    async def __anext__(self) -> bytes:
        if self._n is None:
            data = await self._reader.readany()
        else:
            data = await self._reader.read(self._n)
        if not data:
            raise StopAsyncIteration
        return data


class LineIterator:
    """Yields the lines of the stream; an over-long line comes out in ``limit``-byte pieces."""

    __slots__ = ("_reader",)

    def __init__(self, reader: StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> LineIterator:
        return self

    async def __anext__(self) -> bytes:
        line = await self._reader._readuntil(b"\n", "__anext__", True)
        if not line:
            raise StopAsyncIteration
        return line


class ChunkIterator:
    """Yields ``readchunk()`` pairs until the end of the stream."""

    __slots__ = ("_reader",)

    def __init__(self, reader: StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> ChunkIterator:
        return self

    async def __anext__(self) -> tuple[bytes, bool]:
        data, end_of_chunk = await self._reader.readchunk()
        if not data and not end_of_chunk:
            raise StopAsyncIteration
        return data, end_of_chunk
