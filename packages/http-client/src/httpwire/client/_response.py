"""ClientResponse: a response head, its body as a stream, and the ways to read it whole.

Strategy: the connection hands over a ``RawResponse`` (the parsed head and a
``StreamReader`` of the body, decoded when asked); everything else is computed on first use
and kept (headers proxy, media type, charset, cookies, the request's description), so a
response that is only checked for its status costs one small object.

The body has four states, changed in one place (:meth:`ClientResponse._set_state`)::

    OPEN ──read() to the end──▶ READ        (the bytes are kept: read() again returns them)
      │ └──release()/close()──▶ RELEASED    (the connection is let go; the body too,
      │                                      unless it had arrived whole)
      └──content read past the start by the caller──▶ (detected, not a state: the reader's
                                                       consumed count says so)

``read()``/``text()``/``json()`` refuse a body the caller already took part of through
``content`` (:class:`ContentConsumedError`): returning what is left would pass a partial body
off as the whole one. Whether the caller read from ``content`` is known without wrapping the
reader: its fed bytes minus its buffered bytes.

The connection goes back to its pool by itself once the whole body has arrived.
:meth:`ClientResponse.release` lets go of it otherwise (closing it, since its state is then
unknown); :meth:`ClientResponse.close` always drops it. A response dropped without either is
cleaned up by ``__del__``, so it never holds its connection forever.
"""

from __future__ import annotations

import asyncio
import json as _json
from collections.abc import Callable
from http.cookies import SimpleCookie
from time import monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Protocol

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.connectors import ClientTimeoutError, RawResponse
from httpwire.forms import parse_header_params
from httpwire.parser import HttpVersion
from httpwire.streams import StreamReader

from ._charset import charset_for, is_json_type
from ._cookies import parse_set_cookie
from ._errors import ClientResponseError, ContentConsumedError, ContentTypeError, RequestInfo
from ._tracing import TimingsRecorder

if TYPE_CHECKING:
    from ._progress import DownloadProgress
    from ._snapshots import Timings

__all__ = ["ClientResponse", "ResponseOwner"]

OPEN: Final = 0
READ: Final = 1
RELEASED: Final = 2
_STATE_NAMES: Final = ("open", "read", "released")

_DRAIN_LIMIT = 65536
"""An unread body announced at most this long is read to its end on a clean exit, so its
connection can be reused; a longer one is closed instead."""

_OCTET_STREAM = "application/octet-stream"


class ResponseOwner(Protocol):
    """What a response closes once it is done: the one-shot session of ``request()``."""

    async def close(self) -> None:
        """Close, waiting until every socket is closed."""
        ...

    def _close_soon(self) -> None:
        """Start closing from synchronous code."""
        ...


def _parse_set_cookie(values: list[str]) -> SimpleCookie:
    cookies = SimpleCookie()
    for value in values:
        morsel = parse_set_cookie(value)
        if morsel is not None:
            cookies[morsel.key] = morsel
    return cookies


class ClientResponse:
    """The answer to a request: status, headers, and the body to read or stream.

    Returned by ``await session.get(...)`` (and ``request()``). Read the body whole with
    :meth:`read`, :meth:`text` or :meth:`json`, or stream it from :attr:`content`; then let
    the connection go with :meth:`release` (``async with`` does it for you).

    Attributes:
        method: The method of the request this answers.
        url: The URL requested (the last one of a redirect chain), encoded.
        status: The status code.
        reason: The reason phrase.
        version: The HTTP version of the response.
        content: The body as a ``StreamReader``, decoded from its content codings when the
            session decompresses (the default).
        history: The redirect responses that led here, oldest first (released).
    """

    __slots__ = (
        "__weakref__",
        "_body",
        "_content_type",
        "_cookies",
        "_headers",
        "_owner",
        "_progress",
        "_raw",
        "_request_headers",
        "_state",
        "_timer",
        "_timings",
        "content",
        "history",
        "method",
        "reason",
        "status",
        "url",
        "version",
    )

    def __init__(
        self,
        raw: RawResponse,
        method: str,
        url: URL,
        request_headers: CIMultiDict[str] | CIMultiDictProxy[str],
        content: StreamReader | None = None,
        timings: TimingsRecorder | None = None,
    ) -> None:
        head = raw.head
        self._raw = raw
        self._state = OPEN
        self._body: bytes | None = None
        self._headers: CIMultiDictProxy[str] | None = None
        self._content_type: tuple[str, dict[str, str]] | None = None
        self._cookies: SimpleCookie | None = None
        self._request_headers = request_headers
        self._timer: asyncio.TimerHandle | None = None
        self._owner: ResponseOwner | None = None
        self._progress: DownloadProgress | None = None
        if timings is None:
            timings = TimingsRecorder(monotonic())
        elif timings.body_done is None and raw.is_complete:
            timings.body_done = timings.first_byte  # the body came with the head
        self._timings = timings
        self.method = method
        self.url = url
        self.status = head.status
        self.reason = head.reason
        self.version: HttpVersion = head.version
        self.content = raw.content if content is None else content
        self.history: tuple[ClientResponse, ...] = ()

    # -- the head ------------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response's headers, case-insensitive, repeated names kept in order."""
        headers = self._headers
        if headers is None:
            headers = self._headers = CIMultiDictProxy(self._raw.head.headers)
        return headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """The header lines as received: ``(name, value)`` bytes in wire order."""
        return tuple(self._raw.head.raw_headers)

    @property
    def timings(self) -> Timings:
        """When each phase of this request ended: pool wait, DNS, connect, TLS, request
        sent, first byte, body done, and whether the connection was new or reused, with
        its addresses.

        Every response has them (they cost a few stamps per request). ``body_done`` is
        set once the whole body has arrived (with the head, for a small body) or the
        response let go of a whole body; ``None`` while it is still arriving. Each redirect
        hop has its own (``r.history[i].timings``).
        """
        return self._timings.snapshot()

    @property
    def ok(self) -> bool:
        """True when the status is below 400."""
        return self.status < 400

    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        parsed = self._content_type
        if parsed is None:
            value = self._raw.head.headers.get("Content-Type")
            if value is None:
                parsed = (_OCTET_STREAM, {})
            else:
                parsed = parse_header_params(value)
                if not parsed[0]:
                    parsed = (_OCTET_STREAM, parsed[1])
            self._content_type = parsed
        return parsed

    @property
    def content_type(self) -> str:
        """The media type of the body, lowercased; ``application/octet-stream`` when the
        response declares none (RFC 9110 §8.3)."""
        return self._parsed_content_type()[0]

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, lowercased, or ``None``."""
        charset = self._parsed_content_type()[1].get("charset")
        return charset.lower() if charset else None

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies this response set (its ``Set-Cookie`` fields), by name.

        Only this response's: in a redirect chain, the session's cookie jar gathers those of
        every response.
        """
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = _parse_set_cookie(
                self._raw.head.headers.getall("Set-Cookie", [])
            )
        return cookies

    @property
    def request_info(self) -> RequestInfo:
        """The request this answers: method, URL and the headers the client sent."""
        headers = self._request_headers
        proxy = headers if isinstance(headers, CIMultiDictProxy) else CIMultiDictProxy(headers)
        return RequestInfo(self.method, self.url.with_fragment(None), proxy, self.url)

    # -- the body ------------------------------------------------------------------------

    def _set_state(self, state: int) -> None:
        """The one place the body state changes; also ends the total-timeout timer and
        stamps the end of a body read whole."""
        if self._state == OPEN:
            self._state = state
            timer = self._timer
            if timer is not None:
                self._timer = None
                timer.cancel()
            timings = self._timings
            if timings.body_done is None and self._raw.is_complete:
                timings.body_done = monotonic()
            progress = self._progress
            if progress is not None:
                self._progress = None
                progress.finish()

    def _check_unconsumed(self, call: str) -> None:
        if self._state == RELEASED and not self._raw.is_complete:
            raise ContentConsumedError(self.method, self.url, call=call, released=True)
        content = self.content
        if content.exception() is not None:
            return  # reading raises the stream's own error
        consumed = content.total_bytes - content.buffered
        if consumed:
            raise ContentConsumedError(self.method, self.url, consumed=consumed, call=call)

    async def read(self) -> bytes:
        """The whole body (decoded from its content codings when the session decompresses).

        Calling it again returns the same bytes. The connection is let go once the body is
        read.

        Raises:
            ContentConsumedError: Part of the body was already read through
                :attr:`content`, or the response was released before its body arrived.
            ClientPayloadError: The body was cut short or is corrupt.
        """
        body = self._body
        if body is not None:
            return body
        content = self.content
        if self._state != OPEN or content.total_bytes != content.buffered:
            self._check_unconsumed("read")
        try:
            body = await content.read()
        except BaseException:
            self.close()
            raise
        self._body = body
        self._finish(READ)
        return body

    def get_encoding(self) -> str:
        """The charset :meth:`text` would use: Content-Type's, JSON's UTF-8, or detected.

        Raises:
            RuntimeError: The body was not read yet (detection needs it).
        """
        declared = self._parsed_content_type()[1].get("charset")
        if self._body is None and not (declared or is_json_type(self.content_type)):
            raise RuntimeError("get_encoding() needs the body: call 'await read()' first")
        return charset_for(self.content_type, declared, self._body or b"")

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded as text.

        Args:
            encoding: The charset to use; by default Content-Type's ``charset``, UTF-8 for
                JSON types, UTF-8 for an empty body, else detected (chardet) from the first
                KiBs.
            errors: How to handle undecodable bytes, as in ``bytes.decode``.

        Raises:
            ContentConsumedError: See :meth:`read`.
            UnicodeDecodeError: The body is not valid in the charset (with ``"strict"``).
            LookupError: *encoding* is not a known codec.
        """
        body = await self.read()
        if encoding is None:
            media_type, params = self._parsed_content_type()
            encoding = charset_for(media_type, params.get("charset"), body)
        return body.decode(encoding, errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = _json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON; ``None`` for an empty body.

        Args:
            encoding: The charset; by default Content-Type's ``charset``, else UTF-8
                (RFC 8259 §8.1).
            loads: The parser, ``json.loads`` by default.
            content_type: The media type the response must declare; with the default,
                ``application/<anything>+json`` is accepted too. ``None`` skips the check.

        Raises:
            ContentTypeError: The response declares another media type (named in the
                message). The body stays readable with :meth:`text`.
            ContentConsumedError: See :meth:`read`.
            ValueError: The body is not valid JSON (``json.JSONDecodeError``).
        """
        body = await self.read()
        if content_type is not None:
            actual = self.content_type
            if actual != content_type and not (
                content_type == "application/json" and is_json_type(actual)
            ):
                raise ContentTypeError(
                    self.request_info,
                    self.history,
                    status=self.status,
                    headers=self.headers,
                    content_type=self._raw.head.headers.get("Content-Type", ""),
                    expected=content_type,
                )
        if not body or body.isspace():  # as ``not body.strip()``, without the copy
            return None
        if encoding is None:
            declared = self._parsed_content_type()[1].get("charset")
            # RFC 8259 §8.1: UTF-8 unless the response declares another charset.
            encoding = (
                "utf-8" if declared is None else charset_for("application/json", declared, body)
            )
        return loads(body.decode(encoding))

    # -- the connection --------------------------------------------------------------------

    def _finish(self, state: int) -> None:
        self._set_state(state)
        self._raw.release()
        owner = self._owner
        if owner is not None:
            owner._close_soon()  # kept: an async exit waits for the close to end

    def release(self) -> None:
        """Let the connection go: back to the pool when the body arrived whole, else closed.

        Idempotent. A body that arrived whole stays readable afterwards.
        """
        if self._state == OPEN:
            self._finish(RELEASED)

    def close(self) -> None:
        """Close the connection, whatever the state of the body; idempotent."""
        if self._state == OPEN:
            self._set_state(RELEASED)
        self._raw.close()
        owner = self._owner
        if owner is not None:
            owner._close_soon()

    @property
    def closed(self) -> bool:
        """True once the response let its connection go (read, released or closed)."""
        return self._state != OPEN

    def _has_whole_body(self) -> bool:
        """True when the whole body has arrived (the connection is already let go)."""
        return self._raw.is_complete

    def _attach_owner(self, owner: ResponseOwner) -> None:
        """Close *owner* once this response lets its connection go."""
        self._owner = owner

    def _watch_deadline(self, deadline: float, error: ClientTimeoutError) -> None:
        """Fail the body with *error* if it has not arrived whole at loop time *deadline*."""
        if self._state == OPEN and not self._raw.is_complete:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(deadline, self._expire, error)

    def _exit_now(self) -> bool:
        """Leave the response synchronously when nothing is left to wait for (the usual
        case after ``read()``); False when :meth:`_exit` must run."""
        if self._owner is not None:
            return False
        if self._state == OPEN:
            if not self._raw.is_complete:
                return False
            self._finish(RELEASED)
        return True

    async def _exit(self, clean: bool) -> None:
        """Leave the response after ``async with``: drain a small remainder, then release."""
        if self._state == OPEN and clean and not self._raw.is_complete:
            length = self._raw.head.content_length
            if length is not None and length <= _DRAIN_LIMIT:
                drained = 0
                try:
                    # Bounded by the decoded size too: a small compressed remainder may
                    # decode to far more; then closing is cheaper than reading.
                    while drained <= 4 * _DRAIN_LIMIT and (piece := await self.content.readany()):
                        drained += len(piece)
                except asyncio.CancelledError:
                    self.close()
                    raise
                except Exception:  # the caller is done with the body: no error
                    self.close()
                if not self.content.at_eof():
                    self.close()
        owner = self._owner
        self._owner = None
        self.release()
        if owner is not None:
            await owner.close()

    def _expire(self, error: ClientTimeoutError) -> None:
        """The total deadline passed while the body was still arriving: fail the reader."""
        self._timer = None
        if self._state == OPEN and not self._raw.is_complete:
            self.content.set_exception(error)
            self.close()

    def raise_for_status(self) -> None:
        """Raise :class:`ClientResponseError` when the status is 400 or above.

        The response is released first: the error carries the status, reason, headers,
        request and history, not the connection.

        Raises:
            ClientResponseError: The status is 400 or above.
        """
        if self.status >= 400:
            self.release()
            raise ClientResponseError(
                self.request_info,
                self.history,
                status=self.status,
                message=self.reason,
                headers=self.headers,
            )

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._exit_now():
            await self._exit(exc_type is None)

    def __del__(self) -> None:
        # A response dropped unreleased: never keep its connection (a fully received body
        # already gave it back). No warning: not reading a body is legitimate.
        if getattr(self, "_state", RELEASED) == OPEN:
            progress = self._progress
            if progress is not None:  # no application code from the garbage collector
                self._progress = None
                progress.stop()
            self._set_state(RELEASED)
            try:
                self._raw.release()
                owner = self._owner
                if owner is not None:
                    self._owner = None
                    owner._close_soon()
            except RuntimeError:  # the event loop is closed
                pass

    def __repr__(self) -> str:
        state = _STATE_NAMES[self._state]
        return f"<ClientResponse({self.url}) [{self.status} {self.reason}] {state}>"
