"""Chunk size lines of the chunked transfer coding (RFC 9112 §7.1).

The parsers handle the common line (hex digits only) inline; every other line
comes here, to be validated with its extensions or rejected with a message that
quotes it.
"""

from __future__ import annotations

import re

from ._errors import InvalidChunkError, bounded_repr
from ._headers import TOKEN

__all__ = ["HEX_DIGITS", "MAX_HEX_DIGITS", "parse_chunk_size_line"]

HEX_DIGITS = b"0123456789abcdefABCDEF"
MAX_HEX_DIGITS = 16
"""Longest chunk size accepted, leading zeros included: more is an overflow attempt."""

_HEX_RE = re.compile(rb"[0-9A-Fa-f]+")
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_BTOKEN = TOKEN.encode()
# chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
_EXT_RE = re.compile(
    rb"(?:[ \t]*;[ \t]*" + _BTOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _BTOKEN + b"|" + _QUOTED + rb"))?)*"
)


def parse_chunk_size_line(line: bytes) -> int:
    """Validate a chunk size line (without its CRLF) and return the size.

    Extensions are checked against the grammar and discarded.

    Args:
        line: ``chunk-size [ chunk-ext ]``.

    Returns:
        The chunk size.

    Raises:
        InvalidChunkError: The size is missing, signed, not hex, longer than 16
            digits or not below 2**63, or an extension or line end is invalid.
    """
    if b"\n" in line or b"\r" in line:
        raise InvalidChunkError(
            f"bare CR or LF in the chunk size line {bounded_repr(line)}: chunk lines end with "
            "CRLF (RFC 9112 §7.1)"
        )
    end = 0
    while end < len(line) and line[end : end + 1] not in (b";", b" ", b"\t"):
        end += 1
    size, ext = line[:end], line[end:]
    if not size:
        raise InvalidChunkError(
            f"chunk size line {bounded_repr(line)} has no chunk size (RFC 9112 §7.1)"
        )
    if size[:1] in (b"-", b"+"):
        raise InvalidChunkError(
            f"chunk size {bounded_repr(size)} is signed: it must be 1*HEXDIG (RFC 9112 §7.1)"
        )
    if not _HEX_RE.fullmatch(size):
        raise InvalidChunkError(f"chunk size {bounded_repr(size)} is not hex (RFC 9112 §7.1)")
    if len(size) > MAX_HEX_DIGITS:
        raise InvalidChunkError(
            f"chunk size {bounded_repr(size)} has more than {MAX_HEX_DIGITS} hex digits "
            "(RFC 9112 §7.1)"
        )
    value = int(size, 16)
    if value >= 2**63:
        raise InvalidChunkError(
            f"chunk size {bounded_repr(size)} overflows a 63-bit length (RFC 9112 §7.1)"
        )
    if ext and not _EXT_RE.fullmatch(ext):
        raise InvalidChunkError(
            f"invalid chunk extension {bounded_repr(ext)} in the chunk size line "
            f"{bounded_repr(line)}: expected *( ; name [ = token / quoted-string ] ) "
            "(RFC 9112 §7.1.1)"
        )
    return value
