"""The client error tree: every error the connection layer raises, and its root.

Strategy: an error is raised with the facts its raiser knows, and renders its message
from them when it is printed. Code deep in the connection layer (Happy Eyeballs, TLS, a
proxy handshake) knows the endpoint (``host``, ``port``), what it was doing and what the
operating system said; it does not know the request, and is not handed it. The one place
that does (the connector's ``acquire``, the exchange on a connection) attaches it once with
:meth:`ClientConnectionError.with_request`, and the message then names it too. So every
class takes its own facts, positionally as it always has, then the same keyword context:
``host``, ``port``, ``method``, ``url`` (and ``is_stale_connection`` where a retry may follow).

The message is ``str(error)``, computed from the attributes each time; ``args`` is
``(str(error),)`` for code that reads it. A URL is kept and shown without its userinfo,
and no message quotes a credential. Pickling restores the instance ``__dict__`` without
calling ``__init__`` (:func:`_rebuild`), so an error crosses a process boundary with its
attributes and message unchanged (including the ``errno``/``strerror`` of those that are
``OSError``\\ s).

The tree::

    ClientError
    ├── ClientConnectionError
    │   ├── ClientOSError (also OSError)
    │   │   └── ClientConnectorError
    │   │       ├── ClientProxyConnectionError
    │   │       └── ClientSSLError
    │   │           └── ClientConnectorCertificateError
    │   ├── ServerConnectionError
    │   │   ├── ServerDisconnectedError
    │   │   ├── BadResponseError
    │   │   └── FingerprintMismatch
    │   ├── ClientProxyError
    │   ├── ConnectTimeoutError (also ClientTimeoutError)
    │   └── ReadTimeoutError (also ClientTimeoutError)
    ├── ClientPayloadError
    └── ClientTimeoutError (also asyncio.TimeoutError)
        └── TotalTimeoutError
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Literal, Self

from yarl import URL

from ._util import bounded_repr, host_port, strip_userinfo

__all__ = [
    "BadResponseError",
    "ClientConnectionError",
    "ClientConnectorCertificateError",
    "ClientConnectorError",
    "ClientError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientProxyError",
    "ClientSSLError",
    "ClientTimeoutError",
    "ConnectTimeoutError",
    "FingerprintMismatch",
    "ReadTimeoutError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "TotalTimeoutError",
]


def _request(method: str | None, url: URL | None) -> str:
    if method is None and url is None:
        return ""
    if url is None:
        return f" for {method}"
    return f" for {method or 'the request to'} {url}"


def _os_reason(os_error: BaseException | None) -> str:
    if os_error is None:
        return "unknown error"
    if isinstance(os_error, socket.gaierror):
        # getaddrinfo's codes are not errnos: os.strerror(-2) is "Unknown error -2".
        return f"{os_error.strerror or os_error} (getaddrinfo error {os_error.errno})"
    if isinstance(os_error, OSError) and (os_error.strerror or os_error.errno):
        text = os_error.strerror or ""
        if os_error.errno is not None:
            # asyncio words connect errors as "Connect call failed (addr)"; the errno's own
            # text says what happened.
            text = f"{os.strerror(os_error.errno)} (errno {os_error.errno})"
        return text
    return str(os_error) or type(os_error).__name__


def _rebuild(cls: type[ClientError], args: tuple[object, ...] = ()) -> ClientError:
    """Unpickle an error without calling its ``__init__`` (the state is set afterwards).

    ``args`` is only read from pickles of releases that kept the message there.
    """
    error = cls.__new__(cls)
    if args:
        error.message = str(args[0])
    return error


class ClientError(Exception):
    """The root of every error the httpwire client raises.

    ``str(error)`` is the message, rendered from the error's attributes; ``args`` is
    ``(str(error),)``.

    Args:
        message: What failed and where.
    """

    message: str = ""

    def __init__(self, message: str = "") -> None:
        super().__init__()
        self.message = message

    def __str__(self) -> str:
        # ClientError precedes OSError (TimeoutError is one) in every MRO of the tree, so
        # this is what prints, never OSError's "[Errno ...]".
        fixed: str | None = self.__dict__.get("_fixed")
        return self._render() if fixed is None else fixed

    def _render(self) -> str:
        """The message, from the attributes; each class words its own."""
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @property
    def args(self) -> tuple[str, ...]:
        """``(str(error),)``, for code that reads ``args[0]``.

        Assigning ``args`` fixes the message to ``args[0]`` (for subclasses that word
        their message that way); it is rendered from the attributes otherwise.
        """
        return (str(self),)

    @args.setter
    def args(self, value: tuple[object, ...]) -> None:
        self._fixed = str(value[0]) if value else ""

    def __reduce__(self) -> tuple[object, ...]:
        state = dict(self.__dict__)
        if isinstance(self, OSError):
            state["errno"] = self.errno
            state["strerror"] = self.strerror
        return (_rebuild, (type(self),), state)


class _RequestContext:
    """Where an error happened: the endpoint, and the request once it is known.

    Shared by the two branches raised on a connection (:class:`ClientConnectionError` and
    :class:`ClientPayloadError`), so that one boundary can name the request on either.
    """

    method: str | None = None
    url: URL | None = None
    host: str | None = None
    port: int | None = None

    def _locate(
        self, host: str | None, port: int | None, method: str | None, url: URL | None
    ) -> None:
        self.host = host
        self.port = port
        self.method = method
        self.url = None if url is None else strip_userinfo(url)

    def with_request(self, method: str, url: URL) -> Self:
        """Name the request this error belongs to; the message names it from then on.

        Called once, by the code that knows the request (the connector's ``acquire``, the
        exchange on a connection), on errors raised below it with only the endpoint::

            except (ClientConnectionError, ClientPayloadError) as exc:
                exc.with_request(request.method, request.url)
                raise

        A request already named (by the raiser, or by an inner boundary) is kept; a part
        of it that is missing (the URL of an error raised with the method only) is filled.

        Args:
            method: The request method.
            url: The request URL; kept and shown without its userinfo.

        Returns:
            The same error, so that ``raise error.with_request(method, url)`` works.
        """
        if self.method is None:
            self.method = method
        if self.url is None:
            self.url = strip_userinfo(url)
        return self

    def _for(self) -> str:
        """The suffix " for METHOD URL", or nothing while the request is not known."""
        return _request(self.method, self.url)

    def _text_for(self, text: str) -> str:
        """A free-text message with the request appended, unless it already names it."""
        url = self.url
        if url is None or str(url) in text:
            return text
        return text + self._for()


class ClientConnectionError(ClientError, _RequestContext):
    """A connection could not be made, broke, or was refused by the connector.

    Args:
        message: What failed. Once the request is known (given here or attached with
            :meth:`with_request`), " for METHOD URL" is appended, unless the message
            already shows the URL.
        method: The request method, when the failure belongs to a request.
        url: The request URL, when the failure belongs to a request.
        host: The host of the endpoint (or a Unix socket path).
        port: The port of the endpoint (``None`` for a Unix socket).
        is_stale_connection: True when the connection was reused from the pool and failed
            before any byte of the response arrived: the server most likely closed it while
            it sat idle, so the request may be retried once on a new connection, provided it
            is idempotent and its body can be sent again.
    """

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
        is_stale_connection: bool = False,
    ) -> None:
        super().__init__(message)
        self._locate(host, port, method, url)
        self.is_stale_connection = is_stale_connection

    def _render(self) -> str:
        return self._text_for(self.message)


class ClientOSError(ClientConnectionError, OSError):
    """An operating-system error on an open connection (reset, broken pipe...).

    Args:
        os_error: The error the operating system reported.
        during: What the connection was doing, e.g. ``"sending the request"``.
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
        is_stale_connection: See :class:`ClientConnectionError`.
    """

    def __init__(
        self,
        os_error: BaseException | None = None,
        *,
        during: str = "using the connection",
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
        is_stale_connection: bool = False,
    ) -> None:
        super().__init__(
            method=method,
            url=url,
            host=host,
            port=port,
            is_stale_connection=is_stale_connection,
        )
        self.during = during
        self.os_error = os_error
        if isinstance(os_error, OSError):
            self.errno = os_error.errno
            self.strerror = os_error.strerror

    def _render(self) -> str:
        return (
            f"connection to {host_port(self.host, self.port)} failed while {self.during}"
            f"{self._for()}: {_os_reason(self.os_error)}"
        )


class ClientConnectorError(ClientOSError):
    """The connector could not open a connection to the endpoint.

    Args:
        host: The host (or Unix socket path) connected to.
        port: The port connected to (``None`` for a Unix socket).
        os_error: The error of the last address tried.
        method: The request method the connection was for.
        url: The request URL the connection was for.
        reason: A reason to show instead of the OS error's (e.g. the failure of each
            address); it is shown as given, so it must not quote a secret.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        os_error: BaseException | None = None,
        *,
        method: str | None = None,
        url: URL | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(
            os_error, during="connecting", method=method, url=url, host=host, port=port
        )
        self.reason = reason

    def _detail(self) -> str:
        """What went wrong, after the endpoint and the request."""
        reason = self.reason
        return reason if reason is not None else _os_reason(self.os_error)

    def _render(self) -> str:
        return (
            f"cannot connect to {host_port(self.host, self.port)}{self._for()}: {self._detail()}"
        )


class ClientProxyConnectionError(ClientConnectorError):
    """The connector could not open a connection to the proxy."""


class ClientSSLError(ClientConnectorError):
    """The TLS handshake with the endpoint failed."""


class ClientConnectorCertificateError(ClientSSLError):
    """The endpoint's certificate failed verification.

    Args:
        host: The host connected to.
        port: The port connected to.
        reason: The ``ssl`` module's verification message.
        trust_store: A description of the trust store used and how to change it.
        os_error: The ``ssl.SSLCertVerificationError`` raised by the handshake.
        method: The request method.
        url: The request URL.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        reason: str = "",
        trust_store: str = "",
        os_error: BaseException | None = None,
        *,
        method: str | None = None,
        url: URL | None = None,
    ) -> None:
        super().__init__(host, port, os_error, method=method, url=url, reason=reason)
        self.trust_store = trust_store

    def _detail(self) -> str:
        shown = f"certificate verification failed: {self.reason or _os_reason(self.os_error)}"
        return f"{shown} ({self.trust_store})" if self.trust_store else shown


class ServerConnectionError(ClientConnectionError):
    """The server broke the exchange: closed early, answered nonsense, or is not who we pin."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete.

    Args:
        stage: ``"response"`` when no byte of a response had arrived, ``"head"`` when the
            head was cut short, ``"body"`` when the body was.
        received: The body bytes received (for ``"body"``).
        expected: The body bytes announced by Content-Length, when known.
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
        is_stale_connection: See :class:`ClientConnectionError`.
    """

    def __init__(
        self,
        stage: Literal["response", "head", "body"] = "response",
        *,
        received: int | None = None,
        expected: int | None = None,
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
        is_stale_connection: bool = False,
    ) -> None:
        super().__init__(
            method=method,
            url=url,
            host=host,
            port=port,
            is_stale_connection=is_stale_connection,
        )
        self.stage = stage
        self.received = received
        self.expected = expected

    def _render(self) -> str:
        stage, received, expected = self.stage, self.received, self.expected
        if stage == "response":
            what = "before sending any response"
        elif stage == "head":
            what = "in the middle of the response head"
        elif expected is not None:
            what = f"after {received or 0} of {expected} body bytes"
        else:
            what = f"after {received or 0} body bytes, before the end of the chunked body"
        note = " (the pooled connection had gone stale)" if self.is_stale_connection else ""
        return f"server {host_port(self.host, self.port)} disconnected {what}{self._for()}{note}"


class BadResponseError(ServerConnectionError):
    """The server's response head broke HTTP/1.1's rules and could not be parsed.

    Args:
        reason: The parser's message (it quotes the offending line and the rule).
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
    """

    def __init__(
        self,
        reason: str = "",
        *,
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(method=method, url=url, host=host, port=port)
        self.reason = reason

    def _render(self) -> str:
        return (
            f"server {host_port(self.host, self.port)} sent an invalid response{self._for()}: "
            f"{self.reason}"
        )


class FingerprintMismatch(ServerConnectionError):
    """The server's certificate does not have the pinned fingerprint.

    Args:
        expected: The pinned digest.
        got: The digest of the certificate the server presented.
        host: The endpoint's host.
        port: The endpoint's port.
        method: The request method.
        url: The request URL.
    """

    def __init__(
        self,
        expected: bytes = b"",
        got: bytes = b"",
        host: str | None = None,
        port: int | None = None,
        *,
        method: str | None = None,
        url: URL | None = None,
    ) -> None:
        super().__init__(method=method, url=url, host=host, port=port)
        self.expected = expected
        self.got = got

    def _render(self) -> str:
        return (
            f"certificate of {host_port(self.host, self.port)} does not match the pinned "
            f"fingerprint{self._for()}: expected {self.expected.hex()}, got {self.got.hex()}"
        )


class ClientProxyError(ClientConnectionError):
    """The proxy refused the request or the CONNECT tunnel, or answered it wrongly.

    Args:
        proxy: The proxy's URL; kept and shown without its credentials.
        status: The status the proxy refused with; ``None`` when its answer was invalid.
        reason: The proxy's reason phrase, or what was wrong with its answer.
        method: The request method.
        url: The request URL.

    Attributes:
        refused: True when the proxy said no (a status); False when its answer broke the
            protocol, and the message says so instead of "refused".
    """

    _invalid = "sent an invalid answer"

    def __init__(
        self,
        proxy: URL | None = None,
        status: int | None = None,
        reason: str = "",
        *,
        method: str | None = None,
        url: URL | None = None,
    ) -> None:
        shown = None if proxy is None else strip_userinfo(proxy)
        super().__init__(
            method=method,
            url=url,
            host=None if shown is None else shown.host,
            port=None if shown is None else shown.port,
        )
        self.proxy = shown
        self.status = status
        self.reason = reason
        self.refused = status is not None

    def _render(self) -> str:
        proxy = "the proxy" if self.proxy is None else str(self.proxy)
        status = self.status
        if status is not None:
            answer = f"{status} {bounded_repr(self.reason)[1:-1]}".rstrip()
        else:
            answer = self.reason
        did = "refused" if self.refused else self._invalid
        return f"proxy {proxy} {did}{self._for()}: {answer}"


class ClientPayloadError(ClientError, _RequestContext):
    """A body was malformed: bad chunked framing, undecodable content coding, or cut short.

    Args:
        message: What was wrong and where. Once the request is known, " for METHOD URL"
            is appended, unless the message already shows the URL.
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
    """

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(message)
        self._locate(host, port, method, url)

    def _render(self) -> str:
        return self._text_for(self.message)


class ClientTimeoutError(ClientError, asyncio.TimeoutError):
    """The root of the client's timeouts; also an ``asyncio.TimeoutError``.

    Args:
        message: What timed out, after how long, and where.
        timeout: The limit that expired, in seconds.
    """

    def __init__(self, message: str = "", *, timeout: float | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout


class TotalTimeoutError(ClientTimeoutError):
    """A request took longer than its ``total`` deadline (raised by the client)."""


class ConnectTimeoutError(ClientTimeoutError, ClientConnectionError):
    """Connecting (``sock_connect``), or waiting for a connection (``connect``), took too long.

    Args:
        timeout: The limit in seconds.
        phase: ``"sock_connect"`` for one socket's connection, ``"connect"`` for the
            client's deadline that includes waiting for a pool slot.
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
    """

    def __init__(
        self,
        timeout: float | None = None,
        *,
        phase: Literal["sock_connect", "connect"] = "sock_connect",
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self._locate(host, port, method, url)
        self.phase = phase

    def _render(self) -> str:
        doing = "connecting to" if self.phase == "sock_connect" else "getting a connection to"
        return (
            f"timed out after {self.timeout} s {doing} {host_port(self.host, self.port)}"
            f"{self._for()} ({self.phase} timeout)"
        )


class ReadTimeoutError(ClientTimeoutError, ServerConnectionError):
    """No byte arrived from the server for ``sock_read`` seconds.

    Args:
        timeout: The limit in seconds.
        waiting_for: What was awaited: ``"the response head"`` or ``"the response body"``.
        method: The request method.
        url: The request URL.
        host: The endpoint's host.
        port: The endpoint's port.
    """

    def __init__(
        self,
        timeout: float | None = None,
        *,
        waiting_for: str = "the response",
        method: str | None = None,
        url: URL | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self._locate(host, port, method, url)
        self.waiting_for = waiting_for

    def _render(self) -> str:
        return (
            f"no bytes received from {host_port(self.host, self.port)} for {self.timeout} s "
            f"while waiting for {self.waiting_for}{self._for()} (sock_read timeout)"
        )
