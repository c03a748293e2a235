"""StreamReader: an asyncio byte stream fed by a producer, with flow control.

Strategy. The storage and its copy-free consumption are in ``_buffer.py``;
this module adds the producer's side, waiting, and the read methods. A read
that finds what it needs in the buffer never touches the event loop. A read
that must wait creates one future, stored in ``_waiter``; the producer's next
call (data, a chunk end, the end, an error) completes it, and the read looks
at the buffer again. A read consumes only once it has all it needs (``read()``
of everything, which drains as it goes, puts the bytes back if interrupted),
so a read cancelled while waiting loses nothing. Only one coroutine may wait
at a time (:class:`ConcurrentReadError` otherwise).

Flow control: when buffered bytes pass ``high_water`` the producer is paused
(once), and when reads bring them down to ``low_water`` it is resumed (once).
A read that needs more than is buffered (``readexactly(n)`` with a large
``n``, a long line, ``read()`` of everything) resumes a paused producer and
lifts the pause threshold to what it needs while it waits: it could never
finish otherwise. When it ends (a line may end well before the lifted threshold,
a read may be cancelled) it pauses the producer again if more than
``high_water`` is left, so the bound below holds between reads too.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections import deque

from ._body import Producer
from ._buffer import PieceBuffer, SeparatorSearch
from ._errors import ConcurrentReadError, FeedAfterEofError, IncompleteReadError, LineTooLongError
from ._iterators import ChunkIterator, LineIterator, ReadIterator

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LIMIT",
    "EmptyStreamReader",
    "StreamReader",
]

#: Default ``high_water`` of a StreamReader: 256 KiB.
DEFAULT_HIGH_WATER = 2**18
#: Default ``limit`` of ``readline()``/``readuntil()``: 64 KiB.
DEFAULT_LIMIT = 2**16


def _as_bytes(data: object) -> bytes:
    """Copy a bytes-like object into ``bytes``, or explain why it cannot be fed."""
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"feed_data() takes bytes, got {type(data).__name__}: {repr(data)[:40]}")


class StreamReader(PieceBuffer):
    """An asyncio stream of bytes fed by a producer, with bounded buffering.

    The producer side calls :meth:`feed_data`, :meth:`end_chunk`,
    :meth:`feed_eof` and :meth:`set_exception`; one consumer at a time awaits
    the read methods. A StreamReader is a :class:`~httpwire.streams.Body`
    (``size`` None, not ``reusable``) whose iteration yields its lines, so it
    can be sent as a request body.

    Args:
        producer: Told to ``pause_reading()`` when more than ``high_water``
            bytes are buffered and to ``resume_reading()`` when reads bring
            them down to ``low_water``. ``None`` (the default): feeding never
            pauses anyone and the buffer grows with what is fed.
        high_water: Buffered bytes above which the producer is paused (256 KiB);
            also positional, which makes the reader a little faster to create.
            The buffer stays at or below ``high_water`` plus one fed piece,
            provided the producer stops feeding once paused; a read that needs
            more (``readexactly(n)``, a line up to ``limit``, ``read()``)
            lets it grow to what it needs.
        low_water: Buffered bytes at or below which a paused producer is
            resumed; a quarter of ``high_water`` when omitted.
        limit: The longest line, separator included, that :meth:`readline`
            and :meth:`readuntil` accept (64 KiB).

    Raises:
        ValueError: A watermark or the limit is out of range.
    """

    __slots__ = (
        "_chunk_ends",
        "_draining",
        "_eof",
        "_eof_waiter",
        "_exception",
        "_high_water",
        "_last_mark",
        "_limit",
        "_pause_at",
        "_piece_cap",
        "_total_bytes",
        "_waiter",
        "_waiter_name",
    )

    def __init__(
        self,
        producer: Producer | None = None,
        high_water: int = DEFAULT_HIGH_WATER,
        *,
        low_water: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        if high_water <= 0:
            raise ValueError(f"high_water must be a positive number of bytes, got {high_water!r}")
        if low_water is None:
            low_water = high_water // 4
        elif not 0 <= low_water <= high_water:
            raise ValueError(
                f"low_water must be between 0 and high_water ({high_water}), got {low_water!r}"
            )
        if limit <= 0:
            raise ValueError(f"limit must be a positive number of bytes, got {limit!r}")
        super().__init__(producer, low_water, max(64, high_water // 64))
        self._high_water = high_water
        self._piece_cap = self._max_pieces
        self._limit = limit
        self._pause_at = high_water
        self._total_bytes = 0
        self._eof = False
        self._exception: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._waiter_name = ""
        self._eof_waiter: asyncio.Future[None] | None = None
        self._chunk_ends: deque[int] | None = None
        self._last_mark = 0
        self._draining = False

    def __repr__(self) -> str:
        state = [f"{self._size} bytes buffered", f"{self._total_bytes} fed"]
        if self._eof:
            state.append("eof")
        if self._paused:
            state.append("paused")
        if self._exception is not None:
            state.append(f"exception={self._exception!r}")
        if self._waiter is not None:
            state.append(f"waiting in {self._waiter_name}()")
        return f"<{type(self).__name__} {', '.join(state)}>"

    # -- the Body protocol ------------------------------------------------------------------

    @property
    def size(self) -> int | None:
        """Always ``None``: a stream does not know its length in advance."""
        return None

    @property
    def reusable(self) -> bool:
        """Always ``False``: bytes read from a stream are gone."""
        return False

    def __aiter__(self) -> LineIterator:
        """Iterate over the lines of the stream (``async for line in reader``).

        Each line ends with ``b"\\n"`` except perhaps the last. A line longer
        than ``limit`` comes out in pieces of ``limit`` bytes instead of
        raising, so that iterating a stream of any content (as a consumer of
        a :class:`~httpwire.streams.Body` does) never fails; use
        :meth:`readline` to have over-long lines rejected.
        """
        return LineIterator(self)

    # -- state --------------------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        """The number of bytes fed so far (read or not)."""
        return self._total_bytes

    @property
    def buffered(self) -> int:
        """The number of bytes fed and not yet read."""
        return self._size

    @property
    def paused(self) -> bool:
        """Whether the reader has paused its producer."""
        return self._paused

    @property
    def high_water(self) -> int:
        """Buffered bytes above which the producer is paused."""
        return self._high_water

    @property
    def low_water(self) -> int:
        """Buffered bytes at or below which a paused producer is resumed."""
        return self._low_water

    @property
    def limit(self) -> int:
        """The longest line :meth:`readline` and :meth:`readuntil` accept."""
        return self._limit

    def exception(self) -> BaseException | None:
        """Return the exception set by the producer, or ``None``."""
        return self._exception

    def is_eof(self) -> bool:
        """Return whether the producer has fed the end of the stream."""
        return self._eof

    def at_eof(self) -> bool:
        """Return whether the stream has ended and every byte has been read."""
        return self._eof and not self._size

    # -- the producer's side ------------------------------------------------------------------

    def feed_data(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the stream and wake the waiting reader.

        The reader keeps a reference to ``data`` and may hand it out as it is,
        so pass ``bytes`` that will not change. Empty data is ignored, and so is
        data fed after :meth:`set_exception` (readers get only the exception).
        When the buffer passes the high-water mark the producer is paused.

        Args:
            data: The next bytes of the stream. A ``bytearray`` or ``memoryview``
                is copied into ``bytes`` first (they may change after the call).

        Raises:
            FeedAfterEofError: :meth:`feed_eof` was called before.
            TypeError: ``data`` is not a bytes-like object.
        """
        if self._eof:
            raise FeedAfterEofError("feed_data", len(data))
        if type(data) is not bytes:
            data = _as_bytes(data)
        n = len(data)
        if not n or self._exception is not None:
            return
        buf = self._buffer
        buf.append(data)
        self._total_bytes += n
        self._size = size = self._size + n
        # The piece count can pass its cap before the bytes pass high_water only
        # if pieces are small (the cap is high_water // 64): count only those.
        if (
            (size > self._pause_at or (n < 64 and len(buf) > self._piece_cap))
            and not self._paused
            and self._producer is not None
        ):
            self._paused = True
            self._producer.pause_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end_chunk(self) -> None:
        """Mark the end of a chunk of the producer's framing at this point of the stream.

        :meth:`readchunk` returns data up to such a mark with ``end_of_chunk``
        True, so that a consumer can keep the producer's boundaries (a proxy
        re-sending chunked transfer coding, say). A mark with no data since the
        previous mark (or since the start) is ignored: chunks are never empty.
        Marks that other read methods pass over are dropped.

        Raises:
            FeedAfterEofError: :meth:`feed_eof` was called before.
        """
        if self._eof:
            raise FeedAfterEofError("end_chunk")
        total = self._total_bytes
        if total == self._last_mark or self._exception is not None:
            return
        self._last_mark = total
        marks = self._chunk_ends
        if marks is None:
            marks = self._chunk_ends = deque()
        elif not self._draining:
            # Drop marks that reads other than readchunk() went past, so that the
            # marks held never outnumber the buffered bytes. (Not while read() of
            # everything holds drained bytes: it puts them back if cancelled.)
            cursor = total - self._size
            while marks and marks[0] < cursor:
                marks.popleft()
        marks.append(total)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def feed_eof(self) -> None:
        """End the stream: reads return what is left, then ``b""``; a second call is harmless."""
        self._eof = True
        self._wake_all()

    def set_exception(self, exc: BaseException) -> None:
        """Fail the stream: the waiting read and every later read raise ``exc``.

        Buffered data is dropped, since a stream that failed has no trustworthy
        rest; :attr:`total_bytes` still counts it.

        Args:
            exc: The exception to raise to readers.
        """
        self._exception = exc
        self._buffer.clear()
        self._offset = 0
        self._size = 0
        self._wake_all()

    def _wake_all(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        waiter = self._eof_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- waiting ----------------------------------------------------------------------------

    def _check_reader(self, name: str) -> None:
        if self._waiter is not None:
            raise ConcurrentReadError(name, self._waiter_name)
        if self._exception is not None:
            raise self._exception

    def _arm(self, name: str, need: int) -> asyncio.Future[None]:
        """Make the future a read waits on; ``need`` is the buffer size the read requires.

        A read needing more than ``high_water`` lifts the pause threshold to what it
        needs (and resumes a paused producer), else it could never finish. The
        caller awaits the future, then calls :meth:`_disarm` whatever happens.
        """
        if need > self._high_water:
            self._pause_at = need - 1
        # The piece count matters while the consumer is busy elsewhere; a waiting
        # read takes the pieces as they come (and the bytes stay bounded).
        self._piece_cap = sys.maxsize
        if self._paused and self._size < need and self._producer is not None:
            self._paused = False
            self._producer.resume_reading()
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._waiter_name = name
        return waiter

    def _disarm(self) -> None:
        self._waiter = None
        self._pause_at = self._high_water
        self._piece_cap = self._max_pieces

    def _settle(self) -> None:
        """Pause the producer if a read that lifted the threshold left too much buffered.

        Called when such a read ends, however it ends: a line found before the
        lifted threshold was reached, or a read cancelled while waiting, may leave
        more than ``high_water`` buffered with the producer running. (Not on each
        of its waits: pausing there would only be undone by the next one.)
        """
        if (
            (self._size > self._high_water or len(self._buffer) > self._max_pieces)
            and not self._paused
            and self._producer is not None
        ):
            self._paused = True
            self._producer.pause_reading()

    async def _wait(self, name: str, need: int = 1) -> None:
        """Wait for the producer's next call (see :meth:`_arm`), then raise its exception."""
        waiter = self._arm(name, need)
        try:
            await waiter
        finally:
            self._disarm()
        if self._exception is not None:
            raise self._exception

    async def wait_eof(self) -> None:
        """Wait until the producer has fed the end of the stream (data may remain unread).

        Raises:
            ConcurrentReadError: Another coroutine is already waiting in ``wait_eof()``.
            BaseException: The exception set by the producer, if any.
        """
        if self._exception is not None:
            raise self._exception
        if self._eof:
            return
        if self._eof_waiter is not None:
            raise ConcurrentReadError("wait_eof", "wait_eof")
        waiter = self._eof_waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._eof_waiter = None
        if self._exception is not None:
            raise self._exception

    # -- consuming ----------------------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes, waiting only while nothing is buffered.

        Returns as soon as some data is buffered: at most ``n`` bytes, made of
        whole fed pieces when the first one fits in ``n`` (as many as fit, so maybe
        fewer than ``min(n, buffered)``), else the first ``n`` bytes of that piece.
        A fed piece alone is returned as it is, not copied; several are joined once.

        Args:
            n: The most bytes to return; a negative ``n`` reads until the end
                of the stream and returns everything (without ever holding the
                stream twice in memory).

        Returns:
            The bytes read; ``b""`` only at the end of the stream (or for ``n == 0``).

        Raises:
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        if self._waiter is not None or self._exception is not None:
            self._check_reader("read")
        if n < 0:
            if self._eof and len(self._buffer) <= 1:
                # The whole stream is here in at most one piece (a small body): no
                # coroutine of _read_all() for it.
                return self._take_first() if self._size else b""
            return await self._read_all()
        while not self._size:
            if self._eof or not n:
                return b""
            # Inline rather than through _wait(): one coroutine less per wait.
            waiter = self._arm("read", 1)
            try:
                await waiter
            finally:
                self._disarm()
            if self._exception is not None:
                raise self._exception
        return self._take_whole(n)

    async def _read_all(self) -> bytes:
        # read() already returned an ended stream of at most one piece.
        buf = self._buffer
        # Drain every piece into one buffer as it arrives, so each piece is freed
        # once copied: the stream is held about once, never twice. BytesIO grows
        # its bytes object in place and getvalue() hands it over without a copy.
        out = io.BytesIO()
        self._draining = True
        try:
            while True:
                while buf:
                    out.write(self._take_first())
                if self._eof:
                    return out.getvalue()
                await self._wait("read", sys.maxsize)
        except BaseException:
            if self._exception is None and out.tell():
                # Cancelled (or interrupted) while waiting: put the bytes back in front.
                self._put_back(out.getvalue())
            raise
        finally:
            self._draining = False
            self._settle()

    async def readany(self) -> bytes:
        """Read the next fed piece (or what is left of it), waiting only while nothing is buffered.

        Returns:
            The piece, as the producer fed it when none of it was read before;
            ``b""`` at the end of the stream.

        Raises:
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        if self._waiter is not None or self._exception is not None:
            self._check_reader("readany")
        while not self._size:
            if self._eof:
                return b""
            # Inline rather than through _wait(): one coroutine less per wait.
            waiter = self._arm("readany", 1)
            try:
                await waiter
            finally:
                self._disarm()
            if self._exception is not None:
                raise self._exception
        return self._take_first()

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes.

        Args:
            n: The number of bytes to read (``0`` returns ``b""``).

        Returns:
            ``n`` bytes.

        Raises:
            IncompleteReadError: The stream ended first; the bytes that came are
                consumed and kept in its ``partial`` attribute.
            ValueError: ``n`` is negative.
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        if n < 0:
            raise ValueError(f"readexactly() needs a non-negative size, got {n!r}")
        if self._waiter is not None or self._exception is not None:
            self._check_reader("readexactly")
        if self._size < n:
            try:
                while self._size < n:
                    if self._eof:
                        partial = self._take(self._size) if self._size else b""
                        raise IncompleteReadError(partial, n)
                    await self._wait("readexactly", n)
            finally:
                if n > self._high_water:
                    self._settle()
        return self._take(n) if n else b""

    async def readline(self) -> bytes:
        """Read one line, up to and including ``b"\\n"``.

        Returns:
            The line; at the end of the stream, what is left (which may lack the
            newline), then ``b""``.

        Raises:
            LineTooLongError: The line is longer than ``limit`` bytes; nothing
                is consumed.
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        buf = self._buffer
        if buf and self._waiter is None and self._exception is None:
            # The common case, without a second coroutine: the line is in the first piece.
            off = self._offset
            end = buf[0].find(b"\n", off) + 1 - off
            if 0 < end <= self._limit:
                return self._take(end)
        return await self._readuntil(b"\n", "readline", False)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Read up to and including the next ``separator``.

        Args:
            separator: The non-empty byte string that ends a record.

        Returns:
            The record, separator included; at the end of the stream, what is
            left (which may lack the separator), then ``b""``.

        Raises:
            LineTooLongError: The record is longer than ``limit`` bytes,
                separator included; nothing is consumed.
            ValueError: ``separator`` is empty.
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        if not separator:
            raise ValueError("readuntil() needs a non-empty separator")
        return await self._readuntil(separator, "readuntil", False)

    async def _readuntil(self, sep: bytes, name: str, split_long: bool) -> bytes:
        if self._waiter is not None or self._exception is not None:
            self._check_reader(name)
        limit = self._limit
        buf = self._buffer
        if buf:
            # The common case: the separator is in the first piece.
            first = buf[0]
            off = self._offset
            i = first.find(sep, off)
            if i >= 0:
                end = i + len(sep) - off
                if end <= limit:
                    return self._take(end)
        # Search piece by piece, resuming where the previous pass stopped, since
        # only appends happen while this coroutine waits.
        search = SeparatorSearch(sep)
        seplen = len(sep)
        try:
            while True:
                found = search.find(buf, self._offset)
                if found >= 0:
                    end = found + seplen
                    if end <= limit:
                        return self._take(end)
                    if split_long:
                        return self._take(limit)
                    raise LineTooLongError(sep, limit, end, True, self._peek(min(end, 40)))
                size = self._size
                if size > limit:
                    # Without a separator in more than ``limit`` bytes, the line is too long.
                    if split_long:
                        return self._take(limit)
                    raise LineTooLongError(sep, limit, size, False, self._peek(40))
                if self._eof:
                    return self._take(size) if size else b""
                await self._wait(name, limit + 1)
        finally:
            if limit >= self._high_water:
                # The wait lifted the threshold: the line may end well before it.
                self._settle()

    async def readchunk(self) -> tuple[bytes, bool]:
        """Read the data up to the producer's next chunk end, or what is buffered.

        Returns:
            ``(data, end_of_chunk)``. ``end_of_chunk`` is True when ``data``
            ends where the producer called :meth:`end_chunk`; ``data`` may then
            be ``b""`` when earlier reads stopped just before the mark. Without
            a mark in the buffer, ``data`` is the next fed piece and
            ``end_of_chunk`` is False. ``(b"", False)`` means the end of the
            stream.

        Raises:
            ConcurrentReadError: Another coroutine is waiting on this reader.
            BaseException: The exception set by the producer, if any.
        """
        if self._waiter is not None or self._exception is not None:
            self._check_reader("readchunk")
        while True:
            marks = self._chunk_ends
            if marks:
                cursor = self._total_bytes - self._size
                while marks and marks[0] < cursor:
                    marks.popleft()
                if marks:
                    end = marks.popleft() - cursor
                    return (self._take(end) if end else b""), True
            if self._size:
                return self._take_first(), False
            if self._eof:
                return b"", False
            await self._wait("readchunk")

    # -- iterators ------------------------------------------------------------------------------

    def iter_chunked(self, n: int) -> ReadIterator:
        """Iterate with ``read(n)``: pieces of at most ``n`` bytes until the end.

        Args:
            n: The most bytes per piece (positive).

        Raises:
            ValueError: ``n`` is not positive.
        """
        if n <= 0:
            raise ValueError(f"iter_chunked() needs a positive size, got {n!r}")
        return ReadIterator(self, n)

    def iter_any(self) -> ReadIterator:
        """Iterate with ``readany()``: each piece as soon as it is fed, until the end."""
        return ReadIterator(self, None)

    def iter_chunks(self) -> ChunkIterator:
        """Iterate with ``readchunk()``: ``(data, end_of_chunk)`` pairs until the end."""
        return ChunkIterator(self)


class EmptyStreamReader(StreamReader):
    """A StreamReader that has already ended: the body of a bodiless response.

    Every read returns ``b""`` at once (``readchunk()`` returns ``(b"", False)``,
    ``readexactly(n)`` with ``n > 0`` raises :class:`IncompleteReadError`), and
    feeding it raises :class:`FeedAfterEofError`.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self._eof = True
