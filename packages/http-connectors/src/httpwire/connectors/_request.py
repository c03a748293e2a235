"""Request heads: the Host and framing fields a request needs, then the parser's serializer.

The framing rule: the caller's own ``Content-Length`` or ``Transfer-Encoding`` wins (and is
checked against the body); otherwise ``Content-Length`` when the body's size is known and
``Transfer-Encoding: chunked`` when it is not or when asked. The common bodiless request takes a
short path that looks up ``Host`` only.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.parser import ChunkedEncoder, serialize_request_head
from httpwire.streams import Body

__all__ = ["Headers", "build_request_head"]

Headers = Mapping[str, str]
"""Request fields: a ``CIMultiDict`` (what the client passes) or any mapping."""

# Methods whose request content has a defined meaning: an empty body is sent with
# "Content-Length: 0" (RFC 9110 §8.6).
_CONTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CI_TYPES = (CIMultiDict, CIMultiDictProxy)


def _find(headers: Headers, name: str) -> str | None:
    """A header's value, case-insensitively, from a CIMultiDict or a plain mapping."""
    if isinstance(headers, _CI_TYPES):
        return headers.get(name)
    value = headers.get(name)  # the usual spelling first: no scan when it is there
    if value is not None:
        return value
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _host_header(url: URL) -> str:
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if url.is_default_port():
        return host
    return f"{host}:{url.port}"


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
    if target is None:
        target = url.raw_path_qs
    if body is None and not expect_continue and method not in _CONTENT_METHODS:
        # The common case (GET, HEAD, DELETE...): no framing to decide.
        if _find(headers, "Host") is None:
            headers = [*headers.items(), ("Host", _host_header(url))]  # type: ignore[assignment]  # pairs serialize like a mapping
        return serialize_request_head(method, target, headers), None, None, None
    extra: list[tuple[str, str]] = []
    if _find(headers, "Host") is None:
        extra.append(("Host", _host_header(url)))
    encoder: ChunkedEncoder | None = None
    length: int | None = None
    given_length = _find(headers, "Content-Length")
    given_te = _find(headers, "Transfer-Encoding")
    if given_length is not None and given_te is not None:
        raise ValueError(
            "a request cannot carry both Content-Length and Transfer-Encoding (RFC 9112 §6.2)"
        )
    if body is not None and not isinstance(body, bytes):
        size = body.size
    else:
        size = None if body is None else len(body)
    if given_te is not None:
        if given_te.rpartition(",")[2].strip().lower() != "chunked":
            raise ValueError(
                f"Transfer-Encoding {given_te!r} does not end with chunked; a request body "
                "must be chunked last (RFC 9112 §6.1)"
            )
        encoder = ChunkedEncoder()
    elif given_length is not None:
        if not given_length.isdigit():
            raise ValueError(f"Content-Length {given_length!r} is not a decimal number")
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
    if expect_continue and _find(headers, "Expect") is None:
        extra.append(("Expect", "100-continue"))
    if extra:
        fields: Headers | list[tuple[str, str]] = [*headers.items(), *extra]
    else:
        fields = headers
    head = serialize_request_head(method, target, fields)
    if encoder is not None and isinstance(body, bytes):
        body = (encoder.encode(body) if body else b"") + encoder.finish()
        encoder = None
    return head, body, encoder, length
