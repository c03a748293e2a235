"""Payloads: every request body httpwire sends, each a Body with a content type.

A payload is a :class:`Payload`: the Body protocol of httpwire.streams (``size``,
``reusable``, async iteration of raw ``bytes``) plus ``content_type`` and, for
parts of a form, ``filename``. A payload never frames what it yields:
Content-Length or chunked coding is the connection's business.

In-memory payloads (bytes, str, JSON) are encoded once, when made, so their size
is exact and they can be sent any number of times. File payloads read the file
in pieces on the loop's default executor, so a slow disk never stalls the event
loop and memory stays bounded by a few pieces whatever the file's size; a
seekable file remembers where it started and seeks back there before each
iteration, which makes it reusable (redirects, retries). Streaming payloads
(async iterables, StreamReaders) can be iterated once.
"""

from __future__ import annotations

import abc
import asyncio
import io
import json
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import IO, Any, Protocol, runtime_checkable

from ._errors import PayloadError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "AsyncIterablePayload",
    "BytesPayload",
    "FilePayload",
    "JsonPayload",
    "Payload",
    "StreamReaderPayload",
    "StringPayload",
    "TextFilePayload",
    "guess_filename",
    "is_file",
    "simple_payload",
]

#: Bytes read from a file per executor call: large enough that the hop to the
#: executor costs nothing next to the copy, small enough to bound memory.
DEFAULT_CHUNK_SIZE = 256 * 1024

_OCTET_STREAM = "application/octet-stream"


def _charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _check_content_type(content_type: str) -> str:
    if not isinstance(content_type, str):
        raise TypeError(f"content_type must be str, not {type(content_type).__name__}")
    if "\r" in content_type or "\n" in content_type or "\x00" in content_type:
        raise ValueError(
            f"content_type {content_type[:60]!r} contains CR, LF or NUL, which would "
            "inject a header (RFC 9110 §5.5)"
        )
    return content_type


def guess_filename(obj: object, default: str | None = None) -> str | None:
    """The base name of a file object's ``name``, or *default*.

    ``open('/tmp/report.xls', 'rb')`` gives ``'report.xls'``. Names that are not
    paths (an int file descriptor, ``'<stdin>'``) give *default*.
    """
    name = getattr(obj, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        base = os.path.basename(name)
        if base:
            return base
    return default


def _guess_type(filename: str | None, default: str) -> str:
    if filename:
        guessed, _ = mimetypes.guess_type(filename, strict=False)
        if guessed:
            return guessed
    return default


class Payload(abc.ABC):
    """A request body: the Body protocol plus a content type.

    Attributes:
        size: Exact number of bytes the iteration yields, or ``None`` when unknown.
        reusable: True when the payload can be iterated again and yields the same bytes.
        content_type: The media type to send in Content-Type.
        filename: The name to give the part when the payload is a file in a form.
    """

    __slots__ = ("content_type", "filename", "reusable", "size")

    size: int | None
    reusable: bool
    content_type: str
    filename: str | None

    def __init__(
        self, *, size: int | None, reusable: bool, content_type: str, filename: str | None
    ) -> None:
        self.size = size
        self.reusable = reusable
        self.content_type = _check_content_type(content_type)
        self.filename = filename

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body's bytes, in pieces of any size (never empty)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.content_type!r} size={self.size}>"


class BytesPayload(Payload):
    """A payload of bytes held in memory.

    A ``bytearray`` or ``memoryview`` is copied once, so changing it afterwards
    cannot make the body disagree with its size.

    Args:
        value: The bytes to send.
        content_type: Defaults to ``application/octet-stream``.
        filename: A name for the part when sent as a file in a form.
    """

    __slots__ = ("_value",)

    def __init__(
        self,
        value: bytes | bytearray | memoryview,
        *,
        content_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"BytesPayload needs bytes-like data, not {type(value).__name__}")
        data = value if type(value) is bytes else bytes(value)
        super().__init__(
            size=len(data),
            reusable=True,
            content_type=content_type or _OCTET_STREAM,
            filename=filename,
        )
        self._value = data

    @property
    def value(self) -> bytes:
        """The bytes this payload sends."""
        return self._value

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._value:
            yield self._value

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


class StringPayload(BytesPayload):
    """A str encoded once with a charset.

    Args:
        value: The text.
        content_type: Defaults to ``text/plain; charset=<encoding>``. A ``charset``
            parameter in it chooses the encoding when *encoding* is not given.
        encoding: The charset; defaults to the content type's, else UTF-8.
        filename: A name for the part when sent as a file in a form.

    Raises:
        UnicodeEncodeError: When the text cannot be encoded in the charset.
    """

    __slots__ = ("encoding",)

    def __init__(
        self,
        value: str,
        *,
        content_type: str | None = None,
        encoding: str | None = None,
        filename: str | None = None,
    ) -> None:
        if not isinstance(value, str):
            raise TypeError(f"StringPayload needs str, not {type(value).__name__}")
        if encoding is None:
            encoding = (_charset_of(content_type) if content_type else None) or "utf-8"
        if content_type is None:
            content_type = f"text/plain; charset={encoding}"
        self.encoding = encoding
        super().__init__(value.encode(encoding), content_type=content_type, filename=filename)


class JsonPayload(BytesPayload):
    """A value serialized to JSON once, when the payload is made.

    Args:
        value: Anything *dumps* accepts.
        content_type: Defaults to ``application/json``.
        dumps: The serializer, ``json.dumps`` by default.
        encoding: The charset of the encoded text (UTF-8, as RFC 8259 §8.1 requires
            for JSON exchanged between systems).
    """

    __slots__ = ()

    def __init__(
        self,
        value: object,
        *,
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        encoding: str = "utf-8",
    ) -> None:
        super().__init__(dumps(value).encode(encoding), content_type=content_type)


class FilePayload(Payload):
    """A binary file, read in pieces on the default executor, never whole.

    The file's current position is where the body starts. When the file can seek,
    its size is known (up to its end, as it was when the payload was made), the
    payload is reusable, and each iteration seeks back to that start. When it
    cannot seek (a pipe), the size is ``None`` and the payload can be sent once.

    A connection may send a regular file with ``loop.sendfile``: when
    :attr:`can_sendfile` is true, ``loop.sendfile(transport, payload.file,
    payload.offset, payload.size)`` sends exactly the body.

    Args:
        file: A file object opened in binary mode (``open(path, 'rb')``, ``BytesIO``...).
        content_type: Defaults to a guess from the filename, else
            ``application/octet-stream``.
        filename: Defaults to the base name of ``file.name``.
        chunk_size: Bytes per read.

    Raises:
        PayloadError: While iterating, when the file ends before the size it had,
            when it yields text, or on a second iteration of a file that cannot seek.
    """

    __slots__ = ("_chunk_size", "_iterated", "file", "offset")

    file: IO[bytes]
    offset: int | None

    def __init__(
        self,
        file: IO[bytes] | io.BufferedIOBase | io.RawIOBase,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        if filename is None:
            filename = guess_filename(file)
        offset, size = _position_and_size(file)
        super().__init__(
            size=size,
            reusable=offset is not None,
            content_type=content_type or _guess_type(filename, _OCTET_STREAM),
            filename=filename,
        )
        self.file = file  # type: ignore[assignment]  # any binary file object works
        self.offset = offset
        self._chunk_size = chunk_size
        self._iterated = False

    @property
    def can_sendfile(self) -> bool:
        """True when the body is a known-size byte range of a regular file with a descriptor."""
        if self.offset is None or self.size is None:
            return False
        try:
            fd = self.file.fileno()
            return stat.S_ISREG(os.fstat(fd).st_mode)
        except (OSError, ValueError, AttributeError):
            return False

    def _start(self) -> None:
        if self._iterated and self.offset is None:
            raise PayloadError(
                f"{self!r} reads a file that cannot seek back, so it can be sent only once"
            )
        self._iterated = True

    async def _iterate(self) -> AsyncIterator[bytes]:
        self._start()
        file = self.file
        in_memory = isinstance(file, io.BytesIO)
        loop = asyncio.get_running_loop()
        if self.offset is not None:
            if in_memory:
                file.seek(self.offset)
            else:
                await loop.run_in_executor(None, file.seek, self.offset)
        remaining = self.size
        chunk = self._chunk_size
        read = file.read
        while remaining is None or remaining > 0:
            want = chunk if remaining is None else min(chunk, remaining)
            raw: object = read(want) if in_memory else await loop.run_in_executor(None, read, want)
            if not raw:
                break
            piece = raw if type(raw) is bytes else self._as_bytes(raw)
            if remaining is not None:
                remaining -= len(piece)
            yield piece
        if remaining:
            raise PayloadError(
                f"file {self.filename!r} ended {remaining} bytes short of the {self.size} "
                "bytes it held when the payload was made"
            )

    def _as_bytes(self, raw: object) -> bytes:
        if isinstance(raw, (bytes, bytearray, memoryview)):
            return bytes(raw)
        raise PayloadError(
            f"{self!r}: file.read() returned {type(raw).__name__}, not bytes "
            "(open the file in binary mode, or use TextFilePayload)"
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


def _position_and_size(file: object) -> tuple[int | None, int | None]:
    """Where a file's body starts and how many bytes follow, when it can tell."""
    try:
        if not file.seekable():  # type: ignore[attr-defined]
            return None, None
        start = file.tell()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None, None
    if not isinstance(start, int):
        return None, None
    try:
        st = os.fstat(file.fileno())  # type: ignore[attr-defined]
        if stat.S_ISREG(st.st_mode):
            return start, max(st.st_size - start, 0)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    if isinstance(file, io.BytesIO):
        return start, max(file.getbuffer().nbytes - start, 0)
    try:
        end = file.seek(0, os.SEEK_END)  # type: ignore[attr-defined]
        file.seek(start)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return start, None
    return start, max(end - start, 0)


class TextFilePayload(Payload):
    """A text file, read in pieces on the default executor and encoded with a charset.

    The encoded size cannot be known without reading the file, so ``size`` is
    ``None`` (the connection sends it chunked). A seekable file is reusable: its
    position when the payload was made is restored before each iteration.

    Args:
        file: A file object opened in text mode.
        content_type: Defaults to ``text/plain; charset=<encoding>``.
        encoding: The charset to send in; defaults to UTF-8.
        filename: Defaults to the base name of ``file.name``.
        chunk_size: Characters per read.
    """

    __slots__ = ("_chunk_size", "_iterated", "encoding", "file", "offset")

    file: IO[str]
    offset: int | None

    def __init__(
        self,
        file: IO[str] | io.TextIOBase,
        *,
        content_type: str | None = None,
        encoding: str | None = None,
        filename: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        if encoding is None:
            encoding = (_charset_of(content_type) if content_type else None) or "utf-8"
        if filename is None:
            filename = guess_filename(file)
        try:
            offset: int | None = file.tell() if file.seekable() else None
        except (OSError, ValueError):
            offset = None
        super().__init__(
            size=None,
            reusable=offset is not None,
            content_type=content_type or f"text/plain; charset={encoding}",
            filename=filename,
        )
        self.file = file  # type: ignore[assignment]  # any text file object works
        self.offset = offset
        self.encoding = encoding
        self._chunk_size = chunk_size
        self._iterated = False

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._iterated and self.offset is None:
            raise PayloadError(
                f"{self!r} reads a file that cannot seek back, so it can be sent only once"
            )
        self._iterated = True
        loop = asyncio.get_running_loop()
        file = self.file
        if self.offset is not None:
            await loop.run_in_executor(None, file.seek, self.offset)
        while True:
            text = await loop.run_in_executor(None, file.read, self._chunk_size)
            if not text:
                break
            if not isinstance(text, str):
                raise PayloadError(
                    f"{self!r}: file.read() returned {type(text).__name__}, not str "
                    "(open the file in text mode, or use FilePayload)"
                )
            yield text.encode(self.encoding)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


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
            content_type=content_type or _OCTET_STREAM,
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
                if not isinstance(piece, (bytes, bytearray, memoryview)):
                    raise PayloadError(
                        f"item {index} of {self._iterable!r} is {type(piece).__name__}, not bytes"
                    )
                piece = bytes(piece)
            index += 1
            if piece:
                yield piece

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


@runtime_checkable
class _ReadAny(Protocol):
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
        self, reader: _ReadAny, *, content_type: str | None = None, filename: str | None = None
    ) -> None:
        if not isinstance(reader, _ReadAny):
            raise TypeError(
                f"StreamReaderPayload needs a StreamReader, not {type(reader).__name__}"
            )
        super().__init__(
            size=None,
            reusable=False,
            content_type=content_type or _OCTET_STREAM,
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


def is_file(value: object) -> bool:
    """True for a file object: an io object, or anything with a ``read()`` but no ``readany()``.

    StreamReaders and parts of a received multipart have ``read()`` too, but they
    are coroutines read on the loop, not files.
    """
    if isinstance(value, io.IOBase):
        return True
    return callable(getattr(value, "read", None)) and not isinstance(value, _ReadAny)


def _is_text_file(value: object) -> bool:
    if isinstance(value, io.TextIOBase):
        return True
    if isinstance(value, (io.RawIOBase, io.BufferedIOBase)):
        return False
    # Objects that are not io classes (SpooledTemporaryFile on 3.10...): trust the mode.
    mode = getattr(value, "mode", None)
    return isinstance(mode, str) and "b" not in mode and hasattr(value, "encoding")


def simple_payload(
    value: object, *, content_type: str | None = None, filename: str | None = None
) -> Payload | None:
    """The payload for a single value, or None when the value is of no supported kind.

    bytes-like → :class:`BytesPayload`; str → :class:`StringPayload`; anything with a
    ``readany()`` coroutine, such as a StreamReader or a received part (checked before
    files and async iterables, since those have ``read()`` and iterating a StreamReader
    gives lines) → :class:`StreamReaderPayload`; a binary file → :class:`FilePayload`; a
    text file → :class:`TextFilePayload`; an async iterable → :class:`AsyncIterablePayload`;
    a :class:`Payload` → itself.
    """
    if isinstance(value, Payload):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BytesPayload(value, content_type=content_type, filename=filename)
    if isinstance(value, str):
        return StringPayload(value, content_type=content_type, filename=filename)
    if isinstance(value, _ReadAny):
        return StreamReaderPayload(value, content_type=content_type, filename=filename)
    if is_file(value):
        if _is_text_file(value):
            return TextFilePayload(
                value,  # type: ignore[arg-type]  # checked above
                content_type=content_type,
                filename=filename,
            )
        return FilePayload(
            value,  # type: ignore[arg-type]  # checked above
            content_type=content_type,
            filename=filename,
        )
    if isinstance(value, AsyncIterable):
        return AsyncIterablePayload(value, content_type=content_type, filename=filename)
    return None
