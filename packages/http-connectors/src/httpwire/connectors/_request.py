"""Request heads: the Host and framing fields a request needs, then the parser's serializer.

The framing rule: the caller's own ``Content-Length`` or ``Transfer-Encoding`` wins (and is
checked against the body); otherwise ``Content-Length`` when the body's size is known and
``Transfer-Encoding: chunked`` when it is not or when asked. The common bodiless request takes a
short path that looks up ``Host`` only.

A client sends the same bodiless request again and again (a session's default headers, one
URL): the whole head of such a request is remembered, keyed by its method, URL, target and
the identity and version of its read-only headers (a multidict's version changes with every
change of its content), so sending it again costs a dict lookup. Heads with credentials
(``Authorization``, ``Cookie``, ``Proxy-Authorization``) are never kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy, getversion
from yarl import URL

from httpwire.parser import ChunkedEncoder, serialize_request_head
from httpwire.streams import Body

from ._util import bounded_repr, find_field, show_host

__all__ = ["Headers", "build_request_head"]

Headers = Mapping[str, str]
"""Request fields: a ``CIMultiDict`` (what the client passes) or any mapping."""

# Methods whose request content has a defined meaning: an empty body is sent with
# "Content-Length: 0" (RFC 9110 §8.6).
_CONTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CI_TYPES = (CIMultiDict, CIMultiDictProxy)
_FRAMING = frozenset({"content-length", "transfer-encoding"})
# Fields whose values are credentials: an error names them but never quotes their value.
_SECRET_FIELDS = frozenset({"authorization", "proxy-authorization", "cookie"})
_CHAR_NAMES = {"\r": "CR", "\n": "LF", "\0": "NUL"}
# By the URL's identity (yarl hashes a URL in Python): the URL is kept with its head, so
# its address cannot be taken by another URL while the entry lives.
_HEADS: dict[tuple[str, int, str | None, int, int], tuple[URL, bytes]] = {}
_HEADS_MAX = 256


def _is_digits(value: str) -> bool:
    # str.isdigit() alone accepts other scripts' digits ('\u0663'), which int() reads too.
    return value.isascii() and value.isdigit()


def _check_no_body(headers: Headers) -> None:
    """Refuse framing fields on a request without a body (RFC 9112 §6.1-6.3).

    Sent as is they would announce a body that never comes: the server would read the next
    request on the connection as this one's body.
    """
    length = find_field(headers, "Content-Length")
    if find_field(headers, "Transfer-Encoding") is not None:
        raise ValueError(
            "a request without a body cannot carry Transfer-Encoding: the server would read "
            "the next request as its body (RFC 9112 §6.1); pass the body, or drop the field"
        )
    if length is not None and not (_is_digits(length) and int(length) == 0):
        raise ValueError(
            f"a request without a body cannot carry Content-Length {bounded_repr(length)}: "
            "the server would read the next request as its body (RFC 9112 §6.2); pass the "
            "body, or drop the field"
        )


def _serialize(
    method: str,
    target: str,
    fields: Headers,
    host: str | None,
    extra: list[tuple[str, str]] | None = None,
) -> bytes:
    """The parser's serializer, with the values of secret fields kept out of its errors."""
    try:
        return serialize_request_head(method, target, fields, host=host, extra=extra or ())
    except ValueError:
        message = _secret_field_error(fields)
        if message is None:
            raise
    # Raised outside the handler, so that no __context__ keeps the secret either.
    raise ValueError(message)


def _secret_field_error(fields: Headers | list[tuple[str, str]]) -> str | None:
    """The error for a secret field whose value the serializer refused, naming only the field."""
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    for name, value in pairs:
        if name.lower() in _SECRET_FIELDS and isinstance(value, str):
            for index, char in enumerate(value):
                if char in "\r\n\0":
                    return (
                        f"header {name!r} has a value with {_CHAR_NAMES[char]} at index {index} "
                        "(its value is not shown); CR, LF and NUL are forbidden in field "
                        "values (RFC 9110 §5.5)"
                    )
    return None


# The Host of each URL recently sent to: the same URLs come again and again. Bounded;
# emptied when full.
_HOSTS: dict[URL, str] = {}
_HOSTS_MAX = 256


def _host_header(url: URL) -> str:
    host = _HOSTS.get(url)
    if host is None:
        host = show_host(url.raw_host or "")
        if not url.is_default_port():
            host = f"{host}:{url.port}"
        if len(_HOSTS) >= _HOSTS_MAX:
            _HOSTS.clear()
        _HOSTS[url] = host
    return host


def build_request_head(
    method: str,
    url: URL,
    headers: Headers,
    body: Body | bytes | None,
    target: str | None,
    chunked: bool | None,
    expect_continue: bool,
) -> tuple[bytes, Body | bytes | None, ChunkedEncoder | None, int | None]:
    """Serialize a request head with the Host and framing fields it lacks.

    Returns:
        The head's bytes; the body to send (a small chunked ``bytes`` body comes back
        already framed); the chunked encoder still needed for a streamed body, if any; and
        the Content-Length the streamed body must match, if any.

    Raises:
        ValueError: A field or the target is invalid, or the framing asked for is
            impossible or contradicts the body. Nothing was sent.
    """
    if body is None and not expect_continue and method not in _CONTENT_METHODS:
        # The common case (GET, HEAD, DELETE...): no framing to decide, only to refuse.
        remembered = None
        if type(headers) is CIMultiDictProxy:
            remembered = (method, id(url), target, id(headers), getversion(headers))
            known = _HEADS.get(remembered)
            if known is not None and known[0] is url:
                return known[1], None, None, None
        if target is None:
            target = url.raw_path_qs
        if isinstance(headers, _CI_TYPES):
            has_host = "Host" in headers
            if "Content-Length" in headers or "Transfer-Encoding" in headers:
                _check_no_body(headers)
        else:
            has_host = "Host" in headers
            for key in headers:
                lowered = key.lower()
                if lowered in _FRAMING:
                    _check_no_body(headers)
                elif lowered == "host":
                    has_host = True
        host = None if has_host else _host_header(url)
        head = _serialize(method, target, headers, host)
        if remembered is not None and not (
            "Authorization" in headers or "Cookie" in headers or "Proxy-Authorization" in headers
        ):
            if len(_HEADS) >= _HEADS_MAX:
                _HEADS.clear()
            _HEADS[remembered] = (url, head)
        return head, None, None, None
    if target is None:
        target = url.raw_path_qs
    extra: list[tuple[str, str]] = []
    host = _host_header(url) if find_field(headers, "Host") is None else None
    encoder: ChunkedEncoder | None = None
    length: int | None = None
    given_length = find_field(headers, "Content-Length")
    given_te = find_field(headers, "Transfer-Encoding")
    if given_length is not None and given_te is not None:
        raise ValueError(
            "a request cannot carry both Content-Length and Transfer-Encoding (RFC 9112 §6.2)"
        )
    if body is not None and not isinstance(body, bytes):
        size = body.size
    else:
        size = None if body is None else len(body)
    if body is None and (given_length is not None or given_te is not None):
        _check_no_body(headers)
    if given_te is not None:
        if given_te.rpartition(",")[2].strip().lower() != "chunked":
            raise ValueError(
                f"Transfer-Encoding {given_te!r} does not end with chunked; a request body "
                "must be chunked last (RFC 9112 §6.1)"
            )
        encoder = ChunkedEncoder()
    elif given_length is not None:
        if not _is_digits(given_length):
            raise ValueError(
                f"Content-Length {bounded_repr(given_length)} is not a decimal number "
                "(ASCII digits only, RFC 9110 §8.6)"
            )
        length = int(given_length)
        if size is not None and size != length:
            raise ValueError(
                f"Content-Length {length} disagrees with the body's size of {size} bytes"
            )
    elif body is None:
        if method in _CONTENT_METHODS:
            extra.append(("Content-Length", "0"))
    elif chunked or (size is None and chunked is not False):
        extra.append(("Transfer-Encoding", "chunked"))
        encoder = ChunkedEncoder()
    elif size is None:
        raise ValueError("chunked=False needs a body of known size or a Content-Length")
    else:
        extra.append(("Content-Length", str(size)))
        length = size
    if expect_continue and find_field(headers, "Expect") is None:
        extra.append(("Expect", "100-continue"))
    head = _serialize(method, target, headers, host, extra)
    if encoder is not None and isinstance(body, bytes):
        body = (encoder.encode(body) if body else b"") + encoder.finish()
        encoder = None
    return head, body, encoder, length
