"""The errors only the client can detect, and the request value they describe.

Strategy: the connection layer (``httpwire.connectors``) defines the root ``ClientError`` and
every error a connection can raise; this module adds the four failures that need the
client's view of a request: a status the caller refused (:class:`ClientResponseError`), a
URL it cannot send (:class:`InvalidURL`), a redirect chain that does not end
(:class:`TooManyRedirects`, also a response error, since the last response is known), a body
of the wrong media type (:class:`ContentTypeError`), a 307/308 redirect whose body cannot be
sent twice (:class:`RedirectBodyError`), and a body already taken through ``content``
(:class:`ContentConsumedError`).

Like the connectors' errors, each composes its message once from keyword attributes and
pickles through :meth:`ClientError.__reduce__` (the attributes live in ``__dict__``). A
message never shows a secret: URLs are shown without their userinfo, header values never.
"""

from __future__ import annotations

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


def _shown(url: URL | str | None) -> str:
    """A URL for a message: without its userinfo (never print a password)."""
    if isinstance(url, URL):
        if url.raw_user is not None or url.raw_password is not None:
            url = url.with_user(None)
        return str(url)
    return _bounded(url)


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
        history: The redirect responses that led to it, oldest first.
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
        where = (
            f" for {request_info.method} {_shown(request_info.url)}"
            if request_info is not None
            else ""
        )
        super().__init__(self._compose(status, message, where))
        self.request_info = request_info
        self.history = history
        self.status = status
        self.message = message
        self.headers = _headers_proxy(headers)

    @staticmethod
    def _compose(status: int, message: str, where: str) -> str:
        return f"{status}, message={_bounded(message)}{where}"

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
        first = _shown(history[0].url) if history else "the request"
        self.args = (
            f"too many redirects: more than max_redirects={max_redirects} from {first}"
            + (f" (the last to {_shown(request_info.url)})" if request_info else ""),
        )
        self.max_redirects = max_redirects


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
        message = (
            f"attempt to decode JSON with unexpected mimetype: {_bounded(content_type)} "
            f"(expected {expected!r} or application/*+json; pass content_type=None to skip "
            "the check)"
        )
        super().__init__(request_info, history, status=status, message=message, headers=headers)
        self.args = (
            message
            + (
                f" for {request_info.method} {_shown(request_info.url)}"
                if request_info is not None
                else ""
            ),
        )
        self.content_type = content_type
        self.expected = expected


class RedirectBodyError(ClientResponseError):
    """A 307 or 308 redirect asks for the body again, and the body cannot be sent twice.

    A stream (an async generator, a ``StreamReader``, a non-seekable file) was consumed by
    the first request; resending nothing would be wrong, so the redirect is refused.

    Args:
        request_info: The request that was redirected.
        history: The responses so far, the redirect included.
        status: The redirect's status (307 or 308).
        headers: The redirect's headers.
        location: Where the redirect pointed.
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
        message = (
            f"cannot follow the {status} redirect to {_shown(location)}: it must resend the "
            "request body, and the body was a stream that cannot be sent twice (pass bytes, a "
            "seekable file or a payload, or allow_redirects=False)"
        )
        super().__init__(request_info, history, status=status, message=message, headers=headers)
        self.args = (
            message
            + (
                f" (the request was {request_info.method} {_shown(request_info.url)})"
                if request_info is not None
                else ""
            ),
        )
        self.location = location


class InvalidURL(ClientError, ValueError):  # the guide's and aiohttp's name
    """A URL the client cannot request: unparsable, without a host, or of another scheme.

    Also a ``ValueError``. Raised before anything is sent, and for a redirect whose
    ``Location`` is such a URL (then :attr:`url` is that location).

    Args:
        url: The URL (or the text given as one).
        reason: What is wrong with it.
    """

    def __init__(self, url: URL | str | None = None, reason: str = "") -> None:
        super().__init__(f"invalid URL {_shown(url)}: {reason}" if reason else _shown(url))
        self.url = url
        self.reason = reason


class ContentConsumedError(ClientError, RuntimeError):
    """``read()``, ``text()`` or ``json()`` was called after the body was read through
    ``content`` (or the response was released before the body was read).

    Also a ``RuntimeError``. Returning what is left would hand back a partial body as if it
    were the whole one.

    Args:
        method: The request method.
        url: The response's URL.
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
        if released:
            why = "the response was released or closed before its body was read"
        else:
            why = (
                f"{consumed} bytes of the body were already read through 'content'; "
                "read the rest from 'content' too"
            )
        super().__init__(f"cannot {call}() the body of {method} {_shown(url)}: {why}")
        self.method = method
        self.url = url
        self.consumed = consumed
        self.call = call
        self.released = released
