"""The errors only the client can detect, and the request value they describe.

Strategy: the connection layer (``httpwire.connectors``) defines the root ``ClientError`` and
every error a connection can raise; this module adds the four failures that need the
client's view of a request: a status the caller refused (:class:`ClientResponseError`), a
URL it cannot send (:class:`InvalidURL`), a redirect chain that does not end
(:class:`TooManyRedirects`, also a response error, since the last response is known), a body
of the wrong media type (:class:`ContentTypeError`), a 307/308 redirect whose body cannot be
sent twice (:class:`RedirectBodyError`), and a body already taken through ``content``
(:class:`ContentConsumedError`).

Like the connectors' errors, each keeps the facts it was raised with as attributes and
renders its message from them when printed (``_render``), and pickles through
:meth:`ClientError.__reduce__` (the attributes live in ``__dict__``; what cannot cross a
process, the redirect history, is left behind, so a message never depends on it). A
message never shows a secret: URLs are kept and shown without their userinfo (also a URL
given as text that cannot be parsed), header values never.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.connectors import ClientError

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = [
    "ClientResponseError",
    "ContentConsumedError",
    "ContentTypeError",
    "InvalidURL",
    "RedirectBodyError",
    "RequestInfo",
    "TooManyRedirects",
]

_MAX_REPR = 64


def _bounded(value: object) -> str:
    """``repr(value)`` cut to a bounded length, so a message never grows without limit."""
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


# scheme "://" userinfo "@": the userinfo of a URL given as text (RFC 3986 §3.2.1).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


def _without_userinfo(url: URL | str | None) -> URL | str | None:
    """A URL, or a URL's text that may not parse, without its user and password."""
    if isinstance(url, URL):
        if url.raw_user is not None or url.raw_password is not None:
            return url.with_user(None)
        return url
    if isinstance(url, str):
        return _USERINFO.sub(r"\1", url, count=1)
    return url


def _shown(url: URL | str | None) -> str:
    """A URL for a message: without its userinfo (never print a password)."""
    url = _without_userinfo(url)
    return str(url) if isinstance(url, URL) else _bounded(url)


def _request_of(info: RequestInfo | None, template: str = " for {}") -> str:
    """``for METHOD URL`` of a request (``""`` when unknown)."""
    if info is None:
        return ""
    return template.format(f"{info.method} {_shown(info.url)}")


class RequestInfo(NamedTuple):
    """What was sent: the request a response (or an error) answers.

    Attributes:
        method: The method, upper case.
        url: The URL requested, without credentials.
        headers: The headers the client sent (the connection adds ``Host`` and the
            framing fields when absent).
        real_url: The URL as given, fragment included (same as ``url`` unless it had one).
    """

    method: str
    url: URL
    headers: CIMultiDictProxy[str]
    real_url: URL


def _headers_proxy(headers: Mapping[str, str] | None) -> CIMultiDictProxy[str] | None:
    if headers is None or isinstance(headers, CIMultiDictProxy):
        return headers
    return CIMultiDictProxy(CIMultiDict(headers))


class ClientResponseError(ClientError):
    """A response the caller refused: a 4xx or 5xx with ``raise_for_status``, and the base
    of the errors about a received response.

    Args:
        request_info: The request the response answers.
        history: The redirect responses that led to it, oldest first (not pickled: they
            hold live connections).
        status: The response's status code.
        message: The response's reason phrase (or what was wrong with it).
        headers: The response's headers.
    """

    def __init__(
        self,
        request_info: RequestInfo | None = None,
        history: tuple[ClientResponse, ...] = (),
        *,
        status: int = 0,
        message: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.request_info = request_info
        self.history = history
        self.status = status
        self.headers = _headers_proxy(headers)

    def _render(self) -> str:
        return f"{self.status}, message={_bounded(self.message)}{_request_of(self.request_info)}"

    def __reduce__(self) -> tuple[object, ...]:
        # The history holds live responses (connections, readers): they do not cross a
        # process boundary. Header proxies do not pickle: their items do.
        reduced = super().__reduce__()
        state = dict(self.__dict__)
        state["history"] = ()
        if self.headers is not None:
            state["headers"] = list(self.headers.items())
        info = self.request_info
        if info is not None:
            state["request_info"] = (
                info.method,
                info.url,
                list(info.headers.items()),
                info.real_url,
            )
        return (*reduced[:2], state)

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        if not state:
            return
        state = dict(state)
        headers = state.get("headers")
        if isinstance(headers, list):
            state["headers"] = CIMultiDictProxy(CIMultiDict(headers))
        info = state.get("request_info")
        if isinstance(info, tuple) and not isinstance(info, RequestInfo):
            method, url, items, real_url = info
            state["request_info"] = RequestInfo(
                method, url, CIMultiDictProxy(CIMultiDict(items)), real_url
            )
        self.__dict__.update(state)


class TooManyRedirects(ClientResponseError):
    """A redirect chain went past ``max_redirects``; :attr:`history` holds every response.

    Args:
        request_info: The last request of the chain.
        history: Every response of the chain, the last one included.
        max_redirects: The limit that was passed.

    Attributes:
        first_url: The URL the chain started from (without userinfo), ``None`` when the
            history was empty; kept apart from the history, which does not pickle.
    """

    def __init__(
        self,
        request_info: RequestInfo | None = None,
        history: tuple[ClientResponse, ...] = (),
        *,
        max_redirects: int = 0,
    ) -> None:
        last = history[-1] if history else None
        super().__init__(
            request_info,
            history,
            status=last.status if last is not None else 0,
            message=last.reason if last is not None else "",
            headers=last.headers if last is not None else None,
        )
        first = _without_userinfo(history[0].url) if history else None
        self.first_url = first if isinstance(first, URL) else None
        self.max_redirects = max_redirects

    def _render(self) -> str:
        first = "the request" if self.first_url is None else _shown(self.first_url)
        info = self.request_info
        last = "" if info is None else f" (the last to {_shown(info.url)})"
        return (
            f"too many redirects: more than max_redirects={self.max_redirects} from {first}{last}"
        )


class ContentTypeError(ClientResponseError):
    """``json()`` found a Content-Type other than the one expected.

    Args:
        request_info: The request the response answers.
        history: The redirect responses that led to it.
        status: The response's status code.
        headers: The response's headers.
        content_type: The media type the response declared.
        expected: The media type ``json()`` was asked for.
    """

    def __init__(
        self,
        request_info: RequestInfo | None = None,
        history: tuple[ClientResponse, ...] = (),
        *,
        status: int = 0,
        headers: Mapping[str, str] | None = None,
        content_type: str = "",
        expected: str = "application/json",
    ) -> None:
        super().__init__(request_info, history, status=status, headers=headers)
        self.content_type = content_type
        self.expected = expected
        self.message = (
            f"attempt to decode JSON with unexpected mimetype: {_bounded(content_type)} "
            f"(expected {expected!r} or application/*+json; pass content_type=None to skip "
            "the check)"
        )

    def _render(self) -> str:
        return self.message + _request_of(self.request_info)


class RedirectBodyError(ClientResponseError):
    """A 307 or 308 redirect asks for the body again, and the body cannot be sent twice.

    A stream (an async generator, a ``StreamReader``, a non-seekable file) was consumed by
    the first request; resending nothing would be wrong, so the redirect is refused.

    Args:
        request_info: The request that was redirected.
        history: The responses so far, the redirect included.
        status: The redirect's status (307 or 308).
        headers: The redirect's headers.
        location: Where the redirect pointed (kept without userinfo).
    """

    def __init__(
        self,
        request_info: RequestInfo | None = None,
        history: tuple[ClientResponse, ...] = (),
        *,
        status: int = 0,
        headers: Mapping[str, str] | None = None,
        location: URL | None = None,
    ) -> None:
        super().__init__(request_info, history, status=status, headers=headers)
        shown = _without_userinfo(location)
        self.location = shown if isinstance(shown, URL) else None
        self.message = (
            f"cannot follow the {status} redirect to {_shown(self.location)}: it must resend "
            "the request body, and the body was a stream that cannot be sent twice (pass "
            "bytes, a seekable file or a payload, or allow_redirects=False)"
        )

    def _render(self) -> str:
        return self.message + _request_of(self.request_info, " (the request was {})")


class InvalidURL(ClientError, ValueError):  # the guide's and aiohttp's name
    """A URL the client cannot request: unparsable, without a host, or of another scheme.

    Also a ``ValueError``. Raised before anything is sent, and for a redirect whose
    ``Location`` is such a URL (then :attr:`url` is that location).

    Args:
        url: The URL (or the text given as one); kept and shown without its userinfo.
        reason: What is wrong with it.
    """

    def __init__(self, url: URL | str | None = None, reason: str = "") -> None:
        super().__init__()
        self.url = _without_userinfo(url)
        self.reason = reason

    def _render(self) -> str:
        shown = _shown(self.url)
        return f"invalid URL {shown}: {self.reason}" if self.reason else shown


class ContentConsumedError(ClientError, RuntimeError):
    """``read()``, ``text()`` or ``json()`` was called after the body was read through
    ``content`` (or the response was released before the body was read).

    Also a ``RuntimeError``. Returning what is left would hand back a partial body as if it
    were the whole one.

    Args:
        method: The request method.
        url: The response's URL (kept without userinfo).
        consumed: Body bytes already taken from ``content``.
        call: The method that was called (``"read"``, ``"text"``, ``"json"``).
        released: True when the response had been released or closed unread.
    """

    def __init__(
        self,
        method: str = "",
        url: URL | None = None,
        *,
        consumed: int = 0,
        call: str = "read",
        released: bool = False,
    ) -> None:
        super().__init__()
        self.method = method
        shown = _without_userinfo(url)
        self.url = shown if isinstance(shown, URL) else None
        self.consumed = consumed
        self.call = call
        self.released = released

    def _render(self) -> str:
        if self.released:
            why = "the response was released or closed before its body was read"
        else:
            why = (
                f"{self.consumed} bytes of the body were already read through 'content'; "
                "read the rest from 'content' too"
            )
        return f"cannot {self.call}() the body of {self.method} {_shown(self.url)}: {why}"
