"""What both incremental parsers share: buffering, limits, body framing, end of stream.

:class:`ResponseParser` (``_response``) and :class:`RequestParser` (``_request``)
only add how a head is read and what framing it announces.

Strategy. ``feed()`` works on one ``bytes`` object and an offset, never on a
growing buffer: a head is found with one ``find(b"\\r\\n\\r\\n")``, validated
and split as a block (see ``_headers``), and body bytes are sliced straight out
of the data that was fed (a whole piece of body comes back as the very object
that was fed in). Bytes are kept between calls only while the parser waits for
the end of a head, of a chunk size line or of a trailer section; they wait in a
``bytearray``, each new piece is scanned once for the terminator, and the limits
are checked as the piece arrives, so an endless line fails as soon as it passes
its limit instead of filling memory.

The state machine is a small integer per parser; the body states loop inside
``_run`` without calling out, since that loop is where the time goes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from multidict import CIMultiDict, istr

from ._chunked import HEX_DIGITS, parse_chunk_size_line
from ._errors import (
    FieldTooLargeError,
    HeadTooLargeError,
    HttpParserError,
    IncompleteMessageError,
    InvalidChunkError,
    InvalidHeaderError,
    LineTooLongError,
    TooManyHeadersError,
    bounded_repr,
)
from ._events import (
    END_OF_CHUNK,
    EndOfMessage,
    Event,
    RawHeaders,
)
from ._head import (
    find_head_end_lenient,
)
from ._headers import (
    FIELD_RE,
    parse_fields_slow,
    raw_fields,
)

__all__ = [
    "CHUNK_DATA",
    "CHUNK_END",
    "CHUNK_SIZE",
    "CLOSED",
    "CONNECTION",
    "CONTENT_ENCODING",
    "CONTENT_LENGTH",
    "END",
    "EXPECT",
    "FAILED",
    "HEAD",
    "HOST",
    "LENGTH",
    "MAX_DIGITS",
    "TRAILERS",
    "TRANSFER_ENCODING",
    "UNTIL_CLOSE",
    "UPGRADE",
    "UPGRADED",
    "Append",
    "BaseParser",
]

Append = Callable[[Event], None]

# Parser states.
HEAD = 0  # waiting for a head
LENGTH = 1  # Content-Length body: self._remaining bytes to go
CHUNK_SIZE = 2  # waiting for a chunk size line
CHUNK_DATA = 3  # inside chunk data: self._remaining bytes to go
CHUNK_END = 4  # waiting for the CRLF after chunk data
TRAILERS = 5  # waiting for the trailer section after the last chunk
UNTIL_CLOSE = 6  # body read until the connection closes
UPGRADED = 7  # not HTTP any more: bytes go to trailing_data()
CLOSED = 8  # feed_eof() was called
FAILED = 9  # an error was raised

_CRLF = b"\r\n"
# Servers repeat a few chunk sizes: once a size line passed the strict check, its
# value is remembered (only short, valid lines enter; the cache is bounded), so the
# next one costs a dict lookup instead of a strip() and an int().
_CACHE_SIZE = 512
_CHUNK_SIZES: dict[bytes, int] = {}
END = EndOfMessage()
"""The end of every message without trailers: it holds no state, so one is shared."""

# Field names as istr: their lowercase form is computed once, not at every lookup.
CONNECTION = istr("Connection")
CONTENT_ENCODING = istr("Content-Encoding")
CONTENT_LENGTH = istr("Content-Length")
EXPECT = istr("Expect")
HOST = istr("Host")
TRANSFER_ENCODING = istr("Transfer-Encoding")
UPGRADE = istr("Upgrade")

# _FAST_PATH_PROOF: why "one FIELD_RE pair per LF" validates a whole block at once.
# The start-line pattern and FIELD_RE both end in CRLF and allow no CR or LF inside;
# FIELD_RE is anchored at line starts ("^", MULTILINE, which only matches after LF).
# So every match covers exactly one whole line, and matches are disjoint. If the
# matches (plus the start line) are as many as the LFs in the block, every line
# was matched whole: no bare CR or LF, no obs-fold (a line starting with SP/HTAB),
# no whitespace before a colon, no bad name character, no CTL in a value, and no
# whitespace at the end of a value (a lookbehind refuses it: the careful path strips it).
MAX_DIGITS = 18


def _check_limit(name: str, value: int) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class BaseParser(ABC):
    """Machinery shared by both parsers: buffering, body framing, limits, EOF."""

    __slots__ = (
        "_buf",
        "_error",
        "_expected",
        "_is_request",
        "_line_start",
        "_lines",
        "_mark_chunks",
        "_max_field_size",
        "_max_head_size",
        "_max_headers",
        "_max_line_size",
        "_next_state",
        "_remaining",
        "_scan",
        "_small_head",
        "_state",
        "_trailing",
        "upgraded",
    )

    _is_request: bool

    def __init__(
        self,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_head_size: int = 65536,
        mark_chunks: bool = False,
    ) -> None:
        self._max_line_size = _check_limit("max_line_size", max_line_size)
        self._max_field_size = _check_limit("max_field_size", max_field_size)
        self._max_headers = _check_limit("max_headers", max_headers)
        self._max_head_size = _check_limit("max_head_size", max_head_size)
        # A head no longer than this cannot hold a line over either line limit.
        self._small_head = min(max_line_size, max_field_size)
        self._mark_chunks = bool(mark_chunks)
        self._state = HEAD
        self._next_state = HEAD
        self._buf = bytearray()
        self._scan = 0
        self._lines = 0
        self._line_start = 0
        self._remaining = 0
        self._expected = 0
        self._trailing = bytearray()
        self._error: HttpParserError | None = None
        self.upgraded = False
        """True once the parser met an upgrade (101, 2xx to CONNECT, CONNECT or Upgrade request).

        ``feed()`` then stops parsing; the bytes that follow are in ``trailing_data()``.
        """

    # -- public API ---------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Parse the next bytes received from the peer.

        Args:
            data: Any number of bytes (``bytes``, ``bytearray`` or ``memoryview``).

        Returns:
            The events completed by these bytes, in order: heads, body ``bytes``
            (never empty), ``END_OF_CHUNK`` markers when asked for, ``EndOfMessage``.

        Raises:
            HttpParserError: The bytes break HTTP/1.1; the parser is then unusable.
            RuntimeError: ``feed_eof()`` was called before.
        """
        state = self._state
        if state >= UPGRADED:
            if state == UPGRADED:
                self._trailing += data
                return []
            if state == FAILED:
                assert self._error is not None
                raise self._error
            raise RuntimeError("feed() called after feed_eof()")
        try:
            if self._buf:
                pending = self._buf
                pending += data
                if not self._ready(pending):
                    return []
                data = bytes(pending)
                self._buf = bytearray()
            elif type(data) is not bytes:
                data = bytes(data)
            return self._run(data)
        except HttpParserError as exc:
            self._state = FAILED
            self._error = exc
            raise

    def feed_eof(self) -> list[Event]:
        """Tell the parser that the peer closed the connection.

        Returns:
            ``[EndOfMessage]`` when that ends a body read until close; ``[]`` between
            messages or after an upgrade.

        Raises:
            IncompleteMessageError: A message was cut short; the message says where,
                and ``expected``/``received`` give the byte counts when known.
        """
        state = self._state
        if state == FAILED:
            assert self._error is not None
            raise self._error
        self._state = CLOSED
        pending = len(self._buf)
        if state == HEAD:
            if self._buf.strip(b"\r\n"):
                raise IncompleteMessageError(
                    f"connection closed in the middle of a head after {pending} bytes "
                    f"{bounded_repr(self._buf)} (a head ends with an empty line, RFC 9112 §2.1)"
                )
            return []
        if state in (LENGTH, CHUNK_DATA):
            expected = self._expected
            received = expected - self._remaining
            where = "body" if state == LENGTH else "chunk"
            rule = "Content-Length" if state == LENGTH else "chunk size"
            raise IncompleteMessageError(
                f"connection closed after {received} of {expected} bytes of the {where}: "
                f"{self._remaining} missing ({rule} {expected}, RFC 9112 §8)",
                expected,
                received,
            )
        if state == CHUNK_SIZE:
            raise IncompleteMessageError(
                f"connection closed in a chunk size line after {pending} bytes "
                f"{bounded_repr(self._buf)} (RFC 9112 §7.1, §8)"
            )
        if state == CHUNK_END:
            raise IncompleteMessageError(
                "connection closed before the CRLF that ends a chunk's data (RFC 9112 §7.1, §8)"
            )
        if state == TRAILERS:
            raise IncompleteMessageError(
                f"connection closed in the trailer section after {pending} bytes "
                f"{bounded_repr(self._buf)} (RFC 9112 §7.1.2, §8)"
            )
        if state == UNTIL_CLOSE:
            return [END]
        return []

    @property
    def buffered(self) -> int:
        """How many bytes the parser holds that no event has accounted for yet.

        These are the start of an unfinished head, chunk size line or trailer
        section, and after an upgrade the bytes waiting in :meth:`trailing_data`.
        Zero right after an ``EndOfMessage`` means that nothing followed the
        message in the bytes fed so far: the connection is clean.
        """
        return len(self._buf) + len(self._trailing)

    def trailing_data(self) -> bytes:
        """The bytes received after an upgrade, untouched; clears them.

        Returns:
            Everything fed after the upgrading message (``b""`` before an upgrade).
        """
        data = bytes(self._trailing)
        self._trailing.clear()
        return data

    # -- waiting for a terminator ------------------------------------------------------

    def _ready(self, buf: bytearray) -> bool:
        """Whether pending bytes may complete what the parser waits for; checks limits."""
        state = self._state
        if state in (HEAD, TRAILERS):
            scan = self._scan
            if state == TRAILERS and (
                buf.startswith(_CRLF) or (not self._is_request and buf.startswith(b"\n"))
            ):
                return True
            if self._is_request:
                if buf.find(b"\r\n\r\n", scan) >= 0:
                    return True
            elif buf.find(b"\n\r\n", scan) >= 0 or buf.find(b"\n\n", scan) >= 0:
                return True
            if state == HEAD and not self._lines and buf.startswith((b"\r", b"\n")):
                return True  # leading empty lines: let _run skip them
            self._check_partial_head(buf)
            self._scan = max(len(buf) - 3, 0)
            return False
        if state == CHUNK_SIZE:
            if buf.find(b"\n", self._scan) >= 0:
                return True
            self._check_chunk_line(buf)
            self._scan = len(buf)
            return False
        # CHUNK_END: two bytes, or one that is already wrong
        return len(buf) >= 2 or buf[:1] != b"\r"

    def _wait(self, rest: bytes) -> None:
        """Keep ``rest`` (an unfinished line or section) and check the limits on it."""
        buf = self._buf = bytearray(rest)
        self._scan = max(len(buf) - 3, 0) if self._state != CHUNK_SIZE else len(buf)
        self._lines = 0
        self._line_start = 0
        state = self._state
        if state in (HEAD, TRAILERS):
            self._check_partial_head(buf)
        elif state == CHUNK_SIZE:
            self._check_chunk_line(buf)

    def _check_partial_head(self, buf: bytearray) -> None:
        """Check the limits on an unfinished head or trailer section, incrementally."""
        is_head = self._state == HEAD
        what = "header" if is_head else "trailer"
        start = self._line_start
        # Bytes past the head size limit are not the head's business (they may be a body
        # that followed an oversized head): only the limit itself is checked on them.
        stop = min(len(buf), self._max_head_size + 1)
        while True:
            nl = buf.find(b"\n", start, stop)
            if nl < 0:
                break
            if self._is_request and (nl == 0 or buf[nl - 1] != 13):
                raise InvalidHeaderError(
                    f"bare LF after {bounded_repr(buf[start:nl])}: requests must end lines "
                    "with CRLF (RFC 9112 §2.2)"
                )
            self._check_line_length(buf, start, nl, what)
            self._lines += 1
            start = nl + 1
            if self._lines > self._max_headers + is_head:
                raise TooManyHeadersError(
                    f"more than max_headers={self._max_headers} {what} fields", self._max_headers
                )
        self._line_start = start
        self._check_line_length(buf, start, stop, what)
        if len(buf) > self._max_head_size:
            raise HeadTooLargeError(
                f"{'head' if is_head else 'trailer section'} {bounded_repr(buf)} is larger than "
                f"max_head_size={self._max_head_size} bytes",
                self._max_head_size,
            )

    def _check_line_length(self, buf: bytearray, start: int, end: int, what: str) -> None:
        length = end - start
        if end > start and buf[end - 1] == 13:
            length -= 1
        if self._lines == 0 and self._state == HEAD:
            if length > self._max_line_size:
                kind = "request" if self._is_request else "status"
                raise LineTooLongError(
                    f"{kind} line {bounded_repr(buf[start:end])} is longer than "
                    f"max_line_size={self._max_line_size} bytes",
                    self._max_line_size,
                )
        elif length > self._max_field_size:
            raise FieldTooLargeError(
                f"{what} line {bounded_repr(buf[start:end])} is longer than "
                f"max_field_size={self._max_field_size} bytes",
                self._max_field_size,
            )

    def _check_chunk_line(self, buf: bytes | bytearray) -> None:
        if len(buf) - buf.endswith(b"\r") > self._max_line_size:
            raise LineTooLongError(
                f"chunk size line {bounded_repr(buf)} is longer than "
                f"max_line_size={self._max_line_size} bytes (chunk extensions are bounded)",
                self._max_line_size,
            )

    # -- the main loop -----------------------------------------------------------------

    def _run(self, buf: bytes) -> list[Event]:
        events: list[Event] = []
        append = events.append
        pos = 0
        n = len(buf)
        state = self._state
        while pos < n:
            if state == HEAD:
                first = buf[pos]
                if first == 13 or first == 10:
                    # RFC 9112 §2.2: ignore empty lines before a start line.
                    if buf.startswith(_CRLF, pos):
                        pos += 2
                        continue
                    if first == 10 and not self._is_request:
                        pos += 1
                        continue
                    if pos + 1 == n:
                        self._wait(buf[pos:])
                        return events
                    raise InvalidHeaderError(
                        f"bare {'CR' if first == 13 else 'LF'} before the start line "
                        f"{bounded_repr(buf[pos : pos + 64])} (RFC 9112 §2.2)"
                    )
                end = buf.find(b"\r\n\r\n", pos, pos + self._max_head_size)
                if end >= 0:
                    pos = self._head(buf, pos, end + 2, end + 4, append)
                else:
                    if not self._is_request:
                        block_end, after = find_head_end_lenient(
                            buf, pos, pos + self._max_head_size
                        )
                        if block_end >= 0:
                            pos = self._head(buf, pos, block_end, after, append)
                            state = self._state
                            continue
                    self._wait(buf[pos:])
                    return events
                state = self._state
            elif state == LENGTH:
                remaining = self._remaining
                if n - pos >= remaining:
                    end = pos + remaining
                    append(buf[pos:end])
                    append(END)
                    pos = end
                    state = self._state = self._next_state
                    if state == UPGRADED:
                        self.upgraded = True
                else:
                    append(buf[pos:] if pos else buf)
                    self._remaining = remaining - (n - pos)
                    return events
            elif state == CHUNK_SIZE:
                mark = self._mark_chunks
                limit = self._max_line_size + 2
                find = buf.find
                hex_digits = HEX_DIGITS
                sizes = _CHUNK_SIZES
                while True:
                    i = find(b"\r\n", pos, pos + limit)
                    if i < 0:
                        lf = find(b"\n", pos, pos + limit)
                        if lf >= 0:
                            parse_chunk_size_line(buf[pos : lf + 1])  # raises: bare LF
                        self._wait(buf[pos:])
                        return events
                    line = buf[pos:i]
                    size = sizes.get(line)
                    if size is None:
                        # Up to 15 hex digits and nothing else: below 2**60, no sign, no
                        # "0x", no "_" or spaces that int() would accept. Else the careful path.
                        if 0 < i - pos < 16 and not line.strip(hex_digits):
                            size = int(line, 16)
                            if len(sizes) < _CACHE_SIZE:
                                sizes[line] = size
                        else:
                            size = parse_chunk_size_line(line)
                    start = i + 2
                    if not size:
                        pos = start
                        state = self._state = TRAILERS
                        break
                    end = start + size
                    if end + 2 <= n:
                        if buf[end] != 13 or buf[end + 1] != 10:
                            raise InvalidChunkError(
                                f"chunk data not followed by CRLF: got "
                                f"{bounded_repr(buf[end : end + 2])} (RFC 9112 §7.1)"
                            )
                        append(buf[start:end])
                        if mark:
                            append(END_OF_CHUNK)
                        pos = end + 2
                        if pos < n:
                            continue
                        self._state = CHUNK_SIZE
                        return events
                    # The chunk goes on in the next pieces.
                    if end <= n:
                        if start < end:
                            append(buf[start:end])
                        pos = end
                        state = self._state = CHUNK_END
                    else:
                        if start < n:
                            append(buf[start:])
                        self._expected = size
                        self._remaining = end - n
                        self._state = CHUNK_DATA
                        return events
                    break
            elif state == CHUNK_DATA:
                remaining = self._remaining
                if n - pos >= remaining:
                    end = pos + remaining
                    append(buf[pos:end])
                    pos = end
                    state = self._state = CHUNK_END
                else:
                    append(buf[pos:] if pos else buf)
                    self._remaining = remaining - (n - pos)
                    return events
            elif state == CHUNK_END:
                if n - pos < 2:
                    if buf[pos] != 13:
                        raise InvalidChunkError(
                            f"chunk data not followed by CRLF: got {bounded_repr(buf[pos:])} "
                            "(RFC 9112 §7.1)"
                        )
                    self._wait(buf[pos:])
                    return events
                if buf[pos] != 13 or buf[pos + 1] != 10:
                    raise InvalidChunkError(
                        f"chunk data not followed by CRLF: got {bounded_repr(buf[pos : pos + 2])}"
                        " (RFC 9112 §7.1)"
                    )
                if self._mark_chunks:
                    append(END_OF_CHUNK)
                pos += 2
                state = self._state = CHUNK_SIZE
            elif state == TRAILERS:
                if buf.startswith(_CRLF, pos):
                    append(END)
                    pos += 2
                else:
                    pos = self._trailers(buf, pos, append)
                    if pos < 0:
                        return events
                state = self._state = self._next_state
                if state == UPGRADED:
                    self.upgraded = True
            elif state == UNTIL_CLOSE:
                append(buf[pos:] if pos else buf)
                return events
            else:  # UPGRADED
                self._trailing += memoryview(buf)[pos:]
                return events
        self._state = state
        return events

    def _trailers(self, buf: bytes, pos: int, append: Append) -> int:
        """Parse the trailer section at ``pos``; -1 when it is not complete yet."""
        stop = pos + self._max_head_size
        if not self._is_request and buf.startswith(b"\n", pos):
            append(END)
            return pos + 1
        end = buf.find(b"\r\n\r\n", pos, stop)
        if end >= 0:
            block_end, after = end + 2, end + 4
        elif self._is_request:
            block_end = after = -1
        else:
            block_end, after = find_head_end_lenient(buf, pos, stop)
        if block_end < 0:
            self._wait(buf[pos:])
            return -1
        block = buf[pos:block_end]
        text = block.decode("utf-8", "surrogateescape")
        pairs = FIELD_RE.findall(text)
        raw: RawHeaders
        if (
            len(pairs) == text.count("\n")
            and len(pairs) <= self._max_headers
            and len(block) <= self._small_head
        ):
            raw = raw_fields(block)
        else:
            if not self._is_request:
                block_end, after = find_head_end_lenient(buf, pos, after)
                block = buf[pos:block_end]
            pairs, raw = parse_fields_slow(
                block,
                is_request=self._is_request,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                line_number=1,
                what="trailer",
            )
        append(EndOfMessage(CIMultiDict(pairs), raw))
        return after

    @abstractmethod
    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: Append) -> int:
        """Parse the head in ``buf[pos:block_end]``, append its event; return where to go on."""
