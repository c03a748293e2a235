"""The incremental parsers: :class:`ResponseParser` and :class:`RequestParser`.

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

from collections import deque
from collections.abc import Callable

from multidict import CIMultiDict, istr

from ._chunked import HEX_DIGITS, parse_chunk_size_line
from ._errors import (
    FieldTooLargeError,
    HeadTooLargeError,
    HttpParserError,
    IncompleteMessageError,
    InvalidChunkError,
    InvalidFramingError,
    InvalidHeaderError,
    LineTooLongError,
    TooManyHeadersError,
    bounded_repr,
)
from ._events import (
    END_OF_CHUNK,
    HTTP11,
    EndOfMessage,
    HttpVersion,
    InformationalResponse,
    RawHeaders,
    RequestHead,
    ResponseHead,
)
from ._head import (
    REQUEST_RE,
    STATUS_RE,
    find_head_end_lenient,
    parse_request_head_slow,
    parse_response_head_slow,
    version_of,
)
from ._headers import (
    FIELD_RE,
    comma_tokens,
    content_codings,
    parse_content_length,
    parse_fields_slow,
    parse_transfer_encoding,
    raw_fields,
    validate_host,
)

__all__ = ["Event", "RequestParser", "ResponseParser"]

Event = ResponseHead | InformationalResponse | RequestHead | EndOfMessage | bytes | object
"""Anything ``feed()`` returns: heads, body ``bytes``, ``END_OF_CHUNK``, ``EndOfMessage``."""
_Append = Callable[[Event], None]

# Parser states.
_HEAD = 0  # waiting for a head
_LENGTH = 1  # Content-Length body: self._remaining bytes to go
_CHUNK_SIZE = 2  # waiting for a chunk size line
_CHUNK_DATA = 3  # inside chunk data: self._remaining bytes to go
_CHUNK_END = 4  # waiting for the CRLF after chunk data
_TRAILERS = 5  # waiting for the trailer section after the last chunk
_UNTIL_CLOSE = 6  # body read until the connection closes
_UPGRADED = 7  # not HTTP any more: bytes go to trailing_data()
_CLOSED = 8  # feed_eof() was called
_FAILED = 9  # an error was raised

_CRLF = b"\r\n"
# Servers repeat a few status lines and chunk sizes: once a line passed the strict
# check, its parsed form is remembered (only valid, short lines enter, and the caches
# are bounded in entries), so the next one costs a dict lookup instead of a regex and
# an int().
_CACHE_SIZE = 512
_STATUS_LINES: dict[str, tuple[HttpVersion, int, str]] = {}
_CHUNK_SIZES: dict[bytes, int] = {}
_END = EndOfMessage()

# Field names as istr: their lowercase form is computed once, not at every lookup.
_CONNECTION = istr("Connection")
_CONTENT_ENCODING = istr("Content-Encoding")
_CONTENT_LENGTH = istr("Content-Length")
_EXPECT = istr("Expect")
_HOST = istr("Host")
_TRANSFER_ENCODING = istr("Transfer-Encoding")
_UPGRADE = istr("Upgrade")  # the end of every message without trailers: it holds no state

# _FAST_PATH_PROOF: why "one FIELD_RE pair per LF" validates a whole block at once.
# The start-line pattern and FIELD_RE both end in CRLF and allow no CR or LF inside;
# FIELD_RE is anchored at line starts ("^", MULTILINE, which only matches after LF).
# So every match covers exactly one whole line, and matches are disjoint. If the
# matches (plus the start line) are as many as the LFs in the block, every line
# was matched whole: no bare CR or LF, no obs-fold (a line starting with SP/HTAB),
# no whitespace before a colon, no bad name character, no CTL in a value, and no
# whitespace at the end of a value (a lookbehind refuses it: the careful path strips it).
_MAX_DIGITS = 18


def _check_limit(name: str, value: int) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class _Parser:
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
        self._state = _HEAD
        self._next_state = _HEAD
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
        if state >= _UPGRADED:
            if state == _UPGRADED:
                self._trailing += data
                return []
            if state == _FAILED:
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
            self._state = _FAILED
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
        if state == _FAILED:
            assert self._error is not None
            raise self._error
        self._state = _CLOSED
        pending = len(self._buf)
        if state == _HEAD:
            if self._buf.strip(b"\r\n"):
                raise IncompleteMessageError(
                    f"connection closed in the middle of a head after {pending} bytes "
                    f"{bounded_repr(self._buf)} (a head ends with an empty line, RFC 9112 §2.1)"
                )
            return []
        if state in (_LENGTH, _CHUNK_DATA):
            expected = self._expected
            received = expected - self._remaining
            where = "body" if state == _LENGTH else "chunk"
            rule = "Content-Length" if state == _LENGTH else "chunk size"
            raise IncompleteMessageError(
                f"connection closed after {received} of {expected} bytes of the {where}: "
                f"{self._remaining} missing ({rule} {expected}, RFC 9112 §8)",
                expected,
                received,
            )
        if state == _CHUNK_SIZE:
            raise IncompleteMessageError(
                f"connection closed in a chunk size line after {pending} bytes "
                f"{bounded_repr(self._buf)} (RFC 9112 §7.1, §8)"
            )
        if state == _CHUNK_END:
            raise IncompleteMessageError(
                "connection closed before the CRLF that ends a chunk's data (RFC 9112 §7.1, §8)"
            )
        if state == _TRAILERS:
            raise IncompleteMessageError(
                f"connection closed in the trailer section after {pending} bytes "
                f"{bounded_repr(self._buf)} (RFC 9112 §7.1.2, §8)"
            )
        if state == _UNTIL_CLOSE:
            return [_END]
        return []

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
        if state in (_HEAD, _TRAILERS):
            scan = self._scan
            if state == _TRAILERS and (
                buf.startswith(_CRLF) or (not self._is_request and buf.startswith(b"\n"))
            ):
                return True
            if self._is_request:
                if buf.find(b"\r\n\r\n", scan) >= 0:
                    return True
            elif buf.find(b"\n\r\n", scan) >= 0 or buf.find(b"\n\n", scan) >= 0:
                return True
            if state == _HEAD and not self._lines and buf.startswith((b"\r", b"\n")):
                return True  # leading empty lines: let _run skip them
            self._check_partial_head(buf)
            self._scan = max(len(buf) - 3, 0)
            return False
        if state == _CHUNK_SIZE:
            if buf.find(b"\n", self._scan) >= 0:
                return True
            self._check_chunk_line(buf)
            self._scan = len(buf)
            return False
        # _CHUNK_END: two bytes, or one that is already wrong
        return len(buf) >= 2 or buf[:1] != b"\r"

    def _wait(self, rest: bytes) -> None:
        """Keep ``rest`` (an unfinished line or section) and check the limits on it."""
        buf = self._buf = bytearray(rest)
        self._scan = max(len(buf) - 3, 0) if self._state != _CHUNK_SIZE else len(buf)
        self._lines = 0
        self._line_start = 0
        state = self._state
        if state in (_HEAD, _TRAILERS):
            self._check_partial_head(buf)
        elif state == _CHUNK_SIZE:
            self._check_chunk_line(buf)

    def _check_partial_head(self, buf: bytearray) -> None:
        """Check the limits on an unfinished head or trailer section, incrementally."""
        is_head = self._state == _HEAD
        what = "header" if is_head else "trailer"
        start = self._line_start
        while True:
            nl = buf.find(b"\n", start)
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
        self._check_line_length(buf, start, len(buf), what)
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
        if self._lines == 0 and self._state == _HEAD:
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
            if state == _HEAD:
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
            elif state == _LENGTH:
                remaining = self._remaining
                if n - pos >= remaining:
                    end = pos + remaining
                    append(buf[pos:end])
                    append(_END)
                    pos = end
                    state = self._state = self._next_state
                    if state == _UPGRADED:
                        self.upgraded = True
                else:
                    append(buf[pos:] if pos else buf)
                    self._remaining = remaining - (n - pos)
                    return events
            elif state == _CHUNK_SIZE:
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
                        state = self._state = _TRAILERS
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
                        self._state = _CHUNK_SIZE
                        return events
                    # The chunk goes on in the next pieces.
                    if end <= n:
                        if start < end:
                            append(buf[start:end])
                        pos = end
                        state = self._state = _CHUNK_END
                    else:
                        if start < n:
                            append(buf[start:])
                        self._expected = size
                        self._remaining = end - n
                        self._state = _CHUNK_DATA
                        return events
                    break
            elif state == _CHUNK_DATA:
                remaining = self._remaining
                if n - pos >= remaining:
                    end = pos + remaining
                    append(buf[pos:end])
                    pos = end
                    state = self._state = _CHUNK_END
                else:
                    append(buf[pos:] if pos else buf)
                    self._remaining = remaining - (n - pos)
                    return events
            elif state == _CHUNK_END:
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
                state = self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                if buf.startswith(_CRLF, pos):
                    append(_END)
                    pos += 2
                else:
                    pos = self._trailers(buf, pos, append)
                    if pos < 0:
                        return events
                state = self._state = self._next_state
                if state == _UPGRADED:
                    self.upgraded = True
            elif state == _UNTIL_CLOSE:
                append(buf[pos:] if pos else buf)
                return events
            else:  # _UPGRADED
                self._trailing += memoryview(buf)[pos:]
                return events
        self._state = state
        return events

    def _trailers(self, buf: bytes, pos: int, append: _Append) -> int:
        """Parse the trailer section at ``pos``; -1 when it is not complete yet."""
        stop = pos + self._max_head_size
        if not self._is_request and buf.startswith(b"\n", pos):
            append(_END)
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

    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: _Append) -> int:
        raise NotImplementedError  # pragma: no cover


class ResponseParser(_Parser):
    """Incremental parser of HTTP/1.x responses (the client side).

    Tell it the method of each request sent, in order, with :meth:`expect_response`:
    the answer to HEAD has no body and a 2xx answer to CONNECT opens a tunnel.

    Example:
        >>> p = ResponseParser()
        >>> p.expect_response("GET")
        >>> head, body, end = p.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nhi")
        >>> head.status, head.headers["content-length"], body
        (200, '2', b'hi')

    Args:
        max_line_size: Longest status line and chunk size line, in bytes.
        max_field_size: Longest header or trailer line, in bytes.
        max_headers: Most header lines in one head (and trailer lines in one section).
        max_head_size: Largest head (and trailer section), in bytes.
        mark_chunks: Emit ``END_OF_CHUNK`` after the data of each chunk.
    """

    __slots__ = ("_methods",)
    _is_request = False

    def __init__(
        self,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_head_size: int = 65536,
        mark_chunks: bool = False,
    ) -> None:
        super().__init__(
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            max_head_size=max_head_size,
            mark_chunks=mark_chunks,
        )
        self._methods: deque[str] = deque()

    def expect_response(self, method: str) -> None:
        """Queue the method of the next request sent on this connection.

        Responses are matched to methods first in, first out, which makes
        pipelining work; with nothing queued, GET is assumed.

        Args:
            method: The request method, e.g. ``"HEAD"`` (case-sensitive, as in HTTP).
        """
        self._methods.append(method)

    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: _Append) -> int:
        block = buf[pos:block_end]
        text = block.decode("utf-8", "surrogateescape")
        fields_at = text.find("\r\n") + 2
        line = text[:fields_at]
        start_line = _STATUS_LINES.get(line)
        if start_line is None:
            match = STATUS_RE.fullmatch(line)
            if match is not None:
                minor, code, reason = match.groups()
                start_line = (version_of(minor), int(code), reason)
                if len(_STATUS_LINES) < _CACHE_SIZE and len(line) <= 64:
                    _STATUS_LINES[line] = start_line
        if start_line is not None:
            pairs = FIELD_RE.findall(text, fields_at)
            # One pair per LF proves the whole block valid: see _FAST_PATH_PROOF.
            fast = (
                len(pairs) == text.count("\n") - 1
                and len(pairs) <= self._max_headers
                and len(block) <= self._small_head
            )
        else:
            fast = False
        raw: RawHeaders | bytes
        if fast:
            assert start_line is not None
            version, status, reason = start_line
            raw = block
        else:
            # Bare LF line ends may hide an earlier end of head than the CRLFCRLF found.
            block_end, after = find_head_end_lenient(buf, pos, after)
            block = buf[pos:block_end]
            version, status, reason, pairs, raw = parse_response_head_slow(
                block,
                max_line_size=self._max_line_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
            )
        headers: CIMultiDict[str] = CIMultiDict(pairs)
        if status < 200 and status != 101:
            append(InformationalResponse(version, status, reason, headers, raw))
            return after
        method = self._methods.popleft() if self._methods else "GET"

        te = headers.getall(_TRANSFER_ENCODING, None)
        cl = headers.getall(_CONTENT_LENGTH, None)
        conn = headers.getall(_CONNECTION, None)
        ce = headers.getall(_CONTENT_ENCODING, None)
        coding = content_codings(ce) if ce else ()
        http10 = version.minor == 0
        if conn is None:
            close = http10
        else:
            # One plain value ("keep-alive", "close") is the common case: no list to split.
            value = conn[0]
            tokens = comma_tokens(conn) if len(conn) > 1 or "," in value else [value.lower()]
            close = "close" in tokens or (http10 and "keep-alive" not in tokens)
        if te is not None:
            if cl is not None:
                raise InvalidFramingError(
                    f"response has both Transfer-Encoding {bounded_repr(te[0].encode())} and "
                    f"Content-Length {bounded_repr(cl[0].encode())} (RFC 9112 §6.3)"
                )
            if http10:
                raise InvalidFramingError(
                    f"Transfer-Encoding {bounded_repr(te[0].encode())} in an HTTP/1.0 message:"
                    " its framing is faulty (RFC 9112 §6.1)"
                )
        chunked = False
        length: int | None = None
        if cl is not None:
            value = cl[0]
            if len(cl) == 1 and len(value) <= _MAX_DIGITS and value.isdigit() and value.isascii():
                length = int(value)
            else:
                length = parse_content_length(cl)

        upgrade = status == 101 or (method == "CONNECT" and 200 <= status < 300)
        if upgrade or method == "HEAD" or status == 204 or status == 304:
            # RFC 9112 §6.3 items 1 and 2: no body, whatever the fields say.
            append(
                ResponseHead(
                    version, status, reason, headers, raw, close, upgrade, False, None, coding
                )
            )
            append(_END)
            if upgrade:
                self._state = _UPGRADED
                self.upgraded = True
            else:
                self._state = _HEAD
            return after
        if te is not None:
            chunked, extra = parse_transfer_encoding(te, is_request=False)
            coding += extra
            if chunked:
                self._state = _CHUNK_SIZE
            else:
                # RFC 9112 §6.3 item 4: a final coding other than chunked: read until close.
                close = True
                self._state = _UNTIL_CLOSE
            self._next_state = _HEAD
            append(
                ResponseHead(
                    version, status, reason, headers, raw, close, False, chunked, None, coding
                )
            )
            return after
        if length is not None:
            append(
                ResponseHead(
                    version, status, reason, headers, raw, close, False, False, length, coding
                )
            )
            if length:
                end = after + length
                if end <= len(buf):
                    # The whole body is here (the common case): no trip through _LENGTH.
                    append(buf[after:end])
                    append(_END)
                    self._state = _HEAD
                    return end
                self._remaining = self._expected = length
                self._next_state = _HEAD
                self._state = _LENGTH
            else:
                append(_END)
                self._state = _HEAD
            return after
        append(
            ResponseHead(version, status, reason, headers, raw, True, False, False, None, coding)
        )
        self._state = _UNTIL_CLOSE
        return after


class RequestParser(_Parser):
    """Incremental parser of HTTP/1.x requests (the server side).

    Strict: CRLF line ends only, no obs-fold, exactly one valid ``Host`` in
    HTTP/1.1, and the last transfer coding must be chunked. A request with
    ``upgrade=True`` (CONNECT, or ``Upgrade`` with ``Connection: upgrade``) ends
    the parsing after its body; a server that declines the upgrade feeds
    :meth:`trailing_data` to a new parser.

    Example:
        >>> q = RequestParser()
        >>> head, end = q.feed(b"GET /x HTTP/1.1\\r\\nHost: example.org\\r\\n\\r\\n")
        >>> head.method, head.target, head.headers["host"], head.content_length
        ('GET', '/x', 'example.org', 0)

    Args:
        max_line_size: Longest request line and chunk size line, in bytes.
        max_field_size: Longest header or trailer line, in bytes.
        max_headers: Most header lines in one head (and trailer lines in one section).
        max_head_size: Largest head (and trailer section), in bytes.
        mark_chunks: Emit ``END_OF_CHUNK`` after the data of each chunk.
    """

    __slots__ = ()
    _is_request = True

    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: _Append) -> int:
        block = buf[pos:block_end]
        text = block.decode("utf-8", "surrogateescape")
        match = REQUEST_RE.match(text)
        if match is not None:
            fields_at = match.end()
            pairs = FIELD_RE.findall(text, fields_at)
            # One pair per LF proves the whole block valid: see _FAST_PATH_PROOF.
            fast = (
                len(pairs) == text.count("\n") - 1
                and len(pairs) <= self._max_headers
                and len(block) <= self._small_head
            )
        else:
            fast = False
        raw: RawHeaders | bytes
        if fast:
            assert match is not None
            method, target, minor = match.groups()
            version = HTTP11 if minor == "1" else version_of(minor)
            raw = block
        else:
            method, target, version, pairs, raw = parse_request_head_slow(
                block,
                max_line_size=self._max_line_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
            )
        headers: CIMultiDict[str] = CIMultiDict(pairs)
        validate_host(headers.getall(_HOST, []), http11=version >= (1, 1))

        te = headers.getall(_TRANSFER_ENCODING, None)
        cl = headers.getall(_CONTENT_LENGTH, None)
        conn = headers.getall(_CONNECTION, None)
        ce = headers.getall(_CONTENT_ENCODING, None)
        coding = content_codings(ce) if ce else ()
        tokens = comma_tokens(conn) if conn is not None else []
        if version < (1, 1):
            close = "keep-alive" not in tokens
        else:
            close = "close" in tokens
        upgrade = method == "CONNECT" or ("upgrade" in tokens and _UPGRADE in headers)
        expect = headers.getall(_EXPECT, None)
        expect_continue = (
            expect is not None and version >= (1, 1) and "100-continue" in comma_tokens(expect)
        )
        chunked = False
        length: int | None = 0
        if te is not None:
            if cl is not None:
                raise InvalidFramingError(
                    f"request has both Transfer-Encoding {bounded_repr(te[0].encode())} and "
                    f"Content-Length {bounded_repr(cl[0].encode())} (RFC 9112 §6.1, §6.3)"
                )
            if version < (1, 1):
                raise InvalidFramingError(
                    f"Transfer-Encoding {bounded_repr(te[0].encode())} in an HTTP/1.0 request:"
                    " its framing is faulty (RFC 9112 §6.1)"
                )
            chunked, extra = parse_transfer_encoding(te, is_request=True)
            coding += extra
            length = None
        elif cl is not None:
            value = cl[0]
            if len(cl) == 1 and len(value) <= _MAX_DIGITS and value.isdigit() and value.isascii():
                length = int(value)
            else:
                length = parse_content_length(cl)
        append(
            RequestHead(
                method,
                target,
                version,
                headers,
                raw,
                close,
                upgrade,
                chunked,
                length,
                coding,
                expect_continue,
            )
        )
        self._next_state = _UPGRADED if upgrade else _HEAD
        if chunked:
            self._state = _CHUNK_SIZE
        elif length:
            self._remaining = self._expected = length
            self._state = _LENGTH
        else:
            append(_END)
            self._state = self._next_state
            if upgrade:
                self.upgraded = True
        return after
