"""Request headers: the defaults, the session's and the request's, merged case-insensitively.

Strategy: the session merges the defaults (``Accept``, ``Accept-Encoding``, ``User-Agent``)
with its own headers once, at creation, into a read-only ``CIMultiDictProxy`` (sessions with
no headers of their own share one); a request without headers of its own sends that very
object, so the common request builds no header mapping at all. A request's headers replace
the session's of the same name (every value of it), case-insensitively;
``skip_auto_headers`` leaves defaults out. Every name and value the caller gives is checked
for CR, LF and NUL before anything is sent (RFC 9110 §5.5): a header must never be able to
inject another. ``Host`` is left to the connection, which adds it from
the URL when absent.

The defaults are built by the first session, not at import: listing the codings of
``Accept-Encoding`` imports brotli and zstandard when they are installed (together a few
milliseconds), which a program that never opens a session should not pay for.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, istr

from httpwire.parser import supported_codings

from ._version import __version__

__all__ = [
    "LooseHeaders",
    "accept_encoding",
    "check_headers",
    "default_headers",
    "merge_headers",
    "session_headers",
]

LooseHeaders: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Headers as a mapping (a dict, a ``CIMultiDict``) or as pairs."""

_FORBIDDEN = ("\r", "\n", "\x00")


@functools.cache
def accept_encoding() -> str:
    """The default ``Accept-Encoding``: the codings this installation decodes."""
    return ", ".join(c for c in supported_codings() if not c.startswith("x-"))


@functools.cache
def default_headers() -> tuple[tuple[istr, str], ...]:
    """What every request sends unless told otherwise (``Host`` is the connection's)."""
    return (
        (istr("Accept"), "*/*"),
        (istr("Accept-Encoding"), accept_encoding()),
        (istr("User-Agent"), f"httpwire/{__version__}"),
    )


@functools.cache
def _defaults_only() -> CIMultiDictProxy[str]:
    """The headers of a session given none and skipping none: one read-only mapping shared
    by every such session (each ``request()`` without a session makes one)."""
    return CIMultiDictProxy(CIMultiDict(default_headers()))


def _check(name: object, value: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"header names must be str, not {type(name).__name__}")
    if not isinstance(value, str):
        raise TypeError(f"the value of header {name!r} must be str, not {type(value).__name__}")
    for char in _FORBIDDEN:
        if char in name:
            raise ValueError(
                f"header name {name[:64]!r} contains {char!r}; CR, LF and NUL are forbidden "
                "in fields (RFC 9110 §5.5)"
            )
        if char in value:
            # The value may be a secret (Authorization, Cookie): name the field only.
            raise ValueError(
                f"the value of header {name[:64]!r} contains {char!r} at index "
                f"{value.index(char)}; CR, LF and NUL are forbidden in fields (RFC 9110 §5.5)"
            )


def check_headers(headers: LooseHeaders) -> CIMultiDict[str]:
    """The caller's headers as a ``CIMultiDict``, each name and value checked.

    Raises:
        ValueError: A name or value holds CR, LF or NUL.
        TypeError: A name or value is not ``str``.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: CIMultiDict[str] = CIMultiDict()
    for name, value in items:
        _check(name, value)
        result.add(name, value)
    return result


def session_headers(
    headers: LooseHeaders | None, skip_auto_headers: Iterable[str] | None
) -> CIMultiDictProxy[str]:
    """The defaults merged with a session's headers, minus the skipped defaults.

    Raises:
        ValueError: A name or value holds CR, LF or NUL.
    """
    if not headers and not skip_auto_headers:
        return _defaults_only()
    skip = {name.lower() for name in skip_auto_headers or ()}
    merged: CIMultiDict[str] = CIMultiDict(
        (name, value) for name, value in default_headers() if name.lower() not in skip
    )
    if headers:
        own = check_headers(headers)
        for name in own.keys():  # noqa: SIM118  # a CIMultiDict iterates keys with repeats
            merged.popall(name, None)
        merged.extend(own)
    return CIMultiDictProxy(merged)


def merge_headers(base: CIMultiDictProxy[str], own: CIMultiDict[str]) -> CIMultiDict[str]:
    """A request's headers (checked by :func:`check_headers`) over the session's: each name
    given replaces all of base's."""
    merged = CIMultiDict(base)
    for name in own.keys():  # noqa: SIM118
        merged.popall(name, None)
    merged.extend(own)
    return merged
