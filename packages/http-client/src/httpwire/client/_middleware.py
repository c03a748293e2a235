"""Middlewares: a typed chain of async functions around every request a session sends.

A middleware is ``async def mw(request, handler) -> ClientResponse``. It may look at or
change the request (``request.replace(...)``), call ``handler`` once, several times (a
retry, an authentication round) or not at all (a short-circuit, an error), and look at or
replace the response. :func:`compose` folds a sequence of them around the innermost
handler, the first middleware outermost, so ``[a, b]`` runs ``a`` → ``b`` → send.

Strategy. The value a middleware sees is :class:`ClientRequest`, a frozen description the
session builds only when there is a chain: method, URL, headers and body of the request
about to go on the wire. The session's per-request options (timeouts, ``ssl``, proxy) are
not in it and stay what the caller set. A request without middlewares builds nothing of
this module: the session checks one ``is None`` and sends directly.

The order, outermost first::

    session.request(...)                  URL, params, the session's and the request's
      │                                   headers, Basic auth, the body: built once
      └─ for each hop of the redirect chain:
           ├─ the retry policy, when one is given: for each attempt
           │    └─ session middlewares[0] → … → [-1] → request middlewares → send:
           │         the jar's cookies for the URL sent, the exchange, its Set-Cookie
           │         into the jar, the trace hooks
           └─ a 3xx with Location makes the next hop (credentials dropped across origins)

Middlewares wrap **each hop**, not the whole redirect chain, for three reasons: a
middleware then sees exactly the requests that reach a server (a rate limiter counts a
redirect hop and a retried attempt as the requests they are; a logger logs what was sent);
an authentication middleware answers a ``401`` at the hop that returned it, with that hop's
URL in the digest, without restarting the chain; and the redirect rules that protect
credentials (no ``Authorization`` or ``Cookie`` across origins) run between hops, where no
middleware can forget them. Cookies are added and stored at the innermost end, for each
request actually sent: a request an authentication middleware sends again carries the
cookies its first answer set. What a middleware returns for a hop is what the session
follows: returning a ``3xx`` continues the chain, returning anything else ends it.
:attr:`ClientRequest.initial_url` tells a middleware where the chain started, so that
credentials it adds can be kept to that origin, as the session keeps its Basic auth.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.streams import Body

from ._errors import InvalidURL
from ._headers import LooseHeaders, check_headers
from ._urls import check_method

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ["ClientRequest", "Handler", "Middleware", "as_middlewares", "compose"]

Handler: TypeAlias = "Callable[[ClientRequest], Awaitable[ClientResponse]]"
"""Sends a request and gives its response: the rest of the chain, as a middleware sees it."""

Middleware: TypeAlias = "Callable[[ClientRequest, Handler], Awaitable[ClientResponse]]"
"""``async def mw(request, handler) -> ClientResponse``: one link of the chain."""

_KEEP: object = object()  # "not given" for replace(): None is a valid body


def _check_url(url: URL | str) -> URL:
    if isinstance(url, str):
        try:
            url = URL(url)
        except (ValueError, TypeError, UnicodeError) as exc:
            raise InvalidURL(url, f"cannot be parsed: {exc}") from exc
    elif not isinstance(url, URL):
        raise TypeError(f"url must be a str or yarl.URL, not {type(url).__name__}")
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise InvalidURL(url, "a middleware must send an absolute http or https URL")
    return url


def _is_reusable(body: Body | bytes | None) -> bool:
    return body is None or isinstance(body, bytes) or bool(getattr(body, "reusable", False))


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A request about to be sent, as the middlewares see it: frozen, changed by copy.

    Build a changed copy with :meth:`replace` or :meth:`with_header`; what the last
    middleware passes to its handler is what goes on the wire. The headers are the ones
    sent (the session's defaults and the request's, ``Authorization`` from ``auth=``);
    the jar's ``Cookie`` is added after the chain, for each request sent, and ``Host`` and
    the body's framing by the connection when absent.

    Attributes:
        method: The method, upper case.
        url: The absolute, encoded URL of this hop.
        headers: The header fields, read-only and case-insensitive.
        body: ``None``, ``bytes`` or a :class:`~httpwire.streams.Body` (a payload, a stream).
        initial_url: The URL the caller asked for, before any redirect (the same as
            :attr:`url` on the first hop).
    """

    method: str
    url: URL
    headers: CIMultiDictProxy[str]
    body: Body | bytes | None
    initial_url: URL

    @property
    def body_reusable(self) -> bool:
        """True when the body can be sent again (none, bytes, or a reusable Body).

        A middleware that calls its handler twice must check it: a stream sent once is
        gone.
        """
        return _is_reusable(self.body)

    def replace(
        self,
        *,
        method: str | None = None,
        url: URL | str | None = None,
        headers: LooseHeaders | None = None,
        body: Body | bytes | object | None = _KEEP,
    ) -> ClientRequest:
        """A copy with some parts replaced; each new part is checked as the session does.

        Args:
            method: A method token (case-insensitive).
            url: An absolute http or https URL.
            headers: All the header fields (a mapping or pairs), replacing the old ones.
            body: The new body (``None`` for none).

        Returns:
            The new request; this one is unchanged.

        Raises:
            ValueError: An invalid method; CR, LF or NUL in a header.
            InvalidURL: The URL is not an absolute http or https URL.
            TypeError: A part is of the wrong type.
        """
        new_body: Body | bytes | None
        if body is _KEEP:
            new_body = self.body
        elif body is None or isinstance(body, (bytes, Body)):
            new_body = body
        else:
            raise TypeError(
                f"body must be None, bytes or a Body, not {type(body).__name__} "
                "(build a payload with httpwire.forms.payload_from)"
            )
        return ClientRequest(
            self.method if method is None else check_method(method),
            self.url if url is None else _check_url(url),
            self.headers if headers is None else CIMultiDictProxy(check_headers(headers)),
            new_body,
            self.initial_url,
        )

    def with_header(self, name: str, value: str) -> ClientRequest:
        """A copy with one field set, replacing every field of that name.

        Args:
            name: The field name (case-insensitive).
            value: Its value.

        Returns:
            The new request.

        Raises:
            ValueError: CR, LF or NUL in the name or value.
        """
        checked = check_headers(((name, value),))
        headers = CIMultiDict(self.headers)
        headers.popall(name, None)
        headers.extend(checked)
        return ClientRequest(
            self.method, self.url, CIMultiDictProxy(headers), self.body, self.initial_url
        )

    def __repr__(self) -> str:
        # Never the headers: they may hold credentials or cookies.
        url = self.url.with_user(None) if self.url.raw_user is not None else self.url
        return f"<ClientRequest {self.method} {url}>"


def as_middlewares(middlewares: Iterable[Middleware] | None) -> tuple[Middleware, ...]:
    """The ``middlewares=`` argument as a tuple, each one checked to be callable.

    Args:
        middlewares: The middlewares, outermost first, or ``None``.

    Returns:
        A tuple (empty for ``None``).

    Raises:
        TypeError: The argument is not iterable (a single middleware was passed), or an item
            is not callable.
    """
    if middlewares is None:
        return ()
    if callable(middlewares):
        raise TypeError(
            "middlewares must be a sequence of middlewares; wrap a single one: middlewares=[mw]"
        )
    result = tuple(middlewares)
    for index, middleware in enumerate(result):
        if not callable(middleware):
            raise TypeError(
                f"middlewares[{index}] is a {type(middleware).__name__}, not a callable "
                "'async def mw(request, handler) -> ClientResponse'"
            )
    return result


def _link(middleware: Middleware, inner: Handler) -> Handler:
    def handler(request: ClientRequest) -> Awaitable[ClientResponse]:
        return middleware(request, inner)

    return handler


def compose(middlewares: Sequence[Middleware], handler: Handler) -> Handler:
    """Fold middlewares around a handler: the first one outermost.

    ``compose([a, b], send)(request)`` runs ``a(request, h1)`` where ``h1`` runs
    ``b(request, send)``. No frame is added per link beyond the middleware's own.

    Args:
        middlewares: The middlewares, outermost first.
        handler: The innermost handler (what sends the request).

    Returns:
        A handler running the whole chain.
    """
    for middleware in reversed(middlewares):
        handler = _link(middleware, handler)
    return handler
