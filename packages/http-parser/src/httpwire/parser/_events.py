"""The events the parsers produce.

A parser's ``feed()`` returns a flat list: a head (:class:`ResponseHead`,
:class:`InformationalResponse` or :class:`RequestHead`), then body pieces as
plain ``bytes`` (never empty), optionally :data:`END_OF_CHUNK` markers, then
:class:`EndOfMessage`. Events are plain classes with ``__slots__`` built with
positional arguments, because the parser makes one per message on the hot path;
their attributes are read-only by convention.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, NamedTuple

from multidict import CIMultiDict

from ._headers import RawHeaders, raw_fields

__all__ = [
    "END_OF_CHUNK",
    "HTTP10",
    "HTTP11",
    "EndOfChunk",
    "EndOfMessage",
    "Event",
    "HttpVersion",
    "InformationalResponse",
    "RawHeaders",
    "RequestHead",
    "ResponseHead",
]


class HttpVersion(NamedTuple):
    """An HTTP version, e.g. ``HttpVersion(1, 1)``; compares as a tuple."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"HTTP/{self.major}.{self.minor}"


HTTP10: Final = HttpVersion(1, 0)
"""HTTP/1.0."""
HTTP11: Final = HttpVersion(1, 1)
"""HTTP/1.1."""


class _Event:
    """Equality and ``repr`` by slot values, for tests and debugging."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Event)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable fields (headers): not hashable

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


class _Head(_Event):
    """What every head shares: ``raw_headers``, parsed on first access.

    The parsers validate a head as one block and hand that block to the event;
    the ``(bytes, bytes)`` pairs are only cut out of it if someone asks, since
    most callers use the decoded ``headers`` alone.
    """

    __slots__ = ("_raw",)

    _raw: RawHeaders | bytes

    @property
    def raw_headers(self) -> RawHeaders:
        """The field lines as received: ``(name, value)`` pairs in wire order."""
        raw = self._raw
        if isinstance(raw, bytes):
            raw = self._raw = raw_fields(raw)
        return raw


class InformationalResponse(_Head):
    """An interim 1xx response (``100 Continue``, ``103 Early Hints``...), other than 101.

    It comes before the final :class:`ResponseHead` of the same exchange and has
    no body.

    Attributes:
        version: The response's HTTP version.
        status: The status code, 100 to 199 (never 101).
        reason: The reason phrase (may be empty).
        headers: The fields; values decoded as UTF-8 with ``surrogateescape``.
        raw_headers: The field lines as received.
    """

    __slots__ = ("headers", "reason", "status", "version")
    _fields = ("version", "status", "reason", "headers", "raw_headers")

    def __init__(
        self,
        version: HttpVersion,
        status: int,
        reason: str,
        headers: CIMultiDict[str],
        raw_headers: RawHeaders | bytes,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self._raw = raw_headers


class ResponseHead(_Head):
    """The head of a final response (status 101 or 200 to 599).

    Attributes:
        version: The response's HTTP version.
        status: The status code.
        reason: The reason phrase (may be empty).
        headers: The fields; values decoded as UTF-8 with ``surrogateescape``, so
            ``value.encode("utf-8", "surrogateescape")`` gives the wire bytes back.
        raw_headers: The field lines as received (names as sent, wire order).
        should_close: The connection cannot carry another exchange after this one:
            HTTP/1.0 without ``keep-alive``, ``Connection: close``, or a body read
            until the connection closes.
        upgrade: The bytes after this head are not HTTP (101 Switching Protocols,
            or a 2xx answer to CONNECT); see the parser's ``trailing_data()``.
        chunked: The body uses the chunked transfer coding.
        content_length: The body's length from ``Content-Length``; ``None`` when
            the body is chunked, read until close, or absent by rule
            (HEAD, 1xx, 204, 304, 2xx to CONNECT).
        content_coding: Lowercased ``Content-Encoding`` tokens in the order they
            were applied, ``identity`` dropped.
    """

    __slots__ = (
        "chunked",
        "content_coding",
        "content_length",
        "headers",
        "reason",
        "should_close",
        "status",
        "upgrade",
        "version",
    )
    _fields = (
        "version",
        "status",
        "reason",
        "headers",
        "raw_headers",
        "should_close",
        "upgrade",
        "chunked",
        "content_length",
        "content_coding",
    )

    def __init__(
        self,
        version: HttpVersion,
        status: int,
        reason: str,
        headers: CIMultiDict[str],
        raw_headers: RawHeaders | bytes,
        should_close: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
        content_coding: tuple[str, ...],
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self._raw = raw_headers
        self.should_close = should_close
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.content_coding = content_coding


class RequestHead(_Head):
    """The head of a request.

    Attributes:
        method: The method, case preserved (methods are case-sensitive).
        target: The request target as sent (origin, absolute, authority or ``*`` form).
        version: The request's HTTP version.
        headers: The fields; values decoded as UTF-8 with ``surrogateescape``.
        raw_headers: The field lines as received.
        should_close: The connection closes after the response to this request.
        upgrade: The bytes after this head are not HTTP once the server agrees:
            CONNECT, or an ``Upgrade`` field with ``Connection: upgrade`` in an
            HTTP/1.1 request (RFC 9110 §7.8: ignored in HTTP/1.0).
        chunked: The body uses the chunked transfer coding.
        content_length: The body's length; 0 when the request has no body framing.
        content_coding: Lowercased ``Content-Encoding`` tokens in the order they
            were applied, ``identity`` dropped.
        expect_continue: The client sent ``Expect: 100-continue``.
    """

    __slots__ = (
        "chunked",
        "content_coding",
        "content_length",
        "expect_continue",
        "headers",
        "method",
        "should_close",
        "target",
        "upgrade",
        "version",
    )
    _fields = (
        "method",
        "target",
        "version",
        "headers",
        "raw_headers",
        "should_close",
        "upgrade",
        "chunked",
        "content_length",
        "content_coding",
        "expect_continue",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: HttpVersion,
        headers: CIMultiDict[str],
        raw_headers: RawHeaders | bytes,
        should_close: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
        content_coding: tuple[str, ...],
        expect_continue: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self._raw = raw_headers
        self.should_close = should_close
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.content_coding = content_coding
        self.expect_continue = expect_continue


class EndOfMessage(_Event):
    """The end of a message's body, with its trailer fields.

    Attributes:
        trailers: Trailer fields of a chunked body (empty when none).
        raw_trailers: The trailer field lines as received.
    """

    __slots__ = ("_trailers", "raw_trailers")
    _fields = ("trailers", "raw_trailers")

    def __init__(
        self, trailers: CIMultiDict[str] | None = None, raw_trailers: RawHeaders = ()
    ) -> None:
        self._trailers = trailers
        self.raw_trailers = raw_trailers

    @property
    def trailers(self) -> CIMultiDict[str]:
        """Trailer fields of a chunked body (a new empty ``CIMultiDict`` when there were none).

        Without trailers, nothing is stored: the parsers can then hand out one shared
        ``EndOfMessage`` instead of building one per message.
        """
        trailers = self._trailers
        return CIMultiDict() if trailers is None else trailers


class EndOfChunk:
    """The type of :data:`END_OF_CHUNK`; there is one instance, compare with ``is``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END_OF_CHUNK"

    def __reduce__(self) -> str:
        return "END_OF_CHUNK"


END_OF_CHUNK: Final[EndOfChunk] = EndOfChunk()
"""Marks the end of one chunk of a chunked body (only with ``mark_chunks=True``)."""

Event = ResponseHead | InformationalResponse | RequestHead | bytes | EndOfChunk | EndOfMessage
"""Everything a parser's ``feed()`` returns: a closed union, so ``type(event) is ...`` narrows.

A :class:`ResponseParser` never returns a :class:`RequestHead`, and a
:class:`RequestParser` never returns a :class:`ResponseHead` or an
:class:`InformationalResponse`.
"""
