"""The request parser (the server side): request lines, Host, strict framing.

The head is validated in bulk (see ``_parser``'s _FAST_PATH_PROOF); requests get the
strict rules of RFC 9112: CRLF only, no obs-fold, exactly one Host, chunked last.
"""

from __future__ import annotations

from multidict import CIMultiDict

from ._errors import (
    InvalidFramingError,
    bounded_repr,
)
from ._events import (
    HTTP10,
    HTTP11,
    RawHeaders,
    RequestHead,
)
from ._head import (
    REQUEST_RE,
    parse_request_head_slow,
    version_of,
)
from ._headers import (
    FIELD_RE,
    comma_tokens,
    content_codings,
    parse_content_length,
    parse_transfer_encoding,
    validate_host,
)
from ._parser import (
    CHUNK_SIZE,
    CONNECTION,
    CONTENT_ENCODING,
    CONTENT_LENGTH,
    END,
    EXPECT,
    HEAD,
    HOST,
    LENGTH,
    MAX_DIGITS,
    TRANSFER_ENCODING,
    UPGRADE,
    UPGRADED,
    Append,
    BaseParser,
)

__all__ = ["RequestParser"]

# A server sees the same few Host values again and again: once one passed the check of
# RFC 9112 §3.2 it is remembered (short values only; the set is bounded in entries).
_CACHE_SIZE = 512
_HOSTS: set[str] = set()


class RequestParser(BaseParser):
    """Incremental parser of HTTP/1.x requests (the server side).

    Strict: CRLF line ends only, no obs-fold, exactly one valid ``Host`` in
    HTTP/1.1, and the last transfer coding must be chunked. A request with
    ``upgrade=True`` (CONNECT, or in HTTP/1.1 ``Upgrade`` with ``Connection: upgrade``) ends
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

    def _head(self, buf: bytes, pos: int, block_end: int, after: int, append: Append) -> int:
        block = buf[pos:block_end]
        text = block.decode("utf-8", "surrogateescape")
        # A head longer than the shortest line limit may hold a line over it: careful path.
        match = REQUEST_RE.match(text) if len(block) <= self._small_head else None
        if match is not None:
            pairs = FIELD_RE.findall(text, match.end())
            # One pair per LF proves the whole block valid: see _FAST_PATH_PROOF.
            fast = len(pairs) == text.count("\n") - 1 and len(pairs) <= self._max_headers
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
        getall = headers.getall
        http10 = version is HTTP10  # version_of() gives every 1.0 head this very object
        host = getall(HOST, None)
        if host is None or len(host) != 1 or host[0] not in _HOSTS:
            validate_host(host or [], http11=not http10)  # raises, or HTTP/1.0 without Host
            if host is not None and len(_HOSTS) < _CACHE_SIZE and len(host[0]) <= 255:
                _HOSTS.add(host[0])

        te = getall(TRANSFER_ENCODING, None)
        cl = getall(CONTENT_LENGTH, None)
        conn = getall(CONNECTION, None)
        ce = getall(CONTENT_ENCODING, None)
        coding = content_codings(ce) if ce else ()
        upgrade = method == "CONNECT"
        if conn is None:
            close = http10
        elif len(conn) == 1 and "," not in conn[0]:
            # One plain value ("keep-alive", "close") is the common case: no list to split.
            token = conn[0].lower()
            close = token == "close" or (http10 and token != "keep-alive")
            # RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request.
            upgrade = upgrade or (token == "upgrade" and not http10 and UPGRADE in headers)
        else:
            tokens = comma_tokens(conn)
            close = "close" in tokens or (http10 and "keep-alive" not in tokens)
            upgrade = upgrade or ("upgrade" in tokens and not http10 and UPGRADE in headers)
        expect = getall(EXPECT, None)
        expect_continue = (
            expect is not None and not http10 and "100-continue" in comma_tokens(expect)
        )
        chunked = False
        length: int | None = 0
        if te is not None:
            if cl is not None:
                raise InvalidFramingError(
                    f"request has both Transfer-Encoding {bounded_repr(te[0].encode())} and "
                    f"Content-Length {bounded_repr(cl[0].encode())} (RFC 9112 §6.1, §6.3)"
                )
            if http10:
                raise InvalidFramingError(
                    f"Transfer-Encoding {bounded_repr(te[0].encode())} in an HTTP/1.0 request:"
                    " its framing is faulty (RFC 9112 §6.1)"
                )
            chunked, extra = parse_transfer_encoding(te, is_request=True)
            coding += extra
            length = None
        elif cl is not None:
            value = cl[0]
            if len(cl) == 1 and value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
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
        self._next_state = UPGRADED if upgrade else HEAD
        if chunked:
            self._state = CHUNK_SIZE
        elif length:
            self._remaining = self._expected = length
            self._state = LENGTH
        else:
            append(END)
            self._state = self._next_state
            if upgrade:
                self.upgraded = True
        return after
