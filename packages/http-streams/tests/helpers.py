"""A producer that counts the reader's calls, and feeding helpers shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from httpwire.streams import StreamReader

__all__ = ["CountingProducer", "feed_all", "feed_task"]


class CountingProducer:
    """The producer protocol itself: records pause/resume calls and rejects redundant ones."""

    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0
        self.resumes = 0
        self.resumed = asyncio.Event()
        self.resumed.set()

    def pause_reading(self) -> None:
        assert not self.paused, "pause_reading() called on a paused producer"
        self.paused = True
        self.pauses += 1
        self.resumed.clear()

    def resume_reading(self) -> None:
        assert self.paused, "resume_reading() called on a running producer"
        self.paused = False
        self.resumes += 1
        self.resumed.set()


def feed_all(reader: StreamReader, pieces: Iterable[bytes], eof: bool = True) -> None:
    """Feed every piece at once, then the end of the stream."""
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()


async def _produce(
    reader: StreamReader, pieces: list[bytes], producer: CountingProducer | None
) -> None:
    for piece in pieces:
        if producer is not None:
            await producer.resumed.wait()
        reader.feed_data(piece)
        await asyncio.sleep(0)
    reader.feed_eof()


def feed_task(
    reader: StreamReader, pieces: list[bytes], producer: CountingProducer | None = None
) -> asyncio.Task[None]:
    """Feed the pieces from a task, one per loop turn, honouring the producer's pauses."""
    return asyncio.create_task(_produce(reader, pieces, producer))
