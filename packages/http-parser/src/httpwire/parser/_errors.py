"""The parser's error tree.

Every error the package raises derives from :class:`HttpParserError`, itself a
:class:`ValueError`: bad bytes from a peer are bad values. A subclass exists for
each failure a caller may want to handle differently; a server maps them to a
status code (:attr:`HttpParserError.status_hint`), a client to a protocol error.

Messages quote the offending line or field (a bounded ``repr``) and name the
rule with its RFC section, e.g. ``chunk size b'-1' is not hex (RFC 9112 §7.1)``.
Every error pickles: constructors take their attributes positionally, in the
order ``__reduce__`` gives them back.
"""

from __future__ import annotations

__all__ = [
    "BadStartLineError",
    "DecodingError",
    "FieldTooLargeError",
    "HeadTooLargeError",
    "HttpParserError",
    "IncompleteMessageError",
    "InvalidChunkError",
    "InvalidFramingError",
    "InvalidHeaderError",
    "LimitExceededError",
    "LineTooLongError",
    "TooManyHeadersError",
    "bounded_repr",
]

_REPR_LIMIT = 64


def bounded_repr(value: bytes | bytearray | memoryview, limit: int = _REPR_LIMIT) -> str:
    """The ``repr`` of at most ``limit`` bytes of ``value``, marked when cut.

    Args:
        value: The offending bytes, possibly huge.
        limit: How many bytes to show at most.

    Returns:
        ``b'...'`` for short values; ``b'...'... (1234 bytes)`` for longer ones.
    """
    data = bytes(value[:limit])
    if len(value) <= limit:
        return repr(data)
    return f"{data!r}... ({len(value)} bytes)"


class HttpParserError(ValueError):
    """The root of every error raised by ``httpwire.parser``.

    After a parser raised one, it is unusable: the connection should be closed.

    Attributes:
        status_hint: The status a server should answer with (400 by default).
    """

    status_hint: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        """The error's message."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class BadStartLineError(HttpParserError):
    """The request line or the status line is malformed (RFC 9112 §3, §4)."""


class InvalidHeaderError(HttpParserError):
    """A header or trailer field line breaks the field syntax (RFC 9112 §5, RFC 9110 §5).

    Covers whitespace before the colon, invalid token characters in a name,
    CR/LF/NUL in a value, obs-fold in a request, bare CR or LF, and a bad
    ``Host`` field.
    """


class LimitExceededError(HttpParserError):
    """A configured size or count limit was exceeded.

    The parent of the four limit errors; a server answers 431 (or 414 for the
    request line) to them. The parser raises as soon as the limit is passed,
    never after buffering the whole oversize input.

    Attributes:
        limit: The configured limit that was exceeded.
    """

    status_hint = 431

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self) -> tuple[type[LimitExceededError], tuple[str, int]]:
        return (type(self), (self.message, self.limit))


class LineTooLongError(LimitExceededError):
    """The start line (request or status line) is longer than ``max_line_size``."""

    status_hint = 414


class FieldTooLargeError(LimitExceededError):
    """A header or trailer field line is longer than ``max_field_size``."""


class TooManyHeadersError(LimitExceededError):
    """A head or trailer section holds more than ``max_headers`` fields."""


class HeadTooLargeError(LimitExceededError):
    """A whole head (start line and fields) is larger than ``max_head_size``."""


class InvalidFramingError(HttpParserError):
    """The message body framing is ambiguous or invalid (RFC 9112 §6).

    Covers both ``Content-Length`` and ``Transfer-Encoding``, differing
    ``Content-Length`` values, a malformed ``Content-Length``, and transfer
    codings that cannot be decoded or whose last coding is not ``chunked`` in a
    request. These are the request smuggling cases.
    """


class InvalidChunkError(InvalidFramingError):
    """A chunk of a chunked body is malformed (RFC 9112 §7.1).

    Covers non-hex, signed, overlong or overflowing chunk sizes, bad chunk
    extensions, and missing CRLF after chunk data.
    """


class IncompleteMessageError(HttpParserError):
    """The peer closed the connection in the middle of a message.

    Attributes:
        expected: How many body bytes were announced (Content-Length), when known.
        received: How many of them arrived, when known.
    """

    def __init__(
        self, message: str, expected: int | None = None, received: int | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.received = received

    def __reduce__(
        self,
    ) -> tuple[type[IncompleteMessageError], tuple[str, int | None, int | None]]:
        return (type(self), (self.message, self.expected, self.received))


class DecodingError(HttpParserError):
    """A content-coded body could not be decoded (corrupt, truncated or unsupported)."""
