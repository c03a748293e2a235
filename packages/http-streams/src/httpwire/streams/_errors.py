"""The errors of httpwire.streams: one root, one subclass per failure a caller may handle.

Each error also derives from the builtin (or asyncio) class that code written for
other stream readers already catches, so ``except EOFError`` or
``except asyncio.IncompleteReadError`` keeps working. Every error pickles: the
``__reduce__`` methods give back the constructor arguments.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "ConcurrentReadError",
    "FeedAfterEofError",
    "IncompleteReadError",
    "LineTooLongError",
    "StreamError",
]

# How many bytes of a line an error message quotes.
_QUOTE = 40


class StreamError(Exception):
    """The root of every error raised by httpwire.streams."""


class IncompleteReadError(StreamError, asyncio.IncompleteReadError):
    """The stream ended before a read got the number of bytes it required.

    Raised by :meth:`StreamReader.readexactly`. The bytes that did arrive are
    consumed from the stream and kept in :attr:`partial`.

    Attributes:
        partial: The bytes read before the end of the stream.
        expected: The number of bytes the read required.
    """

    partial: bytes
    expected: int | None

    def __init__(self, partial: bytes, expected: int) -> None:
        EOFError.__init__(
            self,
            f"stream ended after {len(partial)} of the {expected} bytes readexactly() required",
        )
        self.partial = partial
        self.expected = expected

    def __reduce__(self) -> tuple[type[IncompleteReadError], tuple[bytes, int]]:
        assert self.expected is not None
        return type(self), (self.partial, self.expected)


class LineTooLongError(StreamError, ValueError):
    """A line (or a separator-terminated record) is longer than the reader's limit.

    Raised by :meth:`StreamReader.readline` and :meth:`StreamReader.readuntil`
    instead of buffering without bound. Nothing is consumed: the data stays in
    the reader and can still be read with :meth:`StreamReader.read`.

    Attributes:
        separator: The separator that was looked for.
        limit: The reader's limit, in bytes, separator included.
        size: The length of the line when its separator was found past the
            limit, else the number of bytes buffered without a separator.
        found: Whether the separator was found (past the limit).
        head: The first bytes of the line (at most 40; when the separator
            was not found, of what was buffered).
    """

    def __init__(
        self, separator: bytes, limit: int, size: int, found: bool, head: bytes = b""
    ) -> None:
        self.separator = separator
        self.limit = limit
        self.size = size
        self.found = found
        self.head = head[:_QUOTE]
        if found:
            where = f"the line is {size} bytes long, separator {separator!r} included"
        else:
            where = f"no separator {separator!r} in the first {size} bytes"
        more = "..." if not found or size > len(self.head) else ""
        super().__init__(
            f"line longer than the limit of {limit} bytes: {where}; "
            f"the line starts {self.head!r}{more}"
        )

    def __reduce__(
        self,
    ) -> tuple[type[LineTooLongError], tuple[bytes, int, int, bool, bytes]]:
        return type(self), (self.separator, self.limit, self.size, self.found, self.head)


class ConcurrentReadError(StreamError, RuntimeError):
    """A second coroutine tried to read while another one was waiting for data.

    A stream has one reader at a time: two coroutines taking turns would each
    get an arbitrary part of the data. The message names both calls.

    Attributes:
        call: The method that was called, e.g. ``"readline"``.
        waiting: The method the other coroutine is waiting in.
    """

    def __init__(self, call: str, waiting: str) -> None:
        self.call = call
        self.waiting = waiting
        super().__init__(
            f"{call}() called while another coroutine is waiting in {waiting}() "
            "on the same StreamReader; a stream has one reader at a time"
        )

    def __reduce__(self) -> tuple[type[ConcurrentReadError], tuple[str, str]]:
        return type(self), (self.call, self.waiting)


class FeedAfterEofError(StreamError, RuntimeError):
    """The producer fed data (or a chunk end) after it fed the end of the stream.

    Attributes:
        call: The method that was called after ``feed_eof()``.
        size: The number of bytes fed by that call (0 for ``end_chunk()``).
    """

    def __init__(self, call: str, size: int = 0) -> None:
        self.call = call
        self.size = size
        what = f" with {size} bytes" if call == "feed_data" else ""
        super().__init__(
            f"{call}() called{what} after feed_eof(): "
            "a StreamReader takes nothing after the end of its stream"
        )

    def __reduce__(self) -> tuple[type[FeedAfterEofError], tuple[str, int]]:
        return type(self), (self.call, self.size)
