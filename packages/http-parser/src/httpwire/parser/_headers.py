"""Field lines: the fast bulk path, the careful line-by-line path, and list-valued fields.

Strategy: a head (or a trailer section) is validated and split as one block.
The block is decoded once (UTF-8 with ``surrogateescape``, so every byte maps to
exactly one code point or escape and the ASCII delimiters stay where they were);
three ``str.count`` calls prove that CR and LF only occur as CRLF pairs; one
``findall`` with a strict, line-anchored pattern extracts every ``(name, value)``
pair. If the number of pairs equals the number of lines, every line was a valid
field line, with no obs-fold, no whitespace before a colon, and no CTL in a
value. Anything else goes to :func:`parse_fields_slow`, which walks the lines one
by one to find the exact offence and name it (or, for responses, to unfold
obs-fold and accept bare LF, as RFC 9112 §5.2 and §2.2 allow).

The raw ``(bytes, bytes)`` pairs are only computed when someone asks for them
(:func:`raw_fields`): most callers never do, and the bulk path stays one regex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._errors import (
    FieldTooLargeError,
    InvalidFramingError,
    InvalidHeaderError,
    TooManyHeadersError,
    bounded_repr,
)

__all__ = [
    "FIELD_RE",
    "MAX_DIGITS",
    "TOKEN",
    "TOKEN_RE",
    "RawHeaders",
    "comma_tokens",
    "content_codings",
    "decode",
    "field_pairs",
    "parse_content_length",
    "parse_fields_slow",
    "parse_transfer_encoding",
    "raw_fields",
    "validate_host",
]

RawHeaders = tuple[tuple[bytes, bytes], ...]
"""Field lines as received: ``(name, value)`` bytes pairs in wire order, names as sent."""

TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
"""RFC 9110 §5.6.2: ``token = 1*tchar``."""

TOKEN_RE = re.compile(TOKEN)
_BTOKEN_RE = re.compile(TOKEN.encode())

# A field line of the bulk path: a token, a colon, optional whitespace, then a value
# of VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5) not ending in whitespace, up to
# CRLF (a value with trailing whitespace is left to the careful path). "^" (MULTILINE) pins
# every match to a line start, so a bad line can never be skipped by a match that
# begins in its middle. Code points from U+0080 up are obs-text after decoding.
#
# No backtracking: the leading whitespace and the value both accept SP and HTAB, so with
# plain greedy repeats a line of many spaces followed by a bad byte was retried at every
# split between the two, in time quadratic in the line's length (a 30 KB line, well within
# max_head_size, cost seconds). Possessive repeats never give back what they took.
#
# The value class stops at U+00FF: a class reaching U+10FFFF took about 7 ms to compile at
# import, and this one well under 1 ms, at the same speed per match. A value with a code
# point above U+00FF (UTF-8 text beyond Latin-1, or the escape of a byte that is not UTF-8)
# is rare; it fails here and the careful path, which accepts all obs-text, takes the head.
_VALUE_CHARS = "\x21-\x7e\x80-\xff"  # VCHAR and obs-text up to U+00FF, without SP and HTAB
_FIELD = "^(" + TOKEN + "+):[ \t]*+([\t " + _VALUE_CHARS + "]*+)(?<![ \t])\r\n"
FIELD_RE = re.compile(_FIELD, re.MULTILINE)
# Why "one FIELD_RE pair per LF" validates a whole block at once (the parsers' fast path).
# The start-line patterns and FIELD_RE all end in CRLF and allow no CR or LF inside;
# FIELD_RE is anchored at line starts ("^", MULTILINE, which only matches after LF).
# So every match covers exactly one whole line, and matches are disjoint. If the
# matches (plus the start line) are as many as the LFs in the block, every line
# was matched whole: no bare CR or LF, no obs-fold (a line starting with SP/HTAB),
# no whitespace before a colon, no bad name character, no CTL in a value, and no
# whitespace at the end of a value (a lookbehind refuses it: the careful path strips it).
_BFIELD_RE = re.compile(
    b"^(" + TOKEN.encode() + rb"):[ \t]*([\t \x21-\x7e\x80-\xff]*)\r\n", re.MULTILINE
)
# One field line without its CRLF, by the same rules as FIELD_RE (see there).
_LINE_RE = re.compile("(" + TOKEN + "+):[ \t]*+([\t " + _VALUE_CHARS + "]*+)(?<![ \t])")
# Field lines already proven valid, with their pairs. A server repeats most of its field
# lines from response to response (Server, Content-Type, Connection...): a dict lookup
# each replaces a regex match each. Only short lines enter, never a Set-Cookie (a secret
# kept in memory no longer than its response), and the dict is emptied when full, so a
# server sending new lines every time costs a bounded amount of memory.
_KNOWN_LINES: dict[str, tuple[str, str]] = {}
_KNOWN_MAX = 512
_KNOWN_LINE_SIZE = 128


def field_pairs(lines: list[str]) -> list[tuple[str, str]] | None:
    """The ``(name, value)`` pairs of field lines split on CRLF, or None if one is invalid.

    Each line is one whole field line (no CR or LF left in it proves there was no bare
    one): a token, a colon, optional whitespace, then a value of VCHAR, obs-text, SP and
    HTAB, with no whitespace at its end. None sends the caller to the careful path,
    which names the offence or accepts what responses may carry (obs-fold, trailing
    whitespace, code points above U+00FF).

    Args:
        lines: The field lines, without their CRLFs.

    Returns:
        The pairs in order, or None.
    """
    known: list[tuple[str, str] | None] = list(map(_KNOWN_LINES.get, lines))
    if None not in known:
        return known  # type: ignore[return-value]  # no None in it
    pairs: list[tuple[str, str]] = []
    for line, pair in zip(lines, known, strict=True):
        if pair is not None:
            pairs.append(pair)
            continue
        match = _LINE_RE.fullmatch(line)
        if match is None:
            return None
        name, value = match.group(1, 2)
        pairs.append((name, value))
        if len(line) <= _KNOWN_LINE_SIZE and name.lower() != "set-cookie":
            if len(_KNOWN_LINES) >= _KNOWN_MAX:
                _KNOWN_LINES.clear()
            _KNOWN_LINES[line] = (name, value)
    return pairs


# Bytes not allowed in a field value: CTLs other than HTAB, and DEL (RFC 9110 §5.5).
_BAD_VALUE_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_WS = b" \t"


def decode(value: bytes) -> str:
    """Decode wire bytes the way every header value is decoded.

    Args:
        value: Bytes from the wire.

    Returns:
        The text, UTF-8 with ``surrogateescape``: ``.encode("utf-8",
        "surrogateescape")`` gives the bytes back.
    """
    return value.decode("utf-8", "surrogateescape")


def raw_fields(block: bytes) -> RawHeaders:
    """The ``(name, value)`` bytes pairs of a block that the bulk path accepted.

    Args:
        block: Field lines, each ending in CRLF, already validated.

    Returns:
        The pairs in wire order, values without surrounding whitespace.
    """
    return tuple(_BFIELD_RE.findall(block))


def parse_fields_slow(
    block: bytes,
    *,
    is_request: bool,
    max_field_size: int,
    max_headers: int,
    line_number: int = 2,
    what: str = "header",
) -> tuple[list[tuple[str, str]], RawHeaders]:
    """Parse field lines one by one, with exact errors.

    Used when the bulk path rejected a block; also accepts what responses may
    carry and the bulk path does not: bare LF line ends (RFC 9112 §2.2) and
    obs-fold, replaced by a space (RFC 9112 §5.2); values are stripped after unfolding.

    Args:
        block: The field lines including the line end of the last one, without the
            empty line that ends the section.
        is_request: Apply the rules for requests (no bare LF, no obs-fold).
        max_field_size: The longest field accepted, in bytes: a line with its obs-fold
            continuation lines, line ends excluded.
        max_headers: The most fields accepted (a folded field counts once).
        line_number: The line number of the first field line in the message, for messages.
        what: ``"header"`` or ``"trailer"``, for messages.

    Returns:
        The decoded pairs and the raw pairs, in wire order.

    Raises:
        InvalidHeaderError: A line breaks the field syntax.
        FieldTooLargeError: A field (unfolded) is longer than ``max_field_size``.
        TooManyHeadersError: There are more than ``max_headers`` fields.
    """
    if is_request:
        lines = block.split(b"\r\n")
        for number, line in enumerate(lines, line_number):
            if b"\n" in line:
                raise InvalidHeaderError(
                    f"bare LF in {what} line {number} {bounded_repr(line)}: requests must "
                    "end lines with CRLF (RFC 9112 §2.2)"
                )
    else:
        lines = [line[:-1] if line.endswith(b"\r") else line for line in block.split(b"\n")]
    if lines and lines[-1] == b"":
        lines.pop()
    raw: list[tuple[bytes, bytes]] = []
    field_size = 0  # the current field with its continuation lines: one unfolded field
    for number, line in enumerate(lines, line_number):
        if line[:1] in (b" ", b"\t"):
            if is_request:
                raise InvalidHeaderError(
                    f"obs-fold in {what} line {number} {bounded_repr(line)}: line folding "
                    "is not allowed in requests (RFC 9112 §5.2)"
                )
            if not raw:
                raise InvalidHeaderError(
                    f"whitespace at the start of the first {what} line {bounded_repr(line)}"
                    " (RFC 9112 §2.2)"
                )
            # RFC 9112 §5.2: obs-fold continues the field above; the unfolded field counts
            # once against max_headers, and its whole length against max_field_size.
            field_size += len(line)
            if field_size > max_field_size:
                raise FieldTooLargeError(
                    f"{what} field {bounded_repr(raw[-1][0])} with its obs-fold continuation "
                    f"line {number} {bounded_repr(line)} is longer than "
                    f"max_field_size={max_field_size} bytes (RFC 9112 §5.2)",
                    max_field_size,
                )
            if b"\r" in line:
                raise InvalidHeaderError(
                    f"bare CR in {what} line {number} {bounded_repr(line)}: CR is only allowed "
                    "before LF (RFC 9112 §2.2)"
                )
            continuation = line.strip(_WS)
            _check_value(line, continuation, number, what)
            if continuation:  # a fold of only whitespace adds nothing (RFC 9110 §5.5)
                name, value = raw[-1]
                raw[-1] = (name, value + b" " + continuation if value else continuation)
            continue
        if len(line) > max_field_size:
            raise FieldTooLargeError(
                f"{what} line {number} {bounded_repr(line)} is longer than "
                f"max_field_size={max_field_size} bytes",
                max_field_size,
            )
        field_size = len(line)
        if b"\r" in line:
            raise InvalidHeaderError(
                f"bare CR in {what} line {number} {bounded_repr(line)}: CR is only allowed "
                "before LF (RFC 9112 §2.2)"
            )
        name, colon, value = line.partition(b":")
        if not colon:
            raise InvalidHeaderError(
                f"{what} line {number} {bounded_repr(line)} has no colon (RFC 9112 §5)"
            )
        if name[-1:] in (b" ", b"\t"):
            raise InvalidHeaderError(
                f"whitespace before the colon in {what} line {number} {bounded_repr(line)}"
                " (RFC 9112 §5.1)"
            )
        if not _BTOKEN_RE.fullmatch(name):
            raise InvalidHeaderError(
                f"invalid field name {bounded_repr(name)} in {what} line {number} "
                f"{bounded_repr(line)}: a name is a token (RFC 9110 §5.1)"
            )
        value = value.strip(_WS)
        _check_value(line, value, number, what)
        raw.append((name, value))
        if len(raw) > max_headers:
            raise TooManyHeadersError(
                f"more than max_headers={max_headers} {what} fields (at line {number})",
                max_headers,
            )
    pairs = [(n.decode("ascii"), v.decode("utf-8", "surrogateescape")) for n, v in raw]
    return pairs, tuple(raw)


def _check_value(line: bytes, value: bytes, number: int, what: str) -> None:
    bad = _BAD_VALUE_RE.search(value)
    if bad is not None:
        char = bad.group()
        kind = {b"\x00": "NUL", b"\n": "LF", b"\r": "CR"}.get(char, "a control character")
        raise InvalidHeaderError(
            f"{kind} {char!r} in the value of {what} line {number} {bounded_repr(line)}"
            " (RFC 9110 §5.5)"
        )


def comma_tokens(values: Sequence[str]) -> list[str]:
    """Split list-valued fields (RFC 9110 §5.6.1) into lowercased elements.

    Empty elements are dropped, as recipients must accept them.

    Args:
        values: The values of every line of one field.

    Returns:
        The stripped, lowercased elements.
    """
    if len(values) == 1 and "," not in values[0]:
        item = values[0].strip(" \t").lower()  # one plain element: the common case
        return [item] if item else []
    items = []
    for value in values:
        for part in value.split(","):
            part = part.strip(" \t")
            if part:
                items.append(part.lower())
    return items


MAX_DIGITS = 18
"""Most digits in a Content-Length: below 2**63, a length that fits any platform's off_t."""


def parse_content_length(values: list[str]) -> int:
    """The body length from every ``Content-Length`` line of a message.

    A list of identical values (in one line or several) counts as one value, as
    RFC 9110 §8.6 allows; anything else ambiguous is an error.

    Args:
        values: The decoded values of every ``Content-Length`` line.

    Returns:
        The length.

    Raises:
        InvalidFramingError: A value is not ``1*DIGIT`` (no sign, no inner
            whitespace, at most 18 digits), or values differ.
    """
    found: int | None = None
    for value in values:
        for part in value.split(","):
            part = part.strip(" \t")
            if not (part.isascii() and part.isdigit()):
                raise InvalidFramingError(
                    f"Content-Length {_brepr(value)} is not 1*DIGIT (RFC 9110 §8.6)"
                )
            if len(part) > MAX_DIGITS:
                raise InvalidFramingError(
                    f"Content-Length {_brepr(value)} has more than {MAX_DIGITS} digits"
                    " (RFC 9110 §8.6)"
                )
            length = int(part)
            if found is not None and length != found:
                shown = ", ".join(_brepr(v) for v in values[:4])
                raise InvalidFramingError(
                    f"differing Content-Length values {shown} (RFC 9110 §8.6, RFC 9112 §6.3)"
                )
            found = length
    if found is None:
        raise InvalidFramingError("empty Content-Length (RFC 9110 §8.6)")
    return found


# Transfer codings a request may carry (RFC 9112 §7, the IANA registry): chunked, which the
# parser undoes, and the compressions the decoders undo. compress/x-compress are refused like
# any other coding nobody here can undo (RFC 9112 §6.1: a server answers 501 to them).
_REQUEST_TRANSFER_CODINGS = frozenset({"chunked", "gzip", "x-gzip", "deflate"})


def parse_transfer_encoding(
    values: list[str], *, is_request: bool
) -> tuple[bool, tuple[str, ...]]:
    """Read every ``Transfer-Encoding`` line of a message.

    A request is held to the strict rules. A response is read the way RFC 9112
    §6.3 item 4 says: when ``chunked`` is not its final coding, its body runs
    until the connection closes, whatever the codings are (``identity`` adds
    nothing; unknown ones are reported, never refused, as framing does not
    depend on them).

    Args:
        values: The decoded values of every ``Transfer-Encoding`` line.
        is_request: Apply the rules for requests: known codings only, and the last
            one must be chunked.

    Returns:
        Whether the body is chunked (``chunked`` is the last coding), and the
        other codings in the order they were applied (``identity`` dropped).

    Raises:
        InvalidFramingError: Empty, or ``chunked`` applied twice (when it is the
            final coding); in a request also an unknown coding, parameters or a
            last coding other than ``chunked``.
    """
    if len(values) == 1 and values[0].lower() == "chunked":
        return True, ()  # the common case, decided without building a list
    codings = comma_tokens(values)
    shown = _brepr(", ".join(values))
    if not codings:
        raise InvalidFramingError(f"empty Transfer-Encoding {shown} (RFC 9112 §6.1)")
    if is_request:
        for coding in codings:
            if coding not in _REQUEST_TRANSFER_CODINGS:
                raise InvalidFramingError(
                    f"unknown transfer coding {_brepr(coding)} in Transfer-Encoding {shown}"
                    " (RFC 9112 §6.1, §7)"
                )
    chunked = codings[-1] == "chunked"
    if (chunked or is_request) and "chunked" in codings[:-1]:
        raise InvalidFramingError(
            f"chunked is not the last transfer coding or is applied twice in "
            f"Transfer-Encoding {shown} (RFC 9112 §6.1, §7.1)"
        )
    if is_request and not chunked:
        raise InvalidFramingError(
            f"the last transfer coding of a request must be chunked: Transfer-Encoding "
            f"{shown} (RFC 9112 §6.3)"
        )
    if chunked:
        codings.pop()
    return chunked, tuple(c for c in codings if c != "identity")


def content_codings(values: list[str]) -> tuple[str, ...]:
    """The content codings of ``Content-Encoding`` lines, in the order applied.

    Args:
        values: The decoded values of every ``Content-Encoding`` line.

    Returns:
        Lowercased codings, ``identity`` dropped.
    """
    return tuple(c for c in comma_tokens(values) if c != "identity")


# RFC 9112 §3.2: Host = uri-host [ ":" port ] (RFC 3986 §3.2.2): an IP-literal in
# brackets, or reg-name / IPv4address characters; may be empty.
_HOST_RE = re.compile(
    r"(?:\[[0-9A-Za-z:.!$&'()*+,;=~_-]+\]|[0-9A-Za-z!$&'()*+,;=~._%-]*)(?::[0-9]*)?"
)


def validate_host(values: list[str], *, http11: bool) -> None:
    """Apply RFC 9112 §3.2 to the ``Host`` lines of a request.

    Args:
        values: The decoded values of every ``Host`` line.
        http11: The request is HTTP/1.1 (or a later 1.x), where ``Host`` is required.

    Raises:
        InvalidHeaderError: No ``Host`` in an HTTP/1.1 request, more than one, or
            an invalid value.
    """
    if len(values) > 1:
        shown = ", ".join(_brepr(v) for v in values[:4])
        raise InvalidHeaderError(f"more than one Host field: {shown} (RFC 9112 §3.2)")
    if not values:
        if http11:
            raise InvalidHeaderError("HTTP/1.1 request without a Host field (RFC 9112 §3.2)")
        return
    if not _HOST_RE.fullmatch(values[0]):
        raise InvalidHeaderError(
            f'invalid Host {_brepr(values[0])}: not uri-host [ ":" port ] (RFC 9112 §3.2)'
        )


def _brepr(value: str) -> str:
    return bounded_repr(value.encode("utf-8", "surrogateescape"))
