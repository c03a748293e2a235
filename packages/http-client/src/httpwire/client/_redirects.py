"""The redirect policy: where a redirect goes, with which method, body and headers.

Strategy: pure functions over values (status, method, URLs, headers), no sockets, so every
rule is tested on its own; the session's loop only applies what :func:`next_hop` decides.

The rules (RFC 9110 §15.4, and what browsers and other clients do):

* 301 and 302 turn POST into GET and drop the body (§15.4.2, §15.4.3 note the historic
  practice); 303 turns every method but HEAD into GET (§15.4.4); 307 and 308 keep the
  method and the body (§15.4.8, §15.4.9).
* ``Location`` may be relative: it is resolved against the URL that was redirected
  (§10.2.2). A location of another scheme than http or https is refused, never requested.
* Credentials never leave their origin: when the scheme, host or port changes,
  ``Authorization`` and ``Cookie`` headers the caller set are dropped (and a ``Host`` set
  for the first origin), and so is the request's Basic auth (an https to http downgrade is
  such a change). Cookies of the jar are chosen again for the new URL by the session.
  ``Proxy-Authorization`` belongs to the proxy, never to a target (the connection sends it
  to the proxy only).
* When the body is dropped, so are the fields that described it.
"""

from __future__ import annotations

from typing import NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from ._errors import InvalidURL

__all__ = ["REDIRECT_STATUSES", "Hop", "is_same_origin", "next_hop", "resolve_location"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SCHEMES = frozenset({"http", "https"})
_BODY_FIELDS = (
    istr("Content-Type"),
    istr("Content-Length"),
    istr("Content-Encoding"),
    istr("Content-Language"),
    istr("Content-Location"),
    istr("Transfer-Encoding"),
    istr("Expect"),
)
# Dropped when the origin changes: credentials, and a Host the caller set for the first one.
_ORIGIN_FIELDS = (istr("Authorization"), istr("Cookie"), istr("Host"))


class Hop(NamedTuple):
    """The next request of a redirect chain.

    Attributes:
        method: The method to use.
        url: The absolute URL to request.
        keep_body: True when the body must be sent again (307, 308).
        same_origin: False when the redirect leaves the origin (credentials are dropped).
        headers: The headers to send: those describing a dropped body removed, credentials
            removed when the origin changes (the same object when nothing was removed).
    """

    method: str
    url: URL
    keep_body: bool
    same_origin: bool
    headers: CIMultiDict[str] | CIMultiDictProxy[str]


def is_same_origin(a: URL, b: URL) -> bool:
    """True when both URLs have the same scheme, host and port (RFC 6454 §4)."""
    return a.scheme == b.scheme and a.raw_host == b.raw_host and a.port == b.port


def resolve_location(current: URL, location: str) -> URL:
    """The absolute URL a ``Location`` field points to.

    Args:
        current: The URL that was redirected.
        location: The field's value.

    Raises:
        InvalidURL: The location cannot be parsed, has no host, or is of another scheme
            than http or https.
    """
    try:
        target = URL(location)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InvalidURL(location, f"redirect Location cannot be parsed: {exc}") from exc
    if not target.scheme:  # relative, or network-path ("//host/path")
        target = current.join(target)
    elif target.scheme not in _SCHEMES:  # "mailto:x", "javascript:...", "ftp://..."
        raise InvalidURL(
            location, f"redirect to scheme {target.scheme!r} is not followed (only http and https)"
        )
    if not target.raw_host:
        raise InvalidURL(location, "redirect Location has no host")
    if target.raw_user is not None or target.raw_password is not None:
        # Credentials in a Location are not ours to send: a server should not make the
        # client authenticate somewhere by redirecting it.
        target = target.with_user(None)
    if not target.fragment and current.fragment:
        target = target.with_fragment(current.fragment)  # RFC 9110 §10.2.2
    return target


def next_hop(
    status: int,
    method: str,
    current: URL,
    location: str,
    headers: CIMultiDict[str] | CIMultiDictProxy[str],
) -> Hop:
    """Decide the request that follows a redirect.

    Args:
        status: The redirect's status (one of :data:`REDIRECT_STATUSES`).
        method: The method of the request that was redirected.
        current: Its URL.
        location: The redirect's ``Location``.
        headers: The headers of that request (the session's and the caller's).

    Raises:
        InvalidURL: The location is not a URL the client follows.
    """
    url = resolve_location(current, location)
    if status == 303:
        new_method = method if method == "HEAD" else "GET"
    elif status in (301, 302) and method == "POST":
        new_method = "GET"
    else:
        new_method = method
    keep_body = status in (307, 308)
    same = is_same_origin(current, url)
    new_headers = headers
    drop: tuple[istr, ...] = ()
    if not keep_body:
        drop += _BODY_FIELDS
    if not same:
        drop += _ORIGIN_FIELDS
    if drop and any(name in headers for name in drop):
        copied = headers.copy()
        for name in drop:
            copied.popall(name, None)
        new_headers = copied
    return Hop(new_method, url, keep_body, same, new_headers)
