"""Asyncio StreamReader with flow control that bounds memory, and the Body protocol.

``httpwire.streams`` knows nothing of HTTP: a :class:`StreamReader` is a byte
stream a producer feeds and one consumer reads, pausing the producer when too
much is buffered; a :class:`Body` is any sized async source of bytes.
"""

from __future__ import annotations

from ._body import Body, BytesBody, Producer, iter_body
from ._errors import (
    ConcurrentReadError,
    FeedAfterEofError,
    IncompleteReadError,
    LineTooLongError,
    StreamError,
)
from ._iterators import ChunkIterator, LineIterator, ReadIterator
from ._reader import DEFAULT_HIGH_WATER, DEFAULT_LIMIT, EmptyStreamReader, StreamReader
from ._version import __version__

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LIMIT",
    "Body",
    "BytesBody",
    "ChunkIterator",
    "ConcurrentReadError",
    "EmptyStreamReader",
    "FeedAfterEofError",
    "IncompleteReadError",
    "LineIterator",
    "LineTooLongError",
    "Producer",
    "ReadIterator",
    "StreamError",
    "StreamReader",
    "__version__",
    "iter_body",
]
