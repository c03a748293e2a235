"""Which payload sends a single value."""

from __future__ import annotations

import io
from collections.abc import AsyncIterable

from ._files import FilePayload, TextFilePayload
from ._payloads import BytesPayload, Payload, StringPayload
from ._streaming import AsyncIterablePayload, BodyPayload, ReadAny, SizedBody, StreamReaderPayload

__all__ = ["is_file", "simple_payload"]


def is_file(value: object) -> bool:
    """True for a file object: an io object, or anything with a ``read()`` but no ``readany()``.

    StreamReaders and parts of a received multipart have ``read()`` too, but they
    are coroutines read on the loop, not files.
    """
    if isinstance(value, io.IOBase):
        return True
    return callable(getattr(value, "read", None)) and not isinstance(value, ReadAny)


def _is_text_file(value: object) -> bool:
    if isinstance(value, io.TextIOBase):
        return True
    if isinstance(value, (io.RawIOBase, io.BufferedIOBase)):
        return False
    # Plain io.IOBase objects (SpooledTemporaryFile) and file-likes: trust the mode.
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
    text file → :class:`TextFilePayload`; a body with its own ``size`` and ``reusable``
    (the streams ``Body`` protocol) → :class:`BodyPayload`, which keeps both; another async
    iterable → :class:`AsyncIterablePayload`; a :class:`Payload` → itself.
    """
    if isinstance(value, Payload):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BytesPayload(value, content_type=content_type, filename=filename)
    if isinstance(value, str):
        return StringPayload(value, content_type=content_type, filename=filename)
    if isinstance(value, ReadAny):
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
    if isinstance(value, SizedBody):
        return BodyPayload(value, content_type=content_type, filename=filename)
    if isinstance(value, AsyncIterable):
        return AsyncIterablePayload(value, content_type=content_type, filename=filename)
    return None
