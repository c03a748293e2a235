"""Streaming payloads: bytes that come from an async iterable, a StreamReader or a Body.

An async iterable's or a StreamReader's size is unknown (the connection sends them
chunked) and they can be iterated only once. A body of the streams ``Body`` protocol
states its size and whether it can be iterated again; :class:`BodyPayload` keeps both, and
checks the count, since a body that yields more or fewer bytes than the Content-Length it
announced would leave the connection out of step with the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol, runtime_checkable

from ._errors import PayloadError
from ._payloads import OCTET_STREAM, Payload

__all__ = ["AsyncIterablePayload", "BodyPayload", "ReadAny", "SizedBody", "StreamReaderPayload"]


class AsyncIterablePayload(Payload):
    """Bytes from an async iterable (such as an async generator), sent as they come.

    Its size is unknown, so the connection sends it chunked; it can be iterated
    only once.

    Args:
        iterable: Yields ``bytes``, ``bytearray`` or ``memoryview``; empty pieces are skipped.
        content_type: Defaults to ``application/octet-stream``.
        filename: A name for the part when sent as a file in a form.

    Raises:
        PayloadError: While iterating, on a second iteration or an item that is not bytes.
    """

    __slots__ = ("_iterable", "_iterated")

    def __init__(
        self,
        iterable: AsyncIterable[bytes],
        *,
        content_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        if not isinstance(iterable, AsyncIterable):
            raise TypeError(
                f"AsyncIterablePayload needs an async iterable, not {type(iterable).__name__}"
            )
        super().__init__(
            size=None,
            reusable=False,
            content_type=content_type or OCTET_STREAM,
            filename=filename,
        )
        self._iterable = iterable
        self._iterated = False

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise PayloadError(f"{self!r} was already iterated; an async iterable runs only once")
        self._iterated = True
        index = 0
        async for piece in self._iterable:
            if type(piece) is not bytes:
                piece = _as_bytes(piece, f"item {index} of {self._iterable!r} is")
            index += 1
            if piece:
                yield piece

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


def _as_bytes(item: object, where: str) -> bytes:
    """A piece that is not ``bytes`` as ``bytes``; anything not bytes-like is a PayloadError
    whose message starts with ``where`` (callers check ``type(piece) is bytes`` first, so
    the message is built only for the rare other piece)."""
    if not isinstance(item, (bytes, bytearray, memoryview)):
        raise PayloadError(f"{where} {type(item).__name__}, not bytes")
    return bytes(item)


@runtime_checkable
class SizedBody(Protocol):
    """A body of the streams ``Body`` protocol: async iterable, with its size and reusability.

    Attributes:
        size: The exact length in bytes, or ``None`` when unknown.
        reusable: Whether iterating again starts the body over.
    """

    @property
    def size(self) -> int | None: ...

    @property
    def reusable(self) -> bool: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...


class BodyPayload(Payload):
    """A body of your own (the streams ``Body`` protocol), sent with the size it states.

    With a size the connection frames it with ``Content-Length``; without, chunked. When it
    is ``reusable`` it can be sent again (after a 307/308 redirect, or a retry).

    Args:
        body: Has ``size`` (``int`` or ``None``), ``reusable`` and ``__aiter__`` yielding bytes.
        content_type: Defaults to ``application/octet-stream``.
        filename: A name for the part when sent as a file in a form.

    Raises:
        TypeError: *body*'s ``size`` is not a non-negative int or ``None``.
        PayloadError: While iterating: an item that is not bytes, a second iteration of a
            body that is not reusable, or more or fewer bytes than ``size``.
    """

    __slots__ = ("_body", "_iterated")

    def __init__(
        self,
        body: SizedBody,
        *,
        content_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        size = body.size
        if size is not None and (type(size) is not int or size < 0):
            raise TypeError(
                f"{type(body).__name__}.size must be an int >= 0 or None, not {size!r}"
            )
        super().__init__(
            size=size,
            reusable=bool(body.reusable),
            content_type=content_type or OCTET_STREAM,
            filename=filename,
        )
        self._body = body
        self._iterated = False

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._iterated and not self.reusable:
            raise PayloadError(f"{self!r} was already iterated and its body is not reusable")
        self._iterated = True
        sent = 0
        async for piece in self._body:
            if type(piece) is not bytes:
                piece = _as_bytes(piece, f"{type(self._body).__name__} yielded")
            sent += len(piece)
            if self.size is not None and sent > self.size:
                raise PayloadError(
                    f"{type(self._body).__name__} yielded more than the {self.size} bytes "
                    "its size states"
                )
            if piece:
                yield piece
        if self.size is not None and sent != self.size:
            raise PayloadError(
                f"{type(self._body).__name__} yielded {sent} bytes, not the {self.size} bytes "
                "its size states"
            )

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


@runtime_checkable
class ReadAny(Protocol):
    """Anything with a ``readany()`` coroutine: a StreamReader, a part being received."""

    async def readany(self) -> bytes: ...


class StreamReaderPayload(Payload):
    """The bytes of a StreamReader (another response's ``content``, or one you feed).

    Reads until the reader's end of data; can be iterated only once.

    Args:
        reader: A ``httpwire.streams.StreamReader`` (anything with ``readany()``).
        content_type: Defaults to ``application/octet-stream``.
        filename: A name for the part when sent as a file in a form.
    """

    __slots__ = ("_iterated", "reader")

    def __init__(
        self, reader: ReadAny, *, content_type: str | None = None, filename: str | None = None
    ) -> None:
        if not isinstance(reader, ReadAny):
            raise TypeError(
                f"StreamReaderPayload needs a StreamReader, not {type(reader).__name__}"
            )
        super().__init__(
            size=None,
            reusable=False,
            content_type=content_type or OCTET_STREAM,
            filename=filename,
        )
        self.reader = reader
        self._iterated = False

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise PayloadError(f"{self!r} was already read; a StreamReader can be sent only once")
        self._iterated = True
        readany = self.reader.readany
        while True:
            piece = await readany()
            if not piece:
                break
            yield piece

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()
