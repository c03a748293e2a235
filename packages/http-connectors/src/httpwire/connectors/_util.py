"""Small helpers every module of the package shares: one home for each.

Strategy: the wording of errors is the package's interface as much as its classes are, so the
pieces every message uses are written once here: a bounded ``repr`` (a message never grows
with the input it quotes), how an endpoint is shown (IPv6 literals in brackets, a Unix socket
by its path), a URL without its credentials, and the case-insensitive look-up of a field in
the plain mappings callers may pass as headers. The response parser's default limits are
written once here too, as :data:`DEFAULT_LIMITS`, for every signature that offers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = [
    "DEFAULT_LIMITS",
    "REPR_LIMIT",
    "SOCKS_SCHEMES",
    "ParserLimits",
    "bounded_repr",
    "find_field",
    "host_port",
    "show_host",
    "strip_userinfo",
]

REPR_LIMIT = 64
"""The longest quotation of a value in a message, in characters."""

SOCKS_SCHEMES = frozenset({"socks5", "socks5h"})
"""The proxy URL schemes of SOCKS5: ``socks5h`` lets the proxy resolve the target's name.
Here, not in :mod:`._socks`, so that routing a request need not import the SOCKS code."""

_CI_TYPES = (CIMultiDict, CIMultiDictProxy)


class ParserLimits(NamedTuple):
    """The response parser's limits, as a connector hands them to its connections.

    Attributes:
        max_line_size: The longest status or header line accepted.
        max_field_size: The longest header field accepted.
        max_headers: The most header fields accepted in one head.
        max_head_size: The largest head accepted, in bytes.
    """

    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 128
    max_head_size: int = 65536


DEFAULT_LIMITS = ParserLimits()
"""The limits a connector uses unless told otherwise (the parser's own defaults)."""


def bounded_repr(value: object, limit: int = REPR_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters so a message never grows without limit.

    Args:
        value: What to quote.
        limit: The most characters to return.

    Returns:
        The repr, ending in ``...`` when it was cut.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_host(host: str) -> str:
    """A host as it appears in a URL authority: an IPv6 literal in brackets."""
    if ":" in host and not host.startswith(("[", "/")):
        return f"[{host}]"
    return host


def host_port(host: str | None, port: int | None) -> str:
    """An endpoint for a message: ``host:port``, ``[v6]:port``, a socket path, or a stand-in.

    Args:
        host: The host, or a Unix socket's path, or ``None`` when unknown.
        port: The port (``None`` for a Unix socket).

    Returns:
        The endpoint as a message shows it.
    """
    if host is None:
        return "the server"
    host = show_host(host)
    return host if port is None else f"{host}:{port}"


def strip_userinfo(url: URL) -> URL:
    """The URL without its user and password, so that it can be shown or kept in an error."""
    if url.raw_user is not None or url.raw_password is not None:
        return url.with_user(None)
    return url


def find_field(headers: Mapping[str, str], name: str) -> str | None:
    """A field's value, case-insensitively, from a ``CIMultiDict`` or a plain mapping.

    Args:
        headers: The fields.
        name: The field name, in its usual spelling.

    Returns:
        The first value of that field, or ``None``.
    """
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
