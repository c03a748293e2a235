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
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "OCTET_STREAM",
    "BytesPayload",
    "JsonPayload",
    "Payload",
    "StringPayload",
    "charset_of",
    "guess_filename",
    "guess_type",
]

#: Bytes per read of a file payload, and the most in one piece it yields.
DEFAULT_CHUNK_SIZE = 256 * 1024

#: The media type of bytes of unknown kind (RFC 2046 §4.5.1).
OCTET_STREAM = "application/octet-stream"


def charset_of(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type value, if any."""
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


def guess_type(filename: str | None, default: str) -> str:
    """The media type guessed from a file name's extension, or *default*."""
    if filename:
        import mimetypes  # only to guess a type: kept off the import path

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
            content_type=content_type or OCTET_STREAM,
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
            encoding = (charset_of(content_type) if content_type else None) or "utf-8"
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
