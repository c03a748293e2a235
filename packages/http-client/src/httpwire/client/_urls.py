"""Methods and URLs: what a request is sent to, checked before anything is sent.

Strategy: a method is a token (RFC 9110 §9.1), compared case-insensitively by this client
(``'get'`` is ``GET``) and sent upper case; each method seen is checked once and cached. A URL
goes through yarl (IDNA hosts, percent-encoding of what must be encoded); ``params`` are
appended to the query already in it, in the order given; a relative URL is joined to the
session's ``base_url``. A URL given as text is parsed once and cached (a bounded cache),
since the same few URLs are requested again and again and parsing is the costly part; an
absolute one that passed the checks is cached as checked too, so requesting it again without
``params`` is one dictionary lookup.
Credentials in the URL become the request's Basic auth and are removed from the URL sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from multidict import MultiDictProxy
from yarl import URL

from ._errors import InvalidURL

__all__ = ["METHODS", "Params", "StrOrURL", "build_url", "check_base_url", "check_method"]

StrOrURL: TypeAlias = str | URL
"""A URL as text or as a ``yarl.URL``."""

_Value: TypeAlias = str | int | float
Params: TypeAlias = Mapping[str, _Value] | Iterable[tuple[str, _Value]] | MultiDictProxy[str] | str
"""What ``params=`` accepts: a mapping, pairs (repeated keys kept), a MultiDict, or a query."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_METHODS: dict[str, str] = {}
METHODS = _METHODS
"""The methods already checked, as given -> as sent (read it before calling
:func:`check_method`: a hit costs no call)."""
_SCHEMES = frozenset({"http", "https"})
_URLS: dict[str, URL] = {}
_CHECKED: dict[str, URL] = {}  # absolute URLs given as text that passed build_url's checks
_URL_CACHE_SIZE = 512


def check_method(method: str) -> str:
    """The method to send, upper case.

    Raises:
        ValueError: The method is not a token (RFC 9110 §9.1): empty, or with a space, a
            control character or a separator.
    """
    try:
        return _METHODS[method]
    except (KeyError, TypeError):
        pass
    if not isinstance(method, str):
        raise TypeError(f"method must be str, not {type(method).__name__}")
    if _TOKEN.fullmatch(method) is None:
        shown = repr(method) if len(method) <= 40 else repr(method[:37] + "...")
        raise ValueError(f"invalid method {shown}: a method is a token (RFC 9110 §9.1)")
    upper = method.upper()
    if len(_METHODS) < 256:
        _METHODS[method] = upper
    return upper


def _parse(url: str) -> URL:
    cached = _URLS.get(url)
    if cached is not None:
        return cached
    try:
        parsed = URL(url)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InvalidURL(url, f"cannot be parsed: {exc}") from exc
    if len(_URLS) >= _URL_CACHE_SIZE:
        _URLS.clear()
    _URLS[url] = parsed
    return parsed


def build_url(url: StrOrURL, params: Params | None = None, base_url: URL | None = None) -> URL:
    """The absolute URL a request goes to, with ``params`` added to its query.

    Args:
        url: Absolute, or relative to *base_url*.
        params: Query parameters appended, in order, after those already in *url*.
        base_url: What a relative *url* is joined to (RFC 3986 §5.2).

    Raises:
        InvalidURL: The URL cannot be parsed, is relative without a *base_url*, has no
            host, or its scheme is not http or https.
        TypeError: *url* is neither ``str`` nor ``URL``, or a parameter value has an
            unsupported type.
    """
    if isinstance(url, str):
        if not params:
            checked = _CHECKED.get(url)
            if checked is not None:
                return checked
        parsed = _parse(url)
    elif isinstance(url, URL):
        parsed = url
    else:
        raise TypeError(f"url must be str or yarl.URL, not {type(url).__name__}")
    joined = not parsed.scheme
    if joined:
        if base_url is None:
            raise InvalidURL(url, "a relative URL needs the session's base_url")
        parsed = base_url.join(parsed)
    scheme = parsed.scheme
    if scheme not in _SCHEMES:
        raise InvalidURL(url, f"scheme {scheme!r} is not supported (use http or https)")
    if not parsed.raw_host:
        raise InvalidURL(url, "it has no host")
    if isinstance(url, str) and not joined:  # what a base joins depends on the base
        if len(_CHECKED) >= _URL_CACHE_SIZE:
            _CHECKED.clear()
        _CHECKED[url] = parsed
    if params:
        if isinstance(params, str):
            # An already encoded query ("a=1&b=x%20y"): decoded here, so it is not encoded
            # twice, and added like any other parameters.
            params = URL("?" + params).query
        try:
            parsed = parsed.extend_query(params)  # type: ignore[arg-type]  # yarl's alias is narrower than what it accepts
        except TypeError as exc:
            raise TypeError(f"invalid params: {exc}") from None
    return parsed


def check_base_url(base_url: StrOrURL | None) -> URL | None:
    """The session's ``base_url`` as a ``URL``.

    Raises:
        InvalidURL: It is not an absolute http or https URL.
    """
    if base_url is None:
        return None
    parsed = URL(base_url) if isinstance(base_url, str) else base_url
    if not parsed.absolute or parsed.scheme not in _SCHEMES:
        raise InvalidURL(base_url, "base_url must be an absolute http or https URL")
    return parsed
