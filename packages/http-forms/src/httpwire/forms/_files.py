"""File payloads: a file read in pieces on the default executor, never whole.

Reading a piece of a file may block on the disk, so reads run on the loop's
default executor: the event loop never waits for the disk. Each executor call
reads a few pieces (four of 256 KiB by default), since the hop to the executor
costs as much as copying a few hundred KiB; memory holds about one such batch
whatever the file's size. A file that can seek remembers the
position it had when the payload was made and seeks back there before each
iteration, so the payload is reusable (redirects, retries).
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
from collections.abc import AsyncIterator
from typing import IO

from ._errors import PayloadError
from ._payloads import (
    DEFAULT_CHUNK_SIZE,
    OCTET_STREAM,
    Payload,
    charset_of,
    guess_filename,
    guess_type,
)

__all__ = ["FilePayload", "TextFilePayload"]

# Pieces read per executor call (see FilePayload._iterate).
_PIECES_PER_HOP = 4


class FilePayload(Payload):
    """A binary file, read in pieces on the default executor, never whole.

    The file's current position is where the body starts. When the file can seek,
    its size is known (up to its end, as it was when the payload was made), the
    payload is reusable, and each iteration seeks back to that start. When it
    cannot seek (a pipe), the size is ``None`` and the payload can be sent once.

    While the payload is being sent, the file belongs to it: reading or seeking it
    elsewhere at the same time mixes up the body.

    A connection may send a regular file with ``loop.sendfile``: when
    :attr:`can_sendfile` is true, ``loop.sendfile(transport, payload.file,
    payload.offset, payload.size)`` sends exactly the body.

    Args:
        file: A file object opened in binary mode (``open(path, 'rb')``, ``BytesIO``...).
        content_type: Defaults to a guess from the filename, else
            ``application/octet-stream``.
        filename: Defaults to the base name of ``file.name``.
        chunk_size: Bytes per read, and the most in one yielded piece.

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
            content_type=content_type or guess_type(filename, OCTET_STREAM),
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
        # A hop to the executor and back costs tens of microseconds, as much as copying
        # a few hundred KiB: each hop reads several pieces, and they are yielded one by one.
        batch = 1 if in_memory else _PIECES_PER_HOP
        while remaining is None or remaining > 0:
            if in_memory:
                pieces = _read_pieces(file, chunk, remaining, 1)
            else:
                pieces = await loop.run_in_executor(
                    None, _read_pieces, file, chunk, remaining, batch
                )
            if not pieces:
                break
            # Pop each piece out of the list: the executor's future still holds the list,
            # and must not keep pieces alive once the consumer has dropped them.
            pieces.reverse()
            while pieces:
                raw = pieces.pop()
                piece = raw if type(raw) is bytes else self._as_bytes(raw)
                del raw
                if remaining is not None:
                    remaining -= len(piece)
                yield piece
                del piece
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


def _read_pieces(file: IO[bytes], chunk: int, remaining: int | None, count: int) -> list[object]:
    """Up to *count* reads of *chunk* bytes (fewer at the end, or after a short read).

    A short read means the end of a regular file, or that a pipe or socket has no
    more for now: the pieces read so far are returned rather than waiting for more.
    """
    pieces: list[object] = []
    for _ in range(count):
        want = chunk if remaining is None else min(chunk, remaining)
        if want <= 0:
            break
        raw: object = file.read(want)
        if not raw:
            break
        pieces.append(raw)
        size = len(raw)  # type: ignore[arg-type]  # checked by the caller
        if remaining is not None:
            remaining -= size
        if size < want:
            break
    return pieces


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
            encoding = (charset_of(content_type) if content_type else None) or "utf-8"
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
