"""The storage under StreamReader: fed pieces, consumed without needless copies.

The bytes fed and not yet read are the ``bytes`` objects the producer fed, in a
deque, plus an offset into the first one. Consuming a whole piece hands out the
object itself; consuming part of one slices it (one copy of the part); consuming
across pieces joins exactly the bytes returned, through memoryviews, so the
parts are copied once. ``read(n)`` consumes whole pieces when they fit in ``n``
(:meth:`PieceBuffer._take_whole`) rather than filling ``n`` exactly: a stream fed
in pieces of ``n`` bytes (a download read 64 KiB at a time) is then handed out
without a copy, even after a shorter piece that would otherwise shift every later
read off the pieces' edges. The flow-control state lives here too because every
consumption may be the one that drains the buffer to the low-water mark.

:class:`SeparatorSearch` finds a separator across pieces without joining them,
and resumes where it stopped when more pieces arrive, so a long line that comes
in many pieces is scanned once, not once per piece.
"""

from __future__ import annotations

from collections import deque

from ._body import Producer

__all__ = ["PieceBuffer", "SeparatorSearch"]


class PieceBuffer:
    """Buffered pieces, the count of bytes in them, and the producer they pause.

    The base of :class:`~httpwire.streams.StreamReader`; it holds no public API.
    """

    __slots__ = (
        "_buffer",
        "_low_water",
        "_max_pieces",
        "_offset",
        "_paused",
        "_producer",
        "_size",
    )

    def __init__(self, producer: Producer | None, low_water: int, max_pieces: int) -> None:
        self._buffer: deque[bytes] = deque()
        self._offset = 0  # bytes of the first piece already read
        self._size = 0  # bytes fed and not read
        self._producer = producer
        self._low_water = low_water
        # Each piece costs about 40 bytes beyond its data (the bytes object, its
        # slot in the deque): so many tiny pieces pause the producer too.
        self._max_pieces = max_pieces
        self._paused = False

    def _resume_if_drained(self) -> None:
        if self._size <= self._low_water and len(self._buffer) <= self._max_pieces >> 1:
            self._paused = False
            assert self._producer is not None
            self._producer.resume_reading()

    def _take(self, n: int) -> bytes:
        """Consume and return the first ``n`` buffered bytes (``0 < n <= _size``)."""
        buf = self._buffer
        first = buf[0]
        off = self._offset
        avail = len(first) - off
        if n < avail:
            self._offset = off + n
            data = first[off : off + n]
        elif n == avail:
            buf.popleft()
            self._offset = 0
            data = first[off:] if off else first
        elif n == self._size and not off:
            # Everything buffered, from the start of a piece: one join over the deque.
            data = b"".join(buf)
            buf.clear()
        else:
            parts: list[bytes | memoryview] = [memoryview(first)[off:] if off else first]
            buf.popleft()
            left = n - avail
            while left:
                chunk = buf[0]
                size = len(chunk)
                if size <= left:
                    parts.append(chunk)
                    buf.popleft()
                    left -= size
                else:
                    parts.append(memoryview(chunk)[:left])
                    self._offset = left
                    break
            else:
                self._offset = 0
            data = b"".join(parts)
        self._size -= n
        if self._paused:
            self._resume_if_drained()
        return data

    def _take_whole(self, n: int) -> bytes:
        """Consume whole pieces, at most ``n`` bytes in all, or ``n`` bytes of a larger first.

        What ``read(n)`` returns (``n > 0``, something buffered): a piece no longer than
        ``n`` comes out as it is, whatever follows it, so the reads of a stream fed in
        pieces of ``n`` bytes copy nothing, even after a shorter piece; pieces that fit
        in ``n`` together are joined once (small pieces, such as small chunks, are not
        handed out one by one); only a piece longer than ``n`` is cut.
        """
        buf = self._buffer
        first = buf[0]
        off = self._offset
        size = len(first) - off
        if size > n:
            self._offset = off + n
            data = first[off : off + n]
            size = n
        else:
            buf.popleft()
            if not buf or size + len(buf[0]) > n:
                # The common case: the piece by itself.
                if off:
                    self._offset = 0
                    first = first[off:]
                data = first
            else:
                parts: list[bytes | memoryview] = [memoryview(first)[off:] if off else first]
                self._offset = 0
                while buf:
                    piece = buf[0]
                    if size + len(piece) > n:
                        break
                    parts.append(piece)
                    buf.popleft()
                    size += len(piece)
                data = b"".join(parts)
        self._size -= size
        if self._paused:
            self._resume_if_drained()
        return data

    def _take_first(self) -> bytes:
        """Consume and return the rest of the first buffered piece."""
        first = self._buffer.popleft()
        off = self._offset
        if off:
            self._offset = 0
            first = first[off:]
        self._size -= len(first)
        if self._paused:
            self._resume_if_drained()
        return first

    def _put_back(self, data: bytes) -> None:
        """Return consumed bytes to the front of the buffer (for a cancelled read)."""
        buf = self._buffer
        if self._offset:
            buf[0] = buf[0][self._offset :]
            self._offset = 0
        buf.appendleft(data)
        self._size += len(data)

    def _peek(self, n: int) -> bytes:
        """The first ``n`` buffered bytes (or fewer), without consuming them."""
        parts: list[bytes] = []
        off = self._offset
        for chunk in self._buffer:
            parts.append(chunk[off : off + n])
            n -= len(parts[-1])
            off = 0
            if n <= 0:
                break
        return b"".join(parts)


class SeparatorSearch:
    """Finds a separator in a PieceBuffer's pieces, resuming where the last pass stopped.

    Valid while the buffer only grows at its end (nothing is consumed), which is
    the case while the one reader waits for more data.

    Args:
        separator: The non-empty separator to find.
    """

    __slots__ = ("_index", "_pos", "_sep", "_tail")

    def __init__(self, separator: bytes) -> None:
        self._sep = separator
        self._index = 0  # the next piece to search
        self._pos = 0  # where that piece starts, counted from the first unread byte
        self._tail = b""  # the last len(sep) - 1 bytes before that piece

    def find(self, pieces: deque[bytes], offset: int) -> int:
        """Return where the separator starts, counted from the first unread byte, or -1.

        Args:
            pieces: The buffer's pieces.
            offset: The bytes of the first piece already read.
        """
        sep = self._sep
        keep = len(sep) - 1  # bytes of a piece that may start a separator across pieces
        index = self._index
        pos = self._pos
        tail = self._tail
        try:
            while index < len(pieces):
                chunk = pieces[index]
                start = offset if index == 0 else 0
                if keep and tail:
                    j = (tail + chunk[start : start + keep]).find(sep)
                    if j >= 0:
                        return pos - len(tail) + j
                i = chunk.find(sep, start)
                if i >= 0:
                    return pos + i - start
                if keep:
                    tail = (tail + chunk[max(start, len(chunk) - keep) :])[-keep:]
                pos += len(chunk) - start
                index += 1
            return -1
        finally:
            self._index = index
            self._pos = pos
            self._tail = tail
