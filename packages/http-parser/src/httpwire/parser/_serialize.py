"""Serializers for message heads, and the chunked transfer coding for bodies.

Strategy: a head is built as one ``str`` and encoded once, with UTF-8 and
``surrogateescape``. That is the inverse of how the parsers decode field values,
so a value taken from a parsed message goes back on the wire byte for byte.

Validation is the header-injection guard of every caller, so it is never
skipped, but it costs a few passes in C over all names and all values (each
joined into one string), not a loop per character or per field. Only when a pass
finds a problem does a slow path look for the offending field, to name it in
the error.

Nothing is added to what the caller gives: no ``Host``, no ``Content-Length``,
no ``Transfer-Encoding``. Framing is the caller's decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, NoReturn

from multidict import CIMultiDictProxy, getversion

from ._events import HTTP11, HttpVersion

__all__ = [
    "ChunkedEncoder",
    "Headers",
    "serialize_request_head",
    "serialize_response_head",
]

Headers = Iterable[tuple[str, str]] | Mapping[str, str]
"""Fields to serialize: ``(name, value)`` pairs in order, or a mapping (a
``CIMultiDict`` gives every value of a repeated name)."""

# tchar of RFC 9110 §5.6.2.
_TCHAR: Final = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_TOKEN: Final = re.compile(f"[{_TCHAR}]+")
# Names are checked all at once: joined by ":" (never a tchar) and ASCII-encoded, with every
# tchar deleted only the colons may be left. bytes.translate runs in C, far faster than a
# regex over the names; an empty name is caught apart.
_TCHAR_BYTES: Final = (
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                             "TRACE", "PATCH"})  # fmt: skip
_ONLY_TUPLES: Final = frozenset({tuple})
# RFC 9110 §5.5: field-value = *( VCHAR / obs-text, with inner SP / HTAB ). CR, LF and NUL
# are invalid and dangerous; the other control characters are invalid too, and this
# package's own parsers refuse them.
_BAD_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9112 §3.2: the request-target is a URI form: visible ASCII, no whitespace.
_BAD_TARGET: Final = re.compile(r"[^\x21-\x7e]")
# RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ).
_BAD_REASON: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_CHAR_NAMES: Final = {"\r": "CR", "\n": "LF", "\x00": "NUL", " ": "SP", "\t": "HTAB"}

# Framing fields a sender never puts in a trailer section (RFC 9110 §6.5.1).
_FORBIDDEN_TRAILERS: Final = frozenset({"content-length", "transfer-encoding", "trailer"})

_VERSIONS: dict[tuple[int, int], str] = {(1, 1): "HTTP/1.1", (1, 0): "HTTP/1.0"}

_REPR_LIMIT: Final = 64

# Checked header sections of read-only mappings. A session sends the same
# ``CIMultiDictProxy`` of default headers with every request: its section is checked and
# joined once, then reused while the mapping is unchanged. A multidict's version is taken
# from one counter shared by every multidict at creation and at each change, so
# ``(id, version)`` names one content exactly: an object made later at the same address
# has a newer version. Only read-only views enter (per-request copies never repeat), and
# at most ``_SECTIONS_MAX`` of them.
_SECTIONS: dict[tuple[int, int], tuple[list[tuple[str, str]], str]] = {}
_SECTIONS_MAX: Final = 32


def _bounded(value: str) -> str:
    """The ``repr`` of at most ``_REPR_LIMIT`` characters of ``value``, marked when cut."""
    if len(value) <= _REPR_LIMIT:
        return repr(value)
    return f"{value[:_REPR_LIMIT]!r}... ({len(value)} characters)"


def _char_name(char: str) -> str:
    return _CHAR_NAMES.get(char, f"U+{ord(char):04X}")


def _version(version: HttpVersion) -> str:
    text = _VERSIONS.get(version)
    if text is not None:
        return text
    major, minor = version
    # RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
    if not (type(major) is int and type(minor) is int and 0 <= major <= 9 and 0 <= minor <= 9):
        raise ValueError(f"HTTP version {version!r} is not two single digits (RFC 9112 §2.3)")
    return f"HTTP/{major}.{minor}"


def _check_token(what: str, value: str) -> None:
    if type(value) is not str:
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if _TOKEN.fullmatch(value) is None:
        raise ValueError(_token_message(what, value))


def _token_message(what: str, value: str) -> str:
    if not value:
        return f"{what} is empty; it must be a token (RFC 9110 §5.6.2)"
    bad = next(c for c in value if _TOKEN.fullmatch(c) is None)
    index = value.index(bad)
    return (
        f"{what} {_bounded(value)} contains {_char_name(bad)} at index {index}; "
        "only token characters are allowed (RFC 9110 §5.6.2)"
    )


def _fields(headers: Headers, what: str) -> tuple[list[tuple[str, str]], str]:
    """Check every name and value at once; return the pairs and their lines joined by CRLF."""
    if type(headers) is CIMultiDictProxy:
        key = (id(headers), getversion(headers))
        known = _SECTIONS.get(key)
        if known is None:
            known = _check_fields(list(headers.items()), what)
            if len(_SECTIONS) >= _SECTIONS_MAX:
                _SECTIONS.clear()
            _SECTIONS[key] = known
        return known
    if type(headers) is list:
        pairs = headers
    else:
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    return _check_fields(pairs, what)


def _check_fields(pairs: list[Any], what: str) -> tuple[list[tuple[str, str]], str]:
    if not pairs:
        return pairs, ""
    try:
        if set(map(type, pairs)) != _ONLY_TUPLES:
            raise TypeError
        names = [name for name, _ in pairs]
        joined = ":".join(names)
        values = "".join([value for _, value in pairs])
    except (TypeError, ValueError):
        return _check_fields(_normalize(pairs, what), what)
    if not (
        joined.isascii()
        and len(joined.encode("ascii").translate(None, _TCHAR_BYTES)) == len(names) - 1
        and all(names)
    ):
        _raise_field(pairs, what)
    if not (values.isascii() and values.isprintable()) and _BAD_VALUE.search(values):
        _raise_field(pairs, what)
    return pairs, "\r\n".join(map(": ".join, pairs))


def _normalize(pairs: list[Any], what: str) -> list[tuple[str, str]]:
    """Pairs as tuples of two ``str``, or a TypeError naming the first one that is not."""
    normal = []
    for index, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"{what} {index} is not a (name, value) pair: {pair!r:.80}")
        name, value = pair
        if type(name) is not str:
            raise TypeError(f"{what} {index} name must be str, not {type(name).__name__}")
        if type(value) is not str:
            raise TypeError(f"{what} {name!r} value must be str, not {type(value).__name__}")
        normal.append((name, value))
    return normal


def _raise_field(pairs: list[tuple[str, str]], what: str) -> NoReturn:
    for name, value in pairs:
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(_token_message(f"{what} name", name))
        match = _BAD_VALUE.search(value)
        if match is not None:
            char = match.group()
            rule = (
                "CR, LF and NUL are forbidden in field values"
                if char in "\r\n\x00"
                else "control characters other than HTAB are invalid in field values"
            )
            raise ValueError(
                f"{what} {_bounded(name)} value {_bounded(value)} contains "
                f"{_char_name(char)} at index {match.start()}; {rule} (RFC 9110 §5.5)"
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _encode(head: str, pairs: list[tuple[str, str]], what: str) -> bytes:
    try:
        return head.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        # Only a surrogate that surrogateescape cannot map back (outside U+DC80..U+DCFF).
        for name, value in pairs:
            try:
                value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{what} {_bounded(name)} value {_bounded(value)} holds a lone "
                    "surrogate that is not an escaped byte; it cannot be encoded"
                ) from exc
        raise ValueError(f"cannot encode {_bounded(head)}: {exc.reason}") from exc


def serialize_request_head(
    method: str,
    target: str,
    headers: Headers,
    version: HttpVersion = HTTP11,
    *,
    host: str | None = None,
    extra: Headers = (),
) -> bytes:
    """Serialize a request line and its header section, ending with the empty line.

    Args:
        method: The method, a token (``GET``, ``POST``...); sent as given (methods
            are case-sensitive).
        target: The request target in any form (origin ``/path?q``, absolute
            ``http://host/path``, authority ``host:443``, or ``*``), percent-encoded:
            visible ASCII only.
        headers: The fields in order, as ``(name, value)`` pairs or a mapping.
            Values decoded by the parser (UTF-8 with ``surrogateescape``) are
            encoded back to their exact wire bytes.
        version: The HTTP version of the request line.
        host: The value of a ``Host`` field to send first, as RFC 9110 §7.2 asks of a user
            agent, when *headers* do not carry it; checked like any value.
        extra: More fields, sent after *headers* (e.g. the framing fields a caller adds to
            the headers it was given, without copying them), checked the same way.

    Returns:
        The head's bytes: request line, field lines, and the final CRLF.

    Raises:
        ValueError: The method or a field name is not a token (RFC 9110 §5.6.2),
            the target holds anything but visible ASCII (RFC 9112 §3.2), a field
            value holds CR, LF, NUL or another control character but HTAB
            (RFC 9110 §5.5), or the version is not two digits. The message names
            the field and quotes the value.
        TypeError: A name or value is not a ``str``.
    """
    if type(method) is not str or (method not in _METHODS and _TOKEN.fullmatch(method) is None):
        _check_token("method", method)
    if (
        type(target) is not str
        or not (target.isascii() and target.isprintable())
        or " " in target
        or not target
    ):
        _check_target(target)
    pairs, lines = _fields(headers, "header")
    if extra:
        more, more_lines = _fields(extra, "header")
        pairs = [*pairs, *more]
        lines = f"{lines}\r\n{more_lines}" if lines else more_lines
    if host is not None:
        if type(host) is not str or not (host.isascii() and host.isprintable()):
            _fields([("Host", host)], "header")  # raises, naming the value
        pairs = [("Host", host), *pairs]
        lines = f"Host: {host}\r\n{lines}" if lines else f"Host: {host}"
    text = "HTTP/1.1" if version is HTTP11 else _version(version)
    if lines:
        head = f"{method} {target} {text}\r\n{lines}\r\n\r\n"
    else:
        head = f"{method} {target} {text}\r\n\r\n"
    return _encode(head, pairs, "header")


def _check_target(target: str) -> None:
    if type(target) is not str:
        raise TypeError(f"target must be str, not {type(target).__name__}")
    if not target:
        raise ValueError("target is empty (RFC 9112 §3.2)")
    match = _BAD_TARGET.search(target)
    if match is not None:
        char = match.group()
        rule = (
            "non-ASCII characters must be percent-encoded (RFC 3986 §2.1, RFC 9112 §3.2)"
            if char > "\x7f"
            else "whitespace and control characters are forbidden in a request-target "
            "(RFC 9112 §3.2)"
        )
        raise ValueError(
            f"target {_bounded(target)} contains {_char_name(char)} at index "
            f"{match.start()}; {rule}"
        )


def serialize_response_head(
    status: int,
    reason: str,
    headers: Headers,
    version: HttpVersion = HTTP11,
) -> bytes:
    """Serialize a status line and its header section, ending with the empty line.

    Args:
        status: The status code, 100 to 999 (three digits, RFC 9110 §15).
        reason: The reason phrase; may be empty. HTAB, SP, visible characters
            and non-ASCII text are allowed (RFC 9112 §4).
        headers: The fields in order, as ``(name, value)`` pairs or a mapping.
        version: The HTTP version of the status line.

    Returns:
        The head's bytes: status line, field lines, and the final CRLF.

    Raises:
        ValueError: The status is not three digits, the reason holds a control
            character, a field name is not a token, a field value holds CR, LF,
            NUL or another control character but HTAB, or the version is not two
            digits. The message names the field and quotes the value.
        TypeError: The status is not an ``int``, or a name, value or the reason
            is not a ``str``.
    """
    if type(status) is not int:
        if not isinstance(status, int) or isinstance(status, bool):
            raise TypeError(f"status must be int, not {type(status).__name__}")
        status = int(status)  # an IntEnum such as http.HTTPStatus
    if not 100 <= status <= 999:
        raise ValueError(f"status {status!r} is not a three-digit code (RFC 9110 §15)")
    if type(reason) is not str:
        raise TypeError(f"reason must be str, not {type(reason).__name__}")
    if not reason.isprintable():
        match = _BAD_REASON.search(reason)
        if match is not None:
            raise ValueError(
                f"reason {_bounded(reason)} contains {_char_name(match.group())} at index "
                f"{match.start()}; control characters are forbidden in a reason-phrase "
                "(RFC 9112 §4)"
            )
    pairs, lines = _fields(headers, "header")
    text = "HTTP/1.1" if version is HTTP11 else _version(version)
    if lines:
        head = f"{text} {status} {reason}\r\n{lines}\r\n\r\n"
    else:
        head = f"{text} {status} {reason}\r\n\r\n"
    try:
        return head.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        try:
            reason.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"reason {_bounded(reason)} holds a lone surrogate that is not an "
                "escaped byte; it cannot be encoded"
            ) from exc
        return _encode(head, pairs, "header")


class ChunkedEncoder:
    """Frames a body with the chunked transfer coding (RFC 9112 §7.1).

    Each :meth:`encode` call makes one chunk; :meth:`finish` writes the last
    chunk and the trailer section. The encoder holds no data, only whether the
    body was finished.

    Example:
        >>> enc = ChunkedEncoder()
        >>> enc.encode(b"hello") + enc.finish()
        b'5\\r\\nhello\\r\\n0\\r\\n\\r\\n'
    """

    __slots__ = ("_finished",)

    def __init__(self) -> None:
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._finished

    def encode(self, data: bytes | bytearray | memoryview) -> bytes:
        """Frame ``data`` as one chunk.

        Args:
            data: The chunk's content. Empty data gives ``b""``: a zero-size
                chunk would end the body, which only :meth:`finish` does.

        Returns:
            The size line in hex, the data and CRLF.

        Raises:
            RuntimeError: The body was already finished.
        """
        if self._finished:
            raise RuntimeError("the chunked body was already finished")
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        if not size:
            return b""
        return b"".join((b"%x\r\n" % size, data, b"\r\n"))

    def finish(self, trailers: Headers | None = None) -> bytes:
        """End the body: the last chunk, then the trailer section.

        Args:
            trailers: Trailer fields, as ``(name, value)`` pairs or a mapping.
                Announce them in a ``Trailer`` header field of the head.

        Returns:
            ``0`` CRLF, the trailer field lines, and the final CRLF.

        Raises:
            ValueError: A trailer name is not a token, a value holds CR, LF, NUL
                or another control character, or a trailer is a framing field (``Content-Length``,
                ``Transfer-Encoding``, ``Trailer``; RFC 9110 §6.5.1).
            RuntimeError: The body was already finished.
        """
        if self._finished:
            raise RuntimeError("the chunked body was already finished")
        if not trailers:
            self._finished = True
            return b"0\r\n\r\n"
        pairs, lines = _fields(trailers, "trailer")
        for name, _ in pairs:
            if name.lower() in _FORBIDDEN_TRAILERS:
                raise ValueError(
                    f"trailer {_bounded(name)} is a framing field, which a sender never "
                    "puts in a trailer section (RFC 9110 §6.5.1)"
                )
        data = _encode(f"0\r\n{lines}\r\n\r\n" if lines else "0\r\n\r\n", pairs, "trailer")
        self._finished = True
        return data
