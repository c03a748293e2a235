"""The multipart parser: a sans-I/O state machine from bytes to parts (RFC 2046 §5.1.1).

Strategy: the parser keeps one buffer and a position in it. In a part's body it
looks for the delimiter ``CRLF "--" boundary`` with ``bytes.find`` over
everything it has, and hands out all the bytes that cannot be the start of a
delimiter; only a tail that is a prefix of the delimiter waits for the next
piece. A piece with no delimiter and no such tail is handed out as it is, with
no copy, so reading a big file part costs one search per piece.

The body is read as if it began with CRLF, so a delimiter at the very start
(no preamble) is found by the same search as every other one. The preamble and
the epilogue are discarded.

Any split of the input gives the same events (data may be cut differently;
its concatenation is identical). After an error the parser is unusable.
"""

from __future__ import annotations

import re
from typing import Final

from multidict import CIMultiDict

from ._errors import (
    BoundaryError,
    IncompleteMultipartError,
    MalformedMultipartError,
    MultipartError,
    MultipartLimitError,
)

__all__ = [
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_LINE_SIZE",
    "DEFAULT_MAX_PARTS",
    "END_OF_MULTIPART",
    "END_OF_PART",
    "MultipartParser",
    "ParserEvent",
    "PartHead",
]

DEFAULT_MAX_LINE_SIZE: Final = 8190
DEFAULT_MAX_HEADERS: Final = 64
DEFAULT_MAX_PARTS: Final = 1000

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PADDING = b" \t"


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: Emitted after the last data of each part.
END_OF_PART: Final = _Marker("END_OF_PART")
#: Emitted once, after the close delimiter.
END_OF_MULTIPART: Final = _Marker("END_OF_MULTIPART")


class PartHead:
    """The start of a part: its headers.

    Attributes:
        index: The part's index, from 0.
        headers: Header values decoded as UTF-8 with ``surrogateescape``.
        raw_headers: Names and values as received, in order.
        offset: Offset in the body of the part's first header byte.
    """

    __slots__ = ("headers", "index", "offset", "raw_headers")

    def __init__(
        self,
        index: int,
        headers: CIMultiDict[str],
        raw_headers: tuple[tuple[bytes, bytes], ...],
        offset: int,
    ) -> None:
        self.index = index
        self.headers = headers
        self.raw_headers = raw_headers
        self.offset = offset

    def __repr__(self) -> str:
        return f"<PartHead {self.index} {list(self.headers.items())!r}>"


ParserEvent = PartHead | bytes | _Marker

_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE, _FAILED = range(6)


def _bounded(data: bytes, limit: int = 40) -> str:
    if len(data) > limit:
        return repr(data[:limit]) + f"... ({len(data)} bytes)"
    return repr(data)


class MultipartParser:
    """Incremental parser of a multipart body.

    Args:
        boundary: The boundary from the Content-Type (without the leading ``--``).
        max_line_size: Longest header line accepted, in bytes (CRLF excluded).
        max_headers: Most header lines accepted in one part.
        max_parts: Most parts accepted in the body.

    Raises:
        BoundaryError: On an empty or over-long boundary.
    """

    __slots__ = (
        "_base",
        "_buf",
        "_deferred",
        "_delimiter",
        "_head_start",
        "_headers",
        "_max_headers",
        "_max_line_size",
        "_max_parts",
        "_part",
        "_pos",
        "_raw",
        "_state",
        "boundary",
    )

    def __init__(
        self,
        boundary: bytes | str,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_parts: int = DEFAULT_MAX_PARTS,
    ) -> None:
        if isinstance(boundary, str):
            boundary = boundary.encode("utf-8", "surrogateescape")
        if not 1 <= len(boundary) <= 70:
            raise BoundaryError(
                f"multipart boundary {_bounded(boundary)} must be 1 to 70 bytes long "
                "(RFC 2046 §5.1.1)"
            )
        self.boundary = boundary
        self._delimiter = b"\r\n--" + boundary
        self._max_line_size = max_line_size
        self._max_headers = max_headers
        self._max_parts = max_parts
        # The body is read as if it began with CRLF: _base is the body offset of _buf[0].
        self._buf = b"\r\n"
        self._base = -2
        self._pos = 0
        self._state = _PREAMBLE
        self._part = -1
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._head_start = 0
        self._deferred: MultipartError | None = None

    @property
    def part_index(self) -> int | None:
        """Index of the part being read, or None before the first one."""
        return self._part if self._part >= 0 else None

    @property
    def offset(self) -> int:
        """Body offset of the first byte not yet consumed."""
        return max(self._base + self._pos, 0)

    @property
    def buffered(self) -> int:
        """Bytes held back, waiting for more input: never more than the longest header
        line or delimiter line allowed (plus CRLF), whatever the input."""
        return len(self._buf) - self._pos

    @property
    def finished(self) -> bool:
        """True once the close delimiter was read."""
        return self._state == _EPILOGUE

    def _error(
        self, cls: type[MultipartError], message: str, at: int | None = None
    ) -> MultipartError:
        self._state = _FAILED
        offset = self.offset if at is None else max(self._base + at, 0)
        return cls(message, part=self.part_index, offset=offset)

    def feed(self, data: bytes) -> list[ParserEvent]:
        """Parse the next bytes of the body.

        Returns:
            Events in order: a :class:`PartHead` when a part's headers are complete,
            ``bytes`` of its body (never empty), :data:`END_OF_PART` after its last
            data, and :data:`END_OF_MULTIPART` after the close delimiter.

        Raises:
            MultipartError: The subclass and message say what was wrong and where. When
                events came before the error in the same input, they are returned and
                the error is raised by the next call.
        """
        self.raise_deferred()
        state = self._state
        if state == _EPILOGUE:
            return []
        if state == _FAILED:
            raise MultipartError("the parser failed earlier and cannot go on")
        buf = self._buf
        pos = self._pos
        if pos < len(buf):
            if data:
                buf = (buf[pos:] if pos else buf) + data
                self._base += pos
        else:
            self._base += len(buf)
            buf = data
        self._buf = buf
        self._pos = 0
        events: list[ParserEvent] = []
        try:
            self._run(events)
        except MultipartError as exc:
            if not events:
                raise
            # Hand out what came before the error first; the next call raises it.
            self._deferred = exc
        return events

    def raise_deferred(self) -> None:
        """Raise the error found after the events last returned, if there was one.

        :meth:`feed` returns the events that precede an error and raises the error on
        the next call (of :meth:`feed`, :meth:`feed_eof` or this method), so that the
        parts before a bad one are read in order. A reader calls this before waiting
        for more input.
        """
        exc = self._deferred
        if exc is not None:
            self._deferred = None
            raise exc

    def _run(self, events: list[ParserEvent]) -> None:
        buf = self._buf
        delimiter = self._delimiter
        dlen = len(delimiter)
        while True:
            state = self._state
            pos = self._pos
            if state == _BODY:
                found = buf.find(delimiter, pos)
                if found >= 0:
                    if found > pos:
                        events.append(buf[pos:found])
                    events.append(END_OF_PART)
                    self._pos = found + dlen
                    self._state = _AFTER_DELIMITER
                    continue
                # Keep back only a tail that could be the start of a delimiter.
                end = len(buf)
                keep = buf.find(b"\r", max(pos, end - dlen + 1))
                while keep >= 0 and not delimiter.startswith(buf[keep:]):
                    keep = buf.find(b"\r", keep + 1)
                if keep < 0:
                    keep = end
                if keep > pos:
                    events.append(buf if pos == 0 and keep == end else buf[pos:keep])
                self._pos = keep
                return
            if state == _PREAMBLE:
                found = buf.find(delimiter, pos)
                if found < 0:
                    # Discard the preamble, keeping what could start a delimiter.
                    self._pos = max(pos, len(buf) - dlen + 1)
                    return
                self._pos = found + dlen
                self._state = _AFTER_DELIMITER
                continue
            if state == _AFTER_DELIMITER:
                if not self._after_delimiter(buf, pos, events):
                    return
                continue
            if state == _HEADERS:
                if not self._header_line(buf, pos, events):
                    return
                continue
            # _EPILOGUE: ignore the rest.
            self._pos = len(buf)
            return

    def _after_delimiter(self, buf: bytes, pos: int, events: list[ParserEvent]) -> bool:
        """Read what follows a delimiter: ``--`` (the end) or padding and CRLF."""
        if len(buf) - pos < 2:
            return False
        if buf[pos : pos + 2] == b"--":
            self._pos = pos + 2
            self._state = _EPILOGUE
            events.append(END_OF_MULTIPART)
            return True
        eol = buf.find(b"\r\n", pos, pos + self._max_line_size + 2)
        if eol < 0:
            tail = buf[pos : pos + self._max_line_size + 2]
            if tail.rstrip(b"\r").strip(_PADDING) or len(tail) > self._max_line_size:
                raise self._error(
                    BoundaryError,
                    f"delimiter line '--{self.boundary.decode('latin-1')}' is followed by "
                    f"{_bounded(tail)}, not CRLF: the boundary occurs in the content or the "
                    "line is malformed (RFC 2046 §5.1.1)",
                    pos,
                )
            return False
        if buf[pos:eol].strip(_PADDING):
            raise self._error(
                BoundaryError,
                f"delimiter line '--{self.boundary.decode('latin-1')}' is followed by "
                f"{_bounded(buf[pos:eol])}, not CRLF: the boundary occurs in the content or "
                "the line is malformed (RFC 2046 §5.1.1)",
                pos,
            )
        self._part += 1
        if self._part >= self._max_parts:
            raise self._error(
                MultipartLimitError,
                f"too many parts: more than max_parts={self._max_parts}",
                pos,
            )
        self._pos = eol + 2
        self._head_start = self._base + eol + 2
        self._raw = []
        self._headers = CIMultiDict()
        self._state = _HEADERS
        return True

    def _header_line(self, buf: bytes, pos: int, events: list[ParserEvent]) -> bool:
        """Read one header line, or the empty line that ends the part's headers."""
        limit = self._max_line_size
        eol = buf.find(b"\r\n", pos, pos + limit + 2)
        if eol < 0:
            if len(buf) - pos > limit + 1:
                raise self._error(
                    MultipartLimitError,
                    f"header line {_bounded(buf[pos : pos + 40])} is longer than "
                    f"max_line_size={limit} bytes",
                )
            return False
        line = buf[pos:eol]
        self._pos = eol + 2
        if not line:
            self._state = _BODY
            events.append(
                PartHead(self._part, self._headers, tuple(self._raw), max(self._head_start, 0))
            )
            return True
        if line[0] in _PADDING:
            # obs-fold (RFC 5322 §2.2.3): the line continues the previous header.
            if not self._raw:
                raise self._error(
                    MalformedMultipartError,
                    f"header block starts with a continuation line {_bounded(line)}",
                    pos,
                )
            name, value = self._raw[-1]
            value = value + b" " + line.strip(_PADDING)
            self._raw[-1] = (name, value)
            text_name = name.decode("ascii")
            values = self._headers.getall(text_name)
            self._headers.popall(text_name)
            for old in values[:-1]:
                self._headers.add(text_name, old)
            self._headers.add(text_name, value.decode("utf-8", "surrogateescape"))
            return True
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise self._error(
                MalformedMultipartError,
                f"invalid header line {_bounded(line)}: expected 'name: value' with a token "
                "name (RFC 5322 §2.2, RFC 9110 §5.1)",
                pos,
            )
        if len(self._raw) >= self._max_headers:
            raise self._error(
                MultipartLimitError,
                f"too many headers in one part: more than max_headers={self._max_headers}",
                pos,
            )
        value = value.strip(_PADDING)
        self._raw.append((name, value))
        self._headers.add(name.decode("ascii"), value.decode("utf-8", "surrogateescape"))
        return True

    def feed_eof(self) -> list[ParserEvent]:
        """Tell the parser the body ended.

        Returns:
            No events (the close delimiter ends the body, not the end of input).

        Raises:
            IncompleteMultipartError: When the body ended before the close delimiter;
                the message says in which state.
            BoundaryError: When no delimiter was found at all.
        """
        self.raise_deferred()
        state = self._state
        boundary = self.boundary.decode("latin-1")
        if state == _EPILOGUE:
            return []
        if state == _FAILED:
            raise MultipartError("the parser failed earlier and cannot go on")
        self._pos = len(self._buf)
        if state == _PREAMBLE:
            raise self._error(
                BoundaryError,
                f"no delimiter line '--{boundary}' in the body: the boundary is missing or "
                "wrong (RFC 2046 §5.1.1)",
            )
        if state == _BODY:
            message = f"body ended inside part {self._part} with no delimiter after its data"
        elif state == _HEADERS:
            message = f"body ended in the headers of part {self._part}"
        else:
            message = "body ended after a delimiter line"
        raise self._error(
            IncompleteMultipartError,
            f"{message}; the close delimiter '--{boundary}--' is missing (RFC 2046 §5.1.1)",
        )
