"""Start lines, and the careful path for whole heads.

The parsers try :data:`STATUS_RE` / :data:`REQUEST_RE` on the decoded head
first; they only match well-formed HTTP/1.x start lines. When they fail, or when
the bulk field check fails, the functions here take the head apart line by line
and raise an error that names the offending line and the rule it broke.
"""

from __future__ import annotations

import re

from ._errors import BadStartLineError, InvalidHeaderError, LineTooLongError, bounded_repr
from ._events import HTTP10, HTTP11, HttpVersion, RawHeaders
from ._headers import TOKEN, parse_fields_slow

__all__ = [
    "REQUEST_RE",
    "STATUS_RE",
    "check_status_prefix",
    "find_head_end_lenient",
    "parse_request_head_slow",
    "parse_request_line",
    "parse_response_head_slow",
    "parse_status_line",
    "version_of",
]

# status-line = HTTP-version SP status-code SP [ reason-phrase ]   (RFC 9112 §4)
# reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); valid codes are 100-599 (RFC 9110 §15).
# The SP before an empty reason is a sender's MUST that real servers break ("HTTP/1.1 200"):
# the reason is ignorable and framing does not depend on it, so a client accepts the line.
# The reason's class stops at U+00FF, for the reason given beside FIELD_RE (compile time at
# import): a reason with a code point above it is left to parse_status_line, which takes it.
STATUS_RE = re.compile(r"HTTP/1\.([0-9]) ([1-5][0-9][0-9])(?: ([\t \x21-\x7e\x80-\xff]*))?\r\n")
# request-line = method SP request-target SP HTTP-version   (RFC 9112 §3)
REQUEST_RE = re.compile("(" + TOKEN + r") ([\x21-\x7e]+) HTTP/1\.([0-9])\r\n")

_BSTATUS_RE = re.compile(rb"HTTP/1\.([0-9]) ([1-5][0-9][0-9])(?: ([\t \x21-\x7e\x80-\xff]*))?")
_BREQUEST_RE = re.compile(b"(" + TOKEN.encode() + rb") ([\x21-\x7e]+) HTTP/1\.([0-9])")
_BVERSION_RE = re.compile(rb"HTTP/([0-9])\.([0-9])")
_BTOKEN_RE = re.compile(TOKEN.encode())
_BTARGET_RE = re.compile(rb"[\x21-\x7e]+")


def version_of(minor: str) -> HttpVersion:
    """The :class:`HttpVersion` ``1.minor``, reusing the two common constants."""
    if minor == "1":
        return HTTP11
    if minor == "0":
        return HTTP10
    return HttpVersion(1, int(minor))


def find_head_end_lenient(buf: bytes, pos: int, stop: int) -> tuple[int, int]:
    """Find the empty line ending a head whose lines may end with a bare LF.

    Args:
        buf: The buffer.
        pos: Where the head starts.
        stop: Search no further than this index.

    Returns:
        ``(block_end, after)``: the index just past the last field line's line end,
        and the index just past the empty line; ``(-1, -1)`` when not found.
    """
    lf = buf.find(b"\n\n", pos, stop)
    crlf = buf.find(b"\n\r\n", pos, stop)
    if lf < 0 and crlf < 0:
        return -1, -1
    if crlf < 0 or 0 <= lf < crlf:
        return lf + 1, lf + 2
    return crlf + 1, crlf + 3


def check_status_prefix(data: bytes | bytearray) -> None:
    """Refuse a status line whose first bytes cannot begin ``HTTP/``.

    A peer that is not an HTTP/1.x server (an SSH banner, an HTTP/0.9-style answer
    that is a bare document) is refused from its first bytes, without waiting for a
    line end or an empty line that may never come.

    Args:
        data: The first bytes of a status line (any number).

    Raises:
        BadStartLineError: They are not a prefix of ``HTTP/`` (nor start with it).
    """
    head = bytes(data[:5])
    if head != b"HTTP/"[: len(head)]:
        raise BadStartLineError(
            f"the response starts with {bounded_repr(data, 16)}, which cannot begin an HTTP/1.x "
            "status line (RFC 9112 §4)"
        )


def _split_start_line(block: bytes, *, is_request: bool, max_line_size: int) -> tuple[bytes, int]:
    if is_request:
        end = block.find(b"\r\n")
        line = block[:end] if end >= 0 else block
        rest = end + 2
        if b"\n" in line:
            raise InvalidHeaderError(
                f"bare LF in the request line {bounded_repr(line)}: requests must end lines "
                "with CRLF (RFC 9112 §2.2)"
            )
    else:
        end = block.find(b"\n")
        line = block[:end] if end >= 0 else block
        rest = end + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        check_status_prefix(line)  # first, as an unfinished line is judged
    if len(line) > max_line_size:
        raise LineTooLongError(
            f"{'request' if is_request else 'status'} line {bounded_repr(line)} is longer than "
            f"max_line_size={max_line_size} bytes",
            max_line_size,
        )
    if b"\r" in line:
        raise InvalidHeaderError(
            f"bare CR in the {'request' if is_request else 'status'} line {bounded_repr(line)}"
            " (RFC 9112 §2.2)"
        )
    return line, (rest if end >= 0 else len(block))


def _check_version(version: bytes, line: bytes, what: str) -> None:
    match = _BVERSION_RE.fullmatch(version)
    if match is None:
        raise BadStartLineError(
            f"invalid HTTP version {bounded_repr(version)} in the {what} line "
            f"{bounded_repr(line)}: expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)"
        )
    if match.group(1) != b"1":
        raise BadStartLineError(
            f"unsupported HTTP version {bounded_repr(version)} in the {what} line "
            f"{bounded_repr(line)}: only HTTP/1.x is spoken here (RFC 9112 §2.3)"
        )


def parse_status_line(line: bytes) -> tuple[HttpVersion, int, str]:
    """Parse a status line (without its line end), with exact errors.

    Args:
        line: The status line.

    Returns:
        The version, the status code and the reason phrase.

    Raises:
        BadStartLineError: The line is not ``HTTP/1.x SP 3DIGIT SP reason``.
    """
    match = _BSTATUS_RE.fullmatch(line)
    if match is not None:
        minor, code, reason = match.groups()
        text = reason.decode("utf-8", "surrogateescape") if reason is not None else ""
        return version_of(minor.decode()), int(code), text
    version, _, rest = line.partition(b" ")
    _check_version(version, line, "status")
    code, _, reason = rest.partition(b" ")
    if not (len(code) == 3 and code.isdigit()):
        raise BadStartLineError(
            f"status code {bounded_repr(code)} in the status line {bounded_repr(line)} is not "
            "3DIGIT (RFC 9112 §4)"
        )
    if not 100 <= int(code) <= 599:
        raise BadStartLineError(
            f"status code {bounded_repr(code)} in the status line {bounded_repr(line)} is "
            "outside 100-599 (RFC 9110 §15)"
        )
    raise BadStartLineError(
        f"invalid reason phrase {bounded_repr(reason)} in the status line {bounded_repr(line)}: "
        "only HTAB, SP, VCHAR and obs-text are allowed (RFC 9112 §4)"
    )


def parse_request_line(line: bytes) -> tuple[str, str, HttpVersion]:
    """Parse a request line (without its line end), with exact errors.

    Args:
        line: The request line.

    Returns:
        The method, the request target and the version.

    Raises:
        BadStartLineError: The line is not ``method SP request-target SP HTTP/1.x``.
    """
    match = _BREQUEST_RE.fullmatch(line)
    if match is not None:
        method, target, minor = match.groups()
        return method.decode("ascii"), target.decode("ascii"), version_of(minor.decode())
    parts = line.split(b" ")
    if len(parts) != 3:
        raise BadStartLineError(
            f"request line {bounded_repr(line)} is not method SP request-target SP "
            "HTTP-version, with single spaces (RFC 9112 §3)"
        )
    method, target, version = parts
    if not _BTOKEN_RE.fullmatch(method):
        raise BadStartLineError(
            f"invalid method {bounded_repr(method)} in the request line {bounded_repr(line)}: "
            "a method is a token (RFC 9110 §9.1)"
        )
    if not _BTARGET_RE.fullmatch(target):
        raise BadStartLineError(
            f"invalid request-target {bounded_repr(target)} in the request line "
            f"{bounded_repr(line)}: only visible ASCII is allowed (RFC 9112 §3.2)"
        )
    _check_version(version, line, "request")
    raise BadStartLineError(  # pragma: no cover - the fast pattern accepts every other case
        f"invalid request line {bounded_repr(line)} (RFC 9112 §3)"
    )


def parse_response_head_slow(
    block: bytes, *, max_line_size: int, max_field_size: int, max_headers: int
) -> tuple[HttpVersion, int, str, list[tuple[str, str]], RawHeaders]:
    """Parse a response head line by line (bare LF and obs-fold accepted).

    Args:
        block: The head up to and including the last field line's line end.
        max_line_size: The longest status line accepted.
        max_field_size: The longest field line accepted.
        max_headers: The most field lines accepted.

    Returns:
        Version, status, reason, decoded pairs and raw pairs.

    Raises:
        HttpParserError: The exact reason the head is invalid.
    """
    line, rest = _split_start_line(block, is_request=False, max_line_size=max_line_size)
    version, status, reason = parse_status_line(line)
    pairs, raw = parse_fields_slow(
        block[rest:], is_request=False, max_field_size=max_field_size, max_headers=max_headers
    )
    return version, status, reason, pairs, raw


def parse_request_head_slow(
    block: bytes, *, max_line_size: int, max_field_size: int, max_headers: int
) -> tuple[str, str, HttpVersion, list[tuple[str, str]], RawHeaders]:
    """Parse a request head line by line (strict: CRLF only, no obs-fold).

    Args:
        block: The head up to and including the last field line's CRLF.
        max_line_size: The longest request line accepted.
        max_field_size: The longest field line accepted.
        max_headers: The most field lines accepted.

    Returns:
        Method, target, version, decoded pairs and raw pairs.

    Raises:
        HttpParserError: The exact reason the head is invalid.
    """
    line, rest = _split_start_line(block, is_request=True, max_line_size=max_line_size)
    method, target, version = parse_request_line(line)
    pairs, raw = parse_fields_slow(
        block[rest:], is_request=True, max_field_size=max_field_size, max_headers=max_headers
    )
    return method, target, version, pairs, raw
