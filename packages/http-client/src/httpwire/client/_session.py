"""ClientSession and request(): build the request, send it, follow redirects.

Strategy: everything the session can decide once is decided in ``__init__`` (the merged
default headers, the timeout, the connector), so the common request (``await
session.get(url)``) does: a method and URL check (both cached), one ``OutgoingRequest``
tuple, ``acquire`` and ``send`` on the connector's Protocols, and one small
``ClientResponse``. What a request does not use costs nothing: no ``asyncio.timeout``
unless ``total`` or ``connect`` is set, no header copy unless the request has headers, auth
or cookies, no cookie work while the jar and the request have none.

The redirect loop applies :mod:`._redirects`' decisions; each intermediate response is
released (a small unread remainder is read first so its connection is reused) and kept in
``history``. Deadlines and the single retry after a stale pooled connection are
:mod:`._sending`'s. A :class:`RetryPolicy` (``retry=``) wraps each hop's send, the
middlewares included, in :func:`run_with_retries`; without one the hop is sent as before,
after one ``is None`` check. ``trust_env=True`` reads :class:`EnvironmentSettings` once, in
``__init__``; a request then looks its proxy up for each hop and, when it has no other
credentials, its host's ``.netrc`` entry (again after a redirect to another origin, whose
rules have dropped the last one's).
"""

from __future__ import annotations

import asyncio
import json as _json
import logging
import ssl as _ssl
import sys
import warnings
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from functools import partial
from http.cookies import Morsel, SimpleCookie
from time import monotonic
from types import TracebackType
from typing import Final, NamedTuple, TypedDict, Unpack

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.connectors import (
    BasicAuth,
    ClientConnectionError,
    Connector,
    Fingerprint,
    OutgoingRequest,
    ProxyConnector,
    RawResponse,
    TCPConnector,
)
from httpwire.streams import EmptyStreamReader

from ._bodies import RequestBody, make_body
from ._cookiejar import AbstractCookieJar, CookieJar, LooseCookies
from ._environment import EnvironmentSettings, ProxySettings
from ._errors import InvalidURL, RedirectBodyError, TooManyRedirects
from ._headers import LooseHeaders, check_headers, merge_headers, session_headers
from ._middleware import ClientRequest, Middleware, as_middlewares, compose
from ._progress import DEFAULT_INTERVAL, DownloadProgress, ProgressBody, ProgressCallback
from ._redirects import REDIRECT_STATUSES, next_hop
from ._request_context import RequestContext
from ._response import ClientResponse
from ._retry import Attempt, RetryPolicy, run_with_retries
from ._sending import drain, is_reusable, may_retry, send, total_error
from ._timeout import DEFAULT_TIMEOUT, ClientTimeout, as_timeout
from ._tracing import LOGGER, TimingsRecorder, TraceHooks, emit, log_request
from ._urls import METHODS, Params, StrOrURL, build_url, check_base_url, check_method

__all__ = ["ClientSession", "RequestOptions", "SSLSetting"]

SSLSetting = bool | _ssl.SSLContext | Fingerprint | bytes | None
"""A request's ``ssl=``: ``None`` (the connector's settings), ``True`` (verify), ``False``
(no verification, no pin), an ``SSLContext`` (its trust), or a fingerprint (a pin)."""

_NO_BODY_STATUSES: Final = frozenset({204, 304})
_CONTINUE_TIMEOUT: Final = OutgoingRequest._field_defaults["expect_continue_timeout"]

_new_request: Callable[[tuple[object, ...]], OutgoingRequest]
if OutgoingRequest._fields == (
    "method",
    "url",
    "headers",
    "body",
    "target",
    "chunked",
    "expect_continue",
    "decode",
    "sock_connect",
    "sock_read",
    "ssl",
    "proxy",
    "proxy_auth",
    "expect_continue_timeout",
    "trace",
):
    _new_request = partial(tuple.__new__, OutgoingRequest)  # the fields are checked above
else:  # pragma: no cover  # a connection layer with other fields: its own constructor
    _new_request = OutgoingRequest._make
_BACKGROUND: set[asyncio.Task[None]] = set()


class RequestOptions(TypedDict, total=False):
    """The keywords every request method accepts (see :meth:`ClientSession.request`)."""

    params: Params | None
    data: object
    json: object
    headers: LooseHeaders | None
    skip_auto_headers: Iterable[str] | None
    cookies: LooseCookies | None
    auth: BasicAuth | None
    allow_redirects: bool
    max_redirects: int | None
    timeout: ClientTimeout | float | None
    proxy: StrOrURL | None
    proxy_auth: BasicAuth | None
    ssl: SSLSetting
    chunked: bool | None
    expect100: bool
    read_until_eof: bool
    raise_for_status: bool | None
    middlewares: Iterable[Middleware] | None
    trace: TraceHooks | None
    on_upload_progress: ProgressCallback | None
    on_download_progress: ProgressCallback | None
    progress_interval: float
    retry: RetryPolicy | None


class _Plan(NamedTuple):
    """What every hop of one request sent through the middlewares, tracing or retries
    shares: built once, before the redirect loop, and passed down as one value."""

    chain: tuple[Middleware, ...]
    hooks: TraceHooks | None
    limits: ClientTimeout
    deadline: float | None
    read_until_eof: bool
    origin: URL
    request_cookies: list[tuple[str, str]] | None
    retry: RetryPolicy | None


def _cookie_pairs(cookies: LooseCookies) -> list[tuple[str, str]]:
    """Per-request cookies as ``name=value`` pairs, values quoted as RFC 6265 §4.1.1 wants."""
    items = cookies.items() if isinstance(cookies, Mapping) else cookies
    jar: SimpleCookie = SimpleCookie()
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        if isinstance(value, Morsel):
            pairs.append((name, value.coded_value))
            continue
        if not isinstance(value, str):
            raise TypeError(
                f"the value of cookie {name!r} must be str, not {type(value).__name__}"
            )
        jar[name] = value
        pairs.append((name, jar[name].coded_value))
    return pairs


def _created_at() -> str:
    """Where the caller of the caller's caller is: the line that made a session."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class ClientSession:
    """Requests that share a connection pool, cookies, default headers, auth and timeouts.

    Use one session for many requests (a session per request throws the pool away), and
    close it: ``async with ClientSession() as session:``, or ``await session.close()``.

    Args:
        base_url: What relative request URLs are joined to (RFC 3986 §5.2: end it with
            ``/`` to join below its path).
        connector: The connector lending connections; by default a new
            :class:`TCPConnector` owned by the session.
        headers: Headers sent with every request (a request's own replace them by name).
        skip_auto_headers: Default headers not to send (``Accept``, ``Accept-Encoding``,
            ``User-Agent``, or the Content-Type a body implies).
        cookies: Cookies to put in the jar at the start.
        cookie_jar: The jar; by default a new ``CookieJar()``.
        auth: Basic auth sent with every request (not after a redirect to another origin).
        timeout: A :class:`ClientTimeout`, or a number ``n`` for ``sock_connect=n,
            sock_read=n``. The default: 30 s to connect, 300 s without a byte, no total.
        raise_for_status: Raise :class:`ClientResponseError` for every status >= 400.
        json_serialize: Turns ``json=`` into text.
        auto_decompress: Decode gzip, deflate (and br, zstd when installed) bodies.
        trust_env: Read the environment once, now: proxies from ``HTTP_PROXY``,
            ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` for requests without
            ``proxy=`` (unless the connector is a :class:`ProxyConnector`), ``.netrc``
            credentials (``NETRC`` or ``~/.netrc``) for requests without other
            credentials, and ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as the trust store of the
            default connector. Off by default: a library's requests should not change
            with its caller's environment unless asked.
        max_redirects: How many redirects a request follows at most.
        max_line_size: The longest status line accepted (for the default connector).
        max_field_size: The longest header line accepted (for the default connector).
        max_headers: The most header lines accepted (for the default connector).
        connector_owner: Close the connector when the session closes; pass False to share
            a connector between sessions.
        middlewares: ``async def mw(request, handler) -> ClientResponse`` functions around
            every request sent, the first outermost (see :class:`ClientRequest`); a
            request's own ``middlewares=`` run inside these.
        trace: Hooks called as each request goes (:class:`TraceHooks`); also turns on
            ``response.timings``.
        retry: A :class:`RetryPolicy` for every request (each redirect hop is retried on
            its own); ``None``, the default, sends each request once (apart from the
            single resend after a stale pooled connection, which needs no policy).

    Raises:
        InvalidURL: ``base_url`` is not an absolute http or https URL.
        ValueError: A header holds CR, LF or NUL.
    """

    __slots__ = (
        "__weakref__",
        "_auth",
        "_auto_decompress",
        "_base_url",
        "_closed",
        "_closing",
        "_connector",
        "_connector_owner",
        "_cookie_jar",
        "_created_at",
        "_env",
        "_headers",
        "_json_serialize",
        "_max_redirects",
        "_middlewares",
        "_raise_for_status",
        "_retry",
        "_skip_auto_headers",
        "_timeout",
        "_trace",
    )

    def __init__(
        self,
        base_url: StrOrURL | None = None,
        *,
        connector: Connector | None = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        cookies: LooseCookies | None = None,
        cookie_jar: AbstractCookieJar | None = None,
        auth: BasicAuth | None = None,
        timeout: ClientTimeout | float | None = DEFAULT_TIMEOUT,
        raise_for_status: bool = False,
        json_serialize: Callable[[object], str] = _json.dumps,
        auto_decompress: bool = True,
        trust_env: bool = False,
        max_redirects: int = 10,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        connector_owner: bool = True,
        middlewares: Iterable[Middleware] | None = None,
        trace: TraceHooks | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._closed = True  # until fully built: __del__ must not warn for a failed init
        self._closing: asyncio.Task[None] | None = None
        self._created_at = _created_at()
        self._base_url = check_base_url(base_url)
        self._skip_auto_headers = frozenset(n.lower() for n in skip_auto_headers or ())
        self._headers = session_headers(headers, self._skip_auto_headers)
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError(f"auth must be a BasicAuth, not {type(auth).__name__}")
        self._auth = auth
        self._timeout = as_timeout(timeout, DEFAULT_TIMEOUT)
        self._raise_for_status = raise_for_status
        self._json_serialize = json_serialize
        self._auto_decompress = auto_decompress
        self._max_redirects = max_redirects
        self._middlewares = as_middlewares(middlewares)
        if trace is not None and not isinstance(trace, TraceHooks):
            raise TypeError(f"trace must be a TraceHooks, not {type(trace).__name__}")
        self._trace = trace
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        self._retry = retry
        env = EnvironmentSettings.read() if trust_env else None
        self._env = env
        if cookie_jar is None:
            cookie_jar = CookieJar()
        self._cookie_jar = cookie_jar
        if cookies:
            cookie_jar.update_cookies(cookies)
        if connector is None:
            connector = TCPConnector(
                ssl_context=None if env is None else env.ssl_context,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
            )
            connector_owner = True
        self._connector: Connector = connector
        self._connector_owner = connector_owner
        self._closed = False

    # -- properties ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the session (or its connector) is closed."""
        return self._closed or self._connector.closed

    @property
    def connector(self) -> Connector:
        """The connector lending this session's connections."""
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        """The session's cookie jar."""
        return self._cookie_jar

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The headers every request sends (the defaults merged with the session's)."""
        return self._headers

    @property
    def timeout(self) -> ClientTimeout:
        """The session's default timeout."""
        return self._timeout

    @property
    def auth(self) -> BasicAuth | None:
        """The session's default Basic auth."""
        return self._auth

    @property
    def middlewares(self) -> tuple[Middleware, ...]:
        """The session's middlewares, outermost first."""
        return self._middlewares

    @property
    def trace(self) -> TraceHooks | None:
        """The session's trace hooks."""
        return self._trace

    @property
    def retry(self) -> RetryPolicy | None:
        """The session's retry policy, or ``None``."""
        return self._retry

    # -- requests ------------------------------------------------------------------------

    def request(
        self, method: str, url: StrOrURL, **kwargs: Unpack[RequestOptions]
    ) -> RequestContext:
        """Send a request; await the result for a :class:`ClientResponse`, or ``async with`` it.

        Args:
            method: Any method token, case-insensitive (``"get"`` is ``GET``).
            url: Absolute, or relative to the session's ``base_url``.
            **kwargs: ``params`` (dict, pairs, MultiDict or str, appended to the URL's
                query in order), ``data`` (dict or pairs: a form; str, bytes; a file
                object: streamed; ``FormData``/``MultipartWriter``; an async iterable of
                bytes: chunked; a ``StreamReader``), ``json`` (serialized with the session's
                ``json_serialize``), ``headers``, ``skip_auto_headers``, ``cookies`` (sent with
                this request only, not stored), ``auth`` (:class:`BasicAuth`),
                ``allow_redirects`` (default True), ``max_redirects``, ``timeout``,
                ``proxy``, ``proxy_auth``, ``ssl``, ``chunked``, ``expect100``,
                ``read_until_eof``, ``raise_for_status``, ``middlewares`` (run inside the
                session's), ``trace`` (replaces the session's hooks),
                ``on_upload_progress`` / ``on_download_progress`` (called with a
                :class:`Progress` at most every ``progress_interval`` seconds, 0.1 by
                default), ``retry`` (a :class:`RetryPolicy` replacing the session's;
                ``RetryPolicy(attempts=1)`` turns retries off for this request).

        Returns:
            A :class:`RequestContext` (a coroutine and an async context manager).

        Raises:
            ValueError: An invalid method; ``data`` and ``json`` together; ``auth`` and
                credentials in the URL together; CR, LF or NUL in a header.
            InvalidURL: The URL cannot be requested.
            ClientError: Any failure of the request (see the error tree); with a retry
                policy, the last attempt's error, its ``attempts`` attribute holding every
                :class:`Attempt`.
        """
        out: list[ClientResponse] = []
        return RequestContext(self._request(method, url, out, **kwargs), out)

    def get(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a GET request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("GET", url, out, **kwargs), out)

    def head(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a HEAD request; redirects are not followed unless ``allow_redirects=True``."""
        kwargs.setdefault("allow_redirects", False)
        out: list[ClientResponse] = []
        return RequestContext(self._request("HEAD", url, out, **kwargs), out)

    def options(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send an OPTIONS request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("OPTIONS", url, out, **kwargs), out)

    def post(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a POST request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("POST", url, out, **kwargs), out)

    def put(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a PUT request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("PUT", url, out, **kwargs), out)

    def patch(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a PATCH request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("PATCH", url, out, **kwargs), out)

    def delete(self, url: StrOrURL, **kwargs: Unpack[RequestOptions]) -> RequestContext:
        """Send a DELETE request (see :meth:`request`)."""
        out: list[ClientResponse] = []
        return RequestContext(self._request("DELETE", url, out, **kwargs), out)

    async def _request(
        self,
        method: str,
        str_or_url: StrOrURL,
        out: list[ClientResponse] | None = None,
        *,
        params: Params | None = None,
        data: object = None,
        json: object = None,
        headers: LooseHeaders | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        cookies: LooseCookies | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int | None = None,
        timeout: ClientTimeout | float | None = None,  # noqa: ASYNC109  # the API's name
        proxy: StrOrURL | None = None,
        proxy_auth: BasicAuth | None = None,
        ssl: SSLSetting = None,
        chunked: bool | None = None,
        expect100: bool = False,
        read_until_eof: bool = True,
        raise_for_status: bool | None = None,
        middlewares: Iterable[Middleware] | None = None,
        trace: TraceHooks | None = None,
        on_upload_progress: ProgressCallback | None = None,
        on_download_progress: ProgressCallback | None = None,
        progress_interval: float = DEFAULT_INTERVAL,
        retry: RetryPolicy | None = None,
    ) -> ClientResponse:
        if self._closed:
            raise RuntimeError(f"the session is closed: cannot send {method} {str_or_url}")
        try:
            method = METHODS[method]  # checked before: no call
        except (KeyError, TypeError):
            method = check_method(method)
        url = build_url(str_or_url, params, self._base_url)
        limits = self._timeout if timeout is None else as_timeout(timeout, self._timeout)

        # Credentials: in the URL, or auth=, or the session's; never two of them.
        if url.raw_user is not None:
            try:
                url_auth = BasicAuth.from_url(url)
            except ValueError as exc:
                raise InvalidURL(
                    url.with_user(None), f"invalid credentials in the URL: {exc}"
                ) from None
            if auth is not None:
                raise ValueError(
                    "credentials were given both in the URL and as auth=: pass only one"
                )
            auth = url_auth
            url = url.with_user(None)
        elif auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError(f"auth must be a BasicAuth, not {type(auth).__name__}")

        # Headers: the session's, the request's over them, then auth.
        sent: CIMultiDict[str] | CIMultiDictProxy[str] = self._headers
        given: CIMultiDict[str] | None = None
        if headers:
            given = check_headers(headers)
            if "Authorization" in given:
                if auth is not None:
                    raise ValueError(
                        "an Authorization header and auth= (or credentials in the URL) were "
                        "both given: pass only one"
                    )
                auth = None  # the request's own header wins over the session's auth
            elif auth is None:
                auth = self._auth
            sent = merge_headers(self._headers, given)
        elif auth is None:
            auth = self._auth
        skip: Collection[str]
        if skip_auto_headers:
            skip = {name.lower() for name in skip_auto_headers}
            sent = sent.copy()
            for name in skip:
                if given is None or name not in given:
                    sent.popall(name, None)
        else:
            skip = self._skip_auto_headers
        # .netrc: only for a request that has no other credentials, host by host.
        env = self._env
        use_netrc = (
            env is not None and auth is None and bool(env.netrc) and "Authorization" not in sent
        )
        if use_netrc:
            assert env is not None
            auth = env.netrc.for_host(url.raw_host)
        if auth is not None:
            sent = sent.copy()
            sent["Authorization"] = auth.encode()

        if data is None and json is None:
            body: RequestBody = None
        else:
            body, implied_type = make_body(
                data, json, self._json_serialize, sent.get("Content-Type")
            )
            if (
                implied_type is not None
                and "Content-Type" not in sent
                and "content-type" not in skip
            ):
                sent = sent.copy()
                sent["Content-Type"] = implied_type

        if on_upload_progress is not None and body is not None:
            body = ProgressBody(body, on_upload_progress, interval=progress_interval)

        # Middlewares and tracing: when neither is asked for, the loop below sends directly.
        chain = self._middlewares
        if middlewares is not None:
            chain = chain + as_middlewares(middlewares)
        hooks = self._trace if trace is None else trace
        if retry is None:
            retry = self._retry
        elif not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        # The debug line is written by the exchange of the chain's path.
        direct = (
            retry is None
            and not chain
            and hooks is None
            and not LOGGER.isEnabledFor(logging.DEBUG)
        )

        proxy_url = URL(proxy) if isinstance(proxy, str) else proxy
        # The environment's proxies: chosen again for each hop (NO_PROXY is per host).
        env_proxies: ProxySettings | None = None
        if (
            proxy_url is None
            and env is not None
            and env.proxies
            and not isinstance(self._connector, ProxyConnector)
        ):
            env_proxies = env.proxies

        request_cookies = _cookie_pairs(cookies) if cookies else None
        origin = url
        if limits.total is None:
            deadline = None
        else:
            deadline = asyncio.get_running_loop().time() + limits.total
        fast = deadline is None and limits.connect is None
        plan = None
        if not direct:
            plan = _Plan(
                chain,
                hooks,
                limits,
                deadline,
                read_until_eof,
                origin,
                request_cookies,
                retry,
            )
        redirects_left = self._max_redirects if max_redirects is None else max_redirects
        history: list[ClientResponse] | None = None
        jar = self._cookie_jar
        decode = self._auto_decompress
        connector = self._connector
        try:
            while True:
                hop_headers = sent
                if env_proxies is not None:
                    proxy_url = env_proxies.proxy_for(url)
                # The default jar's count says "empty" without a call (len() would purge).
                if direct and (request_cookies or (jar._count if type(jar) is CookieJar else jar)):
                    hop_headers = self._with_cookies(sent, url, origin, request_cookies)
                # Built as the tuple it is (the NamedTuple's own __new__ costs a Python
                # call per request); on the plain path it carries the hop's timings.
                recorder = None if plan is not None else TimingsRecorder(monotonic())
                outgoing = _new_request(
                    (
                        method,
                        url,
                        hop_headers,
                        body,
                        None,
                        chunked,
                        expect100,
                        decode,
                        limits.sock_connect,
                        limits.sock_read,
                        ssl,
                        proxy_url,
                        proxy_auth,
                        _CONTINUE_TIMEOUT,
                        recorder,
                    )
                )
                if plan is not None:
                    # Middlewares or tracing: what the chain returns (a middleware may have
                    # changed the method or URL: the redirect rules follow what was sent).
                    if plan.retry is None:
                        response = await self._send_hop(plan, outgoing)
                    else:
                        response = await self._retry_hop(plan, plan.retry, outgoing)
                    raw = response._raw
                    method, url = response.method, response.url
                else:
                    assert recorder is not None
                    if fast:
                        # The common case, inline: no deadline to watch over the awaits.
                        conn = await connector.acquire(outgoing)
                        recorder.acquired = monotonic()
                        try:
                            raw = await conn.send(outgoing)
                        except ClientConnectionError as exc:
                            if not may_retry(exc, outgoing):
                                raise
                            # The stale connection's facts are not this attempt's.
                            recorder = TimingsRecorder(monotonic())
                            outgoing = outgoing._replace(trace=recorder)
                            raw = await send(
                                connector, outgoing, limits, None, retry=False, recorder=recorder
                            )
                    else:
                        raw = await send(connector, outgoing, limits, deadline, recorder=recorder)
                    recorder.first_byte = monotonic()
                    if read_until_eof:
                        response = ClientResponse(
                            raw, outgoing.method, url, hop_headers, None, recorder
                        )
                    else:
                        response = self._response(raw, outgoing, read_until_eof, recorder)
                if deadline is not None:
                    response._watch_deadline(deadline, total_error(outgoing, limits))
                if direct:  # else each exchange of the chain stored its own
                    set_cookies = raw.head.headers.getall("Set-Cookie", None)
                    if set_cookies:
                        jar.update_cookies_from_headers(set_cookies, url)
                if not allow_redirects or response.status not in REDIRECT_STATUSES:
                    break
                location = raw.head.headers.get("Location")
                if location is None:
                    break
                if history is None:
                    history = []
                history.append(response)
                if redirects_left <= 0:
                    response.release()
                    raise TooManyRedirects(
                        response.request_info,
                        tuple(history),
                        max_redirects=self._max_redirects
                        if max_redirects is None
                        else max_redirects,
                    )
                redirects_left -= 1
                try:
                    hop = next_hop(response.status, method, url, location, sent)
                except InvalidURL:
                    response.release()
                    raise
                if hop.keep_body and not is_reusable(body):
                    response.release()
                    raise RedirectBodyError(
                        response.request_info,
                        tuple(history),
                        status=response.status,
                        headers=response.headers,
                        location=hop.url,
                    )
                if hooks is not None:
                    timings = response._timings
                    await emit(hooks, "redirect", method, url, timings, response=response)
                await drain(response, deadline, outgoing, limits)
                if not hop.keep_body:
                    body = None
                method, url, sent = hop.method, hop.url, hop.headers
                if use_netrc and not hop.same_origin:
                    # The redirect rules dropped the last origin's credentials; this host
                    # gets its own .netrc entry, if it has one.
                    assert env is not None
                    hop_auth = env.netrc.for_host(url.raw_host)
                    if hop_auth is not None:
                        sent = sent.copy()
                        sent["Authorization"] = hop_auth.encode()
        except BaseException:
            for previous in history or ():
                previous.release()
            raise
        if history:
            response.history = tuple(history)
        if on_download_progress is not None:
            self._start_download_progress(response, on_download_progress, progress_interval)
        if raise_for_status if raise_for_status is not None else self._raise_for_status:
            response.raise_for_status()
        if out is not None:
            out.append(response)  # for the RequestContext's exit
        return response

    async def _retry_hop(
        self, plan: _Plan, policy: RetryPolicy, outgoing: OutgoingRequest
    ) -> ClientResponse:
        """One hop under a retry policy: each attempt runs the whole chain (see
        :mod:`._middleware`), inside the ``total`` deadline."""
        last: ClientResponse | None = None
        hooks = plan.hooks

        async def attempt(number: int) -> ClientResponse:
            nonlocal last
            last = await self._send_hop(plan, outgoing)
            return last

        on_retry: Callable[[Attempt], Awaitable[None]] | None = None
        if hooks is not None and hooks.on_retry is not None:
            trace = hooks

            async def on_retry(attempt: Attempt) -> None:
                # A retried status has its response's timings; an error, none so far.
                recorder = None if attempt.error is not None or last is None else last._timings
                await emit(
                    trace,
                    "retry",
                    outgoing.method,
                    outgoing.url,
                    TimingsRecorder(monotonic()) if recorder is None else recorder,
                    error=attempt.error,
                    attempt=attempt,
                )

        response, _ = await run_with_retries(
            policy,
            outgoing.method,
            attempt,
            body_reusable=is_reusable(outgoing.body),
            deadline=plan.deadline,
            on_retry=on_retry,
        )
        return response

    async def _send_hop(self, plan: _Plan, outgoing: OutgoingRequest) -> ClientResponse:
        """One hop with middlewares or tracing: the chain around :meth:`_exchange`."""
        chain = plan.chain
        if not chain:
            return await self._exchange(plan, outgoing)

        async def send_request(request: ClientRequest) -> ClientResponse:
            sent = outgoing._replace(
                method=request.method, url=request.url, headers=request.headers, body=request.body
            )
            return await self._exchange(plan, sent)

        headers = outgoing.headers
        if not isinstance(headers, CIMultiDictProxy):
            assert isinstance(headers, CIMultiDict)
            headers = CIMultiDictProxy(headers)
        request = ClientRequest(outgoing.method, outgoing.url, headers, outgoing.body, plan.origin)
        response = await compose(chain, send_request)(request)
        if not isinstance(response, ClientResponse):
            raise TypeError(
                f"the middleware chain returned a {type(response).__name__}, not a "
                f"ClientResponse, for {outgoing.method} {outgoing.url.with_user(None)}"
            )
        return response

    async def _exchange(self, plan: _Plan, outgoing: OutgoingRequest) -> ClientResponse:
        """Send one request on the wire: its cookies, its timings and the hooks.

        Each request sent gets the jar's cookies for its URL, and each response's
        ``Set-Cookie`` goes into the jar, so that a request a middleware sends again (an
        authentication round) carries what the server set on the first answer.
        """
        method, url = outgoing.method, outgoing.url
        hooks, limits, request_cookies = plan.hooks, plan.limits, plan.request_cookies
        jar = self._cookie_jar
        if jar or request_cookies:
            headers = outgoing.headers
            assert isinstance(headers, (CIMultiDict, CIMultiDictProxy))
            outgoing = outgoing._replace(
                headers=self._with_cookies(headers, url, plan.origin, request_cookies)
            )
        recorder = TimingsRecorder(monotonic())
        outgoing = outgoing._replace(trace=recorder)  # the connection layer reports too
        if hooks is not None:
            await emit(hooks, "request_start", method, url, recorder)
        try:
            raw = await send(
                self._connector, outgoing, limits, plan.deadline, recorder=recorder, hooks=hooks
            )
        except Exception as exc:
            if hooks is not None:
                await emit(hooks, "request_exception", method, url, recorder, error=exc)
            if LOGGER.isEnabledFor(logging.DEBUG):
                log_request(method, url, recorder.snapshot(), error=exc)
            raise
        recorder.first_byte = monotonic()
        if plan.read_until_eof:
            headers = outgoing.headers
            assert isinstance(headers, (CIMultiDict, CIMultiDictProxy))
            response = ClientResponse(raw, method, url, headers, None, recorder)
        else:
            response = self._response(raw, outgoing, False, recorder)
        set_cookies = raw.head.headers.getall("Set-Cookie", None)
        if set_cookies:
            jar.update_cookies_from_headers(set_cookies, url)
        if LOGGER.isEnabledFor(logging.DEBUG):
            log_request(method, url, recorder.snapshot(), status=response.status)
        if hooks is not None:
            try:
                await emit(hooks, "request_end", method, url, recorder, response=response)
            except BaseException:
                response.close()
                raise
        return response

    @staticmethod
    def _start_download_progress(
        response: ClientResponse, callback: ProgressCallback, interval: float
    ) -> None:
        """Report the body's arrival; the total is Content-Length when the body is not
        decoded on the way (a decoded body's size is unknown until its end)."""
        head = response._raw.head
        total: int | None
        if response.method == "HEAD" or response.status in _NO_BODY_STATUSES:
            total = 0
        elif "Content-Encoding" in head.headers:
            total = None
        else:
            total = head.content_length
        progress = DownloadProgress(response.content, total, callback, interval=interval)
        progress.start()
        if progress.running:
            response._progress = progress  # the response makes the last report when done

    def _response(
        self,
        raw: RawResponse,
        outgoing: OutgoingRequest,
        read_until_eof: bool,
        timings: TimingsRecorder,
    ) -> ClientResponse:
        head = raw.head
        headers = outgoing.headers
        assert isinstance(headers, (CIMultiDict, CIMultiDictProxy))
        if (
            not read_until_eof
            and head.content_length is None
            and not head.chunked
            and outgoing.method != "HEAD"
            and head.status not in _NO_BODY_STATUSES
            and not raw.is_complete
        ):
            # A body without framing ends when the connection closes; the caller asked not
            # to wait for that: the body is empty and the connection cannot be reused.
            raw.close()
            return ClientResponse(
                raw, outgoing.method, outgoing.url, headers, EmptyStreamReader(), timings
            )
        return ClientResponse(raw, outgoing.method, outgoing.url, headers, None, timings)

    def _with_cookies(
        self,
        headers: CIMultiDict[str] | CIMultiDictProxy[str],
        url: URL,
        origin: URL,
        request_cookies: list[tuple[str, str]] | None,
    ) -> CIMultiDict[str] | CIMultiDictProxy[str]:
        """The headers with the Cookie field for *url*: the jar's, then the request's own.

        The request's own cookies go to the URL the request was made to (its origin) only,
        never to another origin a redirect leads to.
        """
        parts: list[str] = []
        jar = self._cookie_jar
        if jar:
            from_jar = jar.cookie_header(url)
            if from_jar:
                parts.append(from_jar)
        if request_cookies and (
            url.scheme == origin.scheme
            and url.raw_host == origin.raw_host
            and url.port == origin.port
        ):
            parts.extend(f"{name}={value}" for name, value in request_cookies)
        if not parts:
            return headers
        merged = headers.copy()
        given = merged.popall("Cookie", None)
        merged["Cookie"] = "; ".join([*(given or ()), *parts])
        return merged

    # -- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the session, and its connector when it owns it; idempotent.

        Returns once every socket the connector owned is closed.
        """
        if not self._closed:
            self._closed = True
            if self._connector_owner:
                await self._connector.close()
        elif self._closing is not None:
            await asyncio.shield(self._closing)

    def _close_soon(self) -> None:
        """Start closing the session from synchronous code; :meth:`close` waits for it.

        A one-shot ``request()``'s response calls it when it lets its connection go.
        """
        if self._closed:
            return
        self._closed = True
        if self._connector_owner:
            task = asyncio.get_running_loop().create_task(self._connector.close())
            self._closing = task
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(
                f"unclosed ClientSession created at {self._created_at}; "
                "use 'async with ClientSession() as session:' or 'await session.close()'",
                ResourceWarning,
                source=self,
            )

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ClientSession {state} connector={self._connector!r}>"
