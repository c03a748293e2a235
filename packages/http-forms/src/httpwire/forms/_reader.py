"""MultipartReader: parts read one by one from a stream, never the whole body at once.

The reader pulls pieces from its source (a StreamReader, or the part of an
enclosing multipart for a nested one) with ``readany()``, feeds them to the
sans-I/O :class:`~._parser.MultipartParser` and hands out its events: a
:class:`BodyPartReader` per part, whose data is read in pieces as they come.
Moving to the next part first reads what is left of the current one, so parts
may be skipped without being held in memory.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import quopri
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from multidict import CIMultiDictProxy

from ._errors import BoundaryError, MultipartError, MultipartLimitError
from ._headers import parse_header_params
from ._parser import (
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_LINE_SIZE,
    DEFAULT_MAX_PARTS,
    END_OF_MULTIPART,
    END_OF_PART,
    MultipartParser,
    ParserEvent,
    PartHead,
)

__all__ = ["BodyPartReader", "ByteSource", "MultipartReader"]

_DEFAULT_CHUNK = 64 * 1024


@runtime_checkable
class ByteSource(Protocol):
    """What a MultipartReader reads from: ``readany()`` giving ``b""`` at the end."""

    async def readany(self) -> bytes:
        """The next bytes available (waiting for some), or ``b""`` at the end."""
        ...


def _content_type_of(headers: Mapping[str, str] | str) -> str:
    if isinstance(headers, str):
        return headers
    value = headers.get("Content-Type")
    if value is None:
        raise BoundaryError("no Content-Type header: cannot tell the multipart boundary")
    return value


class MultipartReader:
    """Reads the parts of a multipart body from a stream (RFC 2046 §5.1, RFC 7578).

    Args:
        headers: The message headers (their Content-Type is used) or the Content-Type
            value itself, e.g. ``'multipart/form-data; boundary=abc'``.
        content: Where the body comes from: a ``httpwire.streams.StreamReader``
            (anything with ``readany()``).
        max_line_size: Longest part header line accepted, in bytes.
        max_headers: Most headers accepted in one part.
        max_parts: Most parts accepted.

    Attributes:
        content_type: The Content-Type value the reader was given.
        subtype: The multipart subtype, lowercased (``form-data``, ``mixed``...).
        boundary: The boundary from the content type.

    Raises:
        BoundaryError: When the content type is not ``multipart/*`` or has no usable
            boundary (RFC 2046 §5.1.1: 1 to 70 characters).

    Example::

        reader = MultipartReader(request_headers, body_stream)
        async for part in reader:
            if part.filename is not None:
                async for chunk in part: ...
            else:
                print(part.name, await part.text())
    """

    __slots__ = (
        "_current",
        "_events",
        "_limits",
        "_parser",
        "_source",
        "boundary",
        "content_type",
        "subtype",
    )

    def __init__(
        self,
        headers: Mapping[str, str] | str,
        content: ByteSource,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_parts: int = DEFAULT_MAX_PARTS,
    ) -> None:
        content_type = _content_type_of(headers)
        mimetype, params = parse_header_params(content_type)
        if not mimetype.startswith("multipart/"):
            raise BoundaryError(
                f"Content-Type {content_type[:80]!r} is not multipart/* (RFC 2046 §5.1)"
            )
        boundary = params.get("boundary")
        if not boundary:
            raise BoundaryError(
                f"Content-Type {content_type[:80]!r} has no boundary parameter "
                "(RFC 2046 §5.1.1 requires one)"
            )
        self.content_type = content_type
        self.subtype = mimetype.partition("/")[2]
        self.boundary = boundary
        self._limits = (max_line_size, max_headers, max_parts)
        self._parser = MultipartParser(
            boundary, max_line_size=max_line_size, max_headers=max_headers, max_parts=max_parts
        )
        self._source = content
        self._events: collections.deque[ParserEvent] = collections.deque()
        self._current: BodyPartReader | None = None

    def at_eof(self) -> bool:
        """True once the close delimiter was read and every part handed out."""
        return self._parser.finished and not self._events and self._current is None

    async def _next_event(self) -> ParserEvent:
        events = self._events
        while not events:
            self._parser.raise_deferred()
            if self._parser.finished:
                return END_OF_MULTIPART
            data = await self._source.readany()
            if data:
                events.extend(self._parser.feed(data))
            else:
                # Raises, since the parser has not seen the close delimiter.
                events.extend(self._parser.feed_eof())
        return events.popleft()

    async def next(self) -> BodyPartReader | MultipartReader | None:
        """The next part, or None after the last one.

        What is left of the previous part is read and dropped first. A part whose
        Content-Type is ``multipart/*`` comes as a nested :class:`MultipartReader`.

        Raises:
            MultipartError: On malformed input or a limit exceeded, naming the part and
                the byte offset.
        """
        if self._current is not None:
            await self._current.release()
            self._current = None
        if self._parser.finished and not self._events:
            return None
        event = await self._next_event()
        if event is END_OF_MULTIPART:
            return None
        if not isinstance(event, PartHead):  # pragma: no cover - the parser's order
            raise MultipartError(f"unexpected parser event {event!r}")
        part = BodyPartReader(self, event)
        mimetype, _ = parse_header_params(event.headers.get("Content-Type", ""))
        if mimetype.startswith("multipart/"):
            max_line_size, max_headers, max_parts = self._limits
            nested = MultipartReader(
                event.headers,
                part,
                max_line_size=max_line_size,
                max_headers=max_headers,
                max_parts=max_parts,
            )
            # Releasing the enclosing part also drains whatever the nested reader left.
            self._current = part
            return nested
        self._current = part
        return part

    async def release(self) -> None:
        """Read the rest of the body, dropping every remaining part."""
        while await self.next() is not None:
            pass

    def __aiter__(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        while True:
            part = await self.next()
            if part is None:
                return
            yield part

    def __repr__(self) -> str:
        return f"<MultipartReader {self.content_type!r}>"


class BodyPartReader:
    """One part of a multipart body, read in pieces.

    Attributes:
        index: The part's index, from 0.
        headers: The part's headers.
        raw_headers: The headers as received, in order.
    """

    __slots__ = ("_at_eof", "_pending", "_reader", "headers", "index", "raw_headers")

    def __init__(self, reader: MultipartReader, head: PartHead) -> None:
        self._reader = reader
        self.index = head.index
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(head.headers)
        self.raw_headers = head.raw_headers
        self._pending = b""
        self._at_eof = False

    def _disposition(self) -> tuple[str, dict[str, str]]:
        value = self.headers.get("Content-Disposition")
        if value is None:
            return "", {}
        return parse_header_params(value, form_data=self._reader.subtype == "form-data")

    @property
    def name(self) -> str | None:
        """The ``name`` parameter of Content-Disposition (a form field's name)."""
        return self._disposition()[1].get("name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` parameter of Content-Disposition (``filename*`` preferred)."""
        return self._disposition()[1].get("filename")

    @property
    def content_type(self) -> str:
        """The part's media type, lowercased; ``text/plain`` when it has none (RFC 2046 §5.1)."""
        value = self.headers.get("Content-Type")
        if value is None:
            return "text/plain"
        return parse_header_params(value)[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the part's Content-Type, if any."""
        value = self.headers.get("Content-Type")
        return parse_header_params(value)[1].get("charset") if value else None

    def at_eof(self) -> bool:
        """True once all of the part's data was read."""
        return self._at_eof and not self._pending

    async def readany(self) -> bytes:
        """The next piece of the part's data as it arrived, or ``b""`` at its end."""
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        if self._at_eof:
            return b""
        event = await self._reader._next_event()
        if type(event) is bytes:
            return event
        if event is END_OF_PART:
            self._at_eof = True
            return b""
        raise MultipartError(  # pragma: no cover - the parser's order
            f"unexpected parser event {event!r} in part {self.index}"
        )

    async def read_chunk(self, size: int = _DEFAULT_CHUNK) -> bytes:
        """Up to *size* bytes of the part's data, or ``b""`` at its end.

        Args:
            size: The most bytes to return; fewer come back when less has arrived.
        """
        if size <= 0:
            raise ValueError(f"size must be positive, not {size}")
        data = await self.readany()
        if len(data) > size:
            self._pending = data[size:]
            data = data[:size]
        return data

    async def read(self, *, decode: bool = False, max_size: int | None = None) -> bytes:
        """All of the part's (remaining) data.

        Args:
            decode: Undo a ``base64`` or ``quoted-printable`` Content-Transfer-Encoding.
            max_size: The most bytes to hold (before decoding); a bigger part raises
                instead of filling memory. None: no limit.

        Raises:
            MultipartLimitError: When the part is bigger than *max_size*.
            MultipartError: When the transfer-encoded data is invalid.
        """
        pieces = []
        size = 0
        while True:
            piece = await self.readany()
            if not piece:
                break
            size += len(piece)
            if max_size is not None and size > max_size:
                raise MultipartLimitError(
                    f"part {self.index} ({self.name!r}) is larger than max_size={max_size} bytes",
                    part=self.index,
                )
            pieces.append(piece)
        data = b"".join(pieces)
        return self.decode(data) if decode else data

    def decode(self, data: bytes) -> bytes:
        """Undo the part's Content-Transfer-Encoding (``base64``, ``quoted-printable``)."""
        encoding = self.headers.get("Content-Transfer-Encoding", "").strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(b"".join(data.split()), validate=True)
            except binascii.Error as exc:
                raise MultipartError(
                    f"invalid base64 data in part {self.index}: {exc}", part=self.index
                ) from exc
        if encoding == "quoted-printable":
            return quopri.decodestring(data)
        if encoding in ("", "binary", "8bit", "7bit"):
            return data
        raise MultipartError(
            f"unknown Content-Transfer-Encoding {encoding[:40]!r} in part {self.index}",
            part=self.index,
        )

    async def text(
        self, *, encoding: str | None = None, errors: str = "strict", max_size: int | None = None
    ) -> str:
        """The part's data decoded as text (charset from its Content-Type, else UTF-8).

        Raises:
            MultipartLimitError: When the part is bigger than *max_size* bytes.
        """
        data = await self.read(decode=True, max_size=max_size)
        return data.decode(encoding or self.charset or "utf-8", errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = json.loads,
        max_size: int | None = None,
    ) -> Any:
        """The part's data parsed as JSON; None when the part is empty.

        Raises:
            MultipartLimitError: When the part is bigger than *max_size* bytes.
        """
        data = await self.read(decode=True, max_size=max_size)
        if not data:
            return None
        return loads(data.decode(encoding or self.charset or "utf-8"))

    async def form(
        self, *, encoding: str | None = None, max_size: int | None = None
    ) -> list[tuple[str, str]]:
        """The part's data parsed as ``application/x-www-form-urlencoded`` pairs.

        Raises:
            MultipartLimitError: When the part is bigger than *max_size* bytes.
        """
        data = await self.read(decode=True, max_size=max_size)
        charset = encoding or self.charset or "utf-8"
        return urllib.parse.parse_qsl(
            data.decode(charset), keep_blank_values=True, encoding=charset
        )

    async def release(self) -> None:
        """Read and drop the rest of the part's data."""
        self._pending = b""
        while await self.readany():
            self._pending = b""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self.readany()
            if not piece:
                return
            yield piece

    def __repr__(self) -> str:
        return f"<BodyPartReader {self.index} name={self.name!r} filename={self.filename!r}>"
