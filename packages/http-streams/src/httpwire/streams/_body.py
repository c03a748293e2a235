"""The two small protocols at the seams of httpwire.streams: Body and Producer.

A :class:`Body` is what a request sends: an async iterable of ``bytes`` that
says how long it is (when it knows) and whether it can be iterated again (for
redirects and retries). A :class:`Producer` is what feeds a
:class:`~httpwire.streams.StreamReader`: anything that can stop and restart its
flow of data. Both are structural (``typing.Protocol``), so the classes that
implement them need not know this module; both are ``runtime_checkable`` so a
consumer can tell a Body from other values with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

__all__ = ["Body", "BytesBody", "Producer", "iter_body"]


@runtime_checkable
class Body(Protocol):
    """A sized async source of bytes: what every request body implements.

    Iterating a Body yields non-empty or empty ``bytes`` pieces whose
    concatenation is the body; a consumer skips empty pieces.

    Attributes:
        size: The exact length in bytes when known, else ``None`` (the sender
            then frames the body with chunked transfer coding).
        reusable: ``True`` when the body can be iterated again from its start,
            so that a request can be resent after a redirect or a stale
            connection.
    """

    @property
    def size(self) -> int | None:
        """The exact length in bytes, or ``None`` when unknown."""
        ...

    @property
    def reusable(self) -> bool:
        """Whether iterating again starts the body over."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Return an iterator over the pieces of the body."""
        ...


@runtime_checkable
class Producer(Protocol):
    """The source that feeds a StreamReader and can be told to stop and restart.

    An ``asyncio`` transport has both methods; an HTTP connection's protocol
    implements them by pausing its transport. The reader calls
    ``pause_reading()`` once when its buffer passes the high-water mark and
    ``resume_reading()`` once when it drains to the low-water mark.
    """

    def pause_reading(self) -> None:
        """Stop feeding the reader until ``resume_reading()`` is called."""
        ...

    def resume_reading(self) -> None:
        """Start feeding the reader again."""
        ...


class BytesBody:
    """A Body holding one ``bytes`` object in memory: sized and reusable.

    The smallest concrete Body, for callers that have the whole payload at hand
    and want to pass it where a Body is expected. Payload types with a content
    type live in ``httpwire.forms``.

    Args:
        data: The body. It is yielded as it is, in one piece (nothing when
            empty), each time the Body is iterated.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def data(self) -> bytes:
        """The bytes of the body."""
        return self._data

    @property
    def size(self) -> int:
        """The length of the body in bytes."""
        return len(self._data)

    @property
    def reusable(self) -> bool:
        """Always ``True``: the bytes stay in memory."""
        return True

    async def _pieces(self) -> AsyncIterator[bytes]:
        if self._data:
            yield self._data

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Return an iterator yielding the body in one piece."""
        return self._pieces()

    def __repr__(self) -> str:
        return f"<BytesBody {len(self._data)} bytes>"


def iter_body(body: Body) -> AsyncIterator[bytes]:
    """Iterate a Body the way a sender should: in the pieces it was given.

    A :class:`~httpwire.streams.StreamReader` iterates by lines (the API users
    know from ``async for line in reader``); a sender wants its pieces as they
    were fed instead, without a cut at every newline. This gives a stream's
    ``iter_any()`` (any object with that method) and the Body's own iterator
    otherwise.

    Args:
        body: The Body to send.

    Returns:
        An async iterator over pieces whose concatenation is the body.
    """
    iter_any = getattr(body, "iter_any", None)
    if iter_any is not None:
        pieces: AsyncIterator[bytes] = iter_any()
        return pieces
    return body.__aiter__()
