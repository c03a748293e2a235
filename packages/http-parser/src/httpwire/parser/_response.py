"""The response parser (the client side): status lines, interim responses, body rules.

The head is validated in bulk (see the proof beside ``FIELD_RE`` in ``_headers``); the
framing follows RFC 9112 §6.3, item by item, in :meth:`ResponseParser._head`.
"""

from __future__ import annotations

from collections import deque
from typing import TypeAlias

from multidict import CIMultiDict, istr

from ._errors import (
    InvalidFramingError,
    bounded_repr,
)
from ._events import (
    HTTP10,
    HttpVersion,
    InformationalResponse,
    RawHeaders,
    ResponseHead,
)
from ._framing import (
    CHUNK_SIZE,
    CONNECTION,
    CONTENT_ENCODING,
    CONTENT_LENGTH,
    END,
    HEAD,
    LENGTH,
    TRANSFER_ENCODING,
    UNTIL_CLOSE,
    UPGRADED,
    Append,
)
from ._head import (
    STATUS_RE,
    find_head_end_lenient,
    parse_response_head_slow,
    version_of,
)
from ._headers import (
    MAX_DIGITS,
    comma_tokens,
    content_codings,
    field_pairs,
    parse_content_length,
    parse_transfer_encoding,
)
from ._parser import BaseParser

__all__ = ["ResponseParser"]

# Servers repeat a few status lines: once one passed the strict check, its parsed form
# is remembered (only short, valid lines enter; the cache is bounded), so the next one
# costs a dict lookup instead of a regex, an int() and a version.
_CACHE_SIZE = 512
_STATUS_LINES: dict[str, tuple[HttpVersion, int, str]] = {}
# Whole heads proven valid, by their bytes, with their parsed start line and fields: a server
# answering the same request sends the same head until its Date changes (once a second). A
# hit is taken only by a parser whose limits the head is within. Only heads up to
# _HEAD_SIZE bytes enter, never one with a Set-Cookie, at most _HEADS_MAX of them.
# Each entry keeps the fields as a multidict to copy (cheaper than building one from pairs)
# and the four framing fields read from it.
_Framing: TypeAlias = (
    "tuple[list[str] | None, list[str] | None, list[str] | None, list[str] | None]"
)
_HEADS: dict[bytes, tuple[tuple[HttpVersion, int, str], CIMultiDict[str], _Framing]] = {}
_HEADS_MAX = 64
_SET_COOKIE = istr("Set-Cookie")
_HEAD_SIZE = 1024
# Statuses that may change the body rules whatever the request method was.
_NO_BODY_STATUSES = frozenset({101, 204, 304})


class ResponseParser(BaseParser):
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

    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: Append) -> int:
        block = buf[pos:block_end]
        # A head no longer than the shortest line limit holds no line over it; a longer
        # one takes the careful path, which checks each line's size.
        pairs: list[tuple[str, str]] | None = None
        start_line: tuple[HttpVersion, int, str] | None = None
        framing: _Framing | None = None
        known = _HEADS.get(block)
        if (
            known is not None
            and len(block) <= self._small_head
            and len(known[1]) <= self._max_headers
        ):
            start_line, template, framing = known
            headers: CIMultiDict[str] = template.copy()
        elif len(block) <= self._small_head:
            # Split on CRLF: the last item is the empty rest after the final CRLF (not
            # empty when the head ended with a bare LF). With every line valid (no CR or
            # LF left inside), every CR and LF was part of a CRLF line end.
            lines = block.decode("utf-8", "surrogateescape").split("\r\n")
            if not lines.pop() and lines and len(lines) <= self._max_headers + 1:
                line = lines[0]
                start_line = _STATUS_LINES.get(line)
                if start_line is None:
                    start_line = _status_line(line)
                if start_line is not None:
                    del lines[0]
                    pairs = field_pairs(lines)
        raw: RawHeaders | bytes
        fast = pairs is not None
        if framing is not None or fast:
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
        if framing is None:
            headers = CIMultiDict(pairs)
            getall = headers.getall
            framing = (
                getall(TRANSFER_ENCODING, None),
                getall(CONTENT_LENGTH, None),
                getall(CONNECTION, None),
                getall(CONTENT_ENCODING, None),
            )
            if fast and len(block) <= _HEAD_SIZE:
                assert start_line is not None
                _remember(block, start_line, headers, framing)
        if status < 200 and status != 101:
            append(InformationalResponse(version, status, reason, headers, raw))
            return after
        methods = self._methods
        method = methods.popleft() if methods else "GET"

        te, cl, conn, ce = framing
        coding = content_codings(ce) if ce else ()
        http10 = version is HTTP10  # version_of() gives every 1.0 head this very object
        if conn is None:
            close = http10
        elif len(conn) == 1 and "," not in conn[0]:
            # One plain value ("keep-alive", "close") is the common case: no list to split.
            token = conn[0].lower()
            close = token == "close" or (http10 and token != "keep-alive")
        else:
            tokens = comma_tokens(conn)
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
        length: int | None = None
        if cl is not None:
            value = cl[0]
            if len(cl) == 1 and len(value) <= MAX_DIGITS and value.isdigit() and value.isascii():
                length = int(value)
            else:
                length = parse_content_length(cl)

        if method != "GET" or status in _NO_BODY_STATUSES:
            upgrade = status == 101 or (method == "CONNECT" and 200 <= status < 300)
            if upgrade or method == "HEAD" or status == 204 or status == 304:
                # RFC 9112 §6.3 items 1 and 2: no body, whatever the fields say.
                append(
                    ResponseHead(
                        version, status, reason, headers, raw, close, upgrade, False, None, coding
                    )
                )
                append(END)
                if upgrade:
                    self._state = UPGRADED
                    self.upgraded = True
                else:
                    self._state = HEAD
                return after
        if length is not None and te is None:
            append(
                ResponseHead(
                    version, status, reason, headers, raw, close, False, False, length, coding
                )
            )
            if length:
                end = after + length
                if end <= len(buf):
                    # The whole body is here (the common case): no trip through LENGTH.
                    append(buf[after:end])
                    append(END)
                    self._state = HEAD
                    return end
                self._remaining = self._expected = length
                self._next_state = HEAD
                self._state = LENGTH
            else:
                append(END)
                self._state = HEAD
            return after
        if te is not None:
            chunked, extra = parse_transfer_encoding(te, is_request=False)
            coding += extra  # applied after the content codings
            if chunked:
                self._state = CHUNK_SIZE
            else:
                # RFC 9112 §6.3 item 4: a final coding other than chunked: read until close.
                close = True
                self._state = UNTIL_CLOSE
            self._next_state = HEAD
            append(
                ResponseHead(
                    version, status, reason, headers, raw, close, False, chunked, None, coding
                )
            )
            return after
        append(
            ResponseHead(version, status, reason, headers, raw, True, False, False, None, coding)
        )
        self._state = UNTIL_CLOSE
        return after


def _remember(
    block: bytes,
    start_line: tuple[HttpVersion, int, str],
    headers: CIMultiDict[str],
    framing: _Framing,
) -> None:
    """Keep a valid head for the next time it comes, unless it sets a cookie (a secret).

    The multidict kept is a copy: the one given goes out with this response, and its
    receiver may change it.
    """
    if _SET_COOKIE in headers:
        return
    if len(_HEADS) >= _HEADS_MAX:
        _HEADS.clear()
    _HEADS[block] = (start_line, headers.copy(), framing)


def _status_line(line: str) -> tuple[HttpVersion, int, str] | None:
    """The parsed status line (without its CRLF), remembered when short; None when not
    plain."""
    match = STATUS_RE.fullmatch(line + "\r\n")
    if match is None:
        return None
    minor, code, reason = match.groups()
    start_line = (version_of(minor), int(code), reason or "")
    if len(_STATUS_LINES) < _CACHE_SIZE and len(line) <= 64:
        _STATUS_LINES[line] = start_line
    return start_line
