"""The client error tree: every error the connection layer raises, and its root.

Strategy: each error is built from keyword attributes (``host``, ``port``, ``method``,
``url``...) and composes its message once, in ``__init__``, so ``str(error)`` is cheap and
says what failed and where. The message is kept in ``args[0]``; the attributes live in the
instance ``__dict__``. Pickling goes through :func:`_rebuild`, which restores the message
and the attributes without calling ``__init__`` again, so an error crosses a process
boundary unchanged (including the ``errno``/``strerror`` of those that are ``OSError``\\ s).

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
from typing import Any, Literal

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
    return f" for {method or 'the request to'} {strip_userinfo(url)}"


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


def _rebuild(cls: type[ClientError], args: tuple[object, ...]) -> ClientError:
    """Unpickle an error without calling its ``__init__`` (the state is set afterwards)."""
    error = cls.__new__(cls)
    error.args = args
    return error


class ClientError(Exception):
    """The root of every error the httpwire client raises.

    Args:
        message: What failed and where.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        if isinstance(self, OSError):
            state["errno"] = self.errno
            state["strerror"] = self.strerror
        return (_rebuild, (type(self), self.args), state)


class ClientConnectionError(ClientError):
    """A connection could not be made, broke, or was refused by the connector.

    Args:
        message: What failed and where.
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
        self.method = method
        self.url = None if url is None else strip_userinfo(url)
        self.host = host
        self.port = port
        self.is_stale_connection = is_stale_connection


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
        message = (
            f"connection to {host_port(host, port)} failed while {during}"
            f"{_request(method, url)}: {_os_reason(os_error)}"
        )
        super().__init__(
            message,
            method=method,
            url=url,
            host=host,
            port=port,
            is_stale_connection=is_stale_connection,
        )
        self._set_os_error(os_error)

    def _set_os_error(self, os_error: BaseException | None) -> None:
        self.os_error = os_error
        if isinstance(os_error, OSError):
            self.errno = os_error.errno
            self.strerror = os_error.strerror


class ClientConnectorError(ClientOSError):
    """The connector could not open a connection to the endpoint.

    Args:
        host: The host (or Unix socket path) connected to.
        port: The port connected to (``None`` for a Unix socket).
        os_error: The error of the last address tried.
        method: The request method the connection was for.
        url: The request URL the connection was for.
        reason: A reason to show instead of the OS error's (used by subclasses).
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
        message = (
            f"cannot connect to {host_port(host, port)}{_request(method, url)}: "
            f"{reason if reason is not None else _os_reason(os_error)}"
        )
        ClientConnectionError.__init__(self, message, method=method, url=url, host=host, port=port)
        self._set_os_error(os_error)


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
        shown = f"certificate verification failed: {reason or _os_reason(os_error)}"
        if trust_store:
            shown += f" ({trust_store})"
        super().__init__(host, port, os_error, method=method, url=url, reason=shown)
        self.reason = reason
        self.trust_store = trust_store


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
        where = host_port(host, port)
        if stage == "response":
            what = "before sending any response"
        elif stage == "head":
            what = "in the middle of the response head"
        elif expected is not None:
            what = f"after {received or 0} of {expected} body bytes"
        else:
            what = f"after {received or 0} body bytes, before the end of the chunked body"
        note = " (the pooled connection had gone stale)" if is_stale_connection else ""
        message = f"server {where} disconnected {what}{_request(method, url)}{note}"
        super().__init__(
            message,
            method=method,
            url=url,
            host=host,
            port=port,
            is_stale_connection=is_stale_connection,
        )
        self.stage = stage
        self.received = received
        self.expected = expected


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
        message = (
            f"server {host_port(host, port)} sent an invalid response{_request(method, url)}: "
            f"{reason}"
        )
        super().__init__(message, method=method, url=url, host=host, port=port)
        self.reason = reason


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
        message = (
            f"certificate of {host_port(host, port)} does not match the pinned fingerprint"
            f"{_request(method, url)}: expected {expected.hex()}, got {got.hex()}"
        )
        super().__init__(message, method=method, url=url, host=host, port=port)
        self.expected = expected
        self.got = got


class ClientProxyError(ClientConnectionError):
    """The proxy refused the request or the CONNECT tunnel.

    Args:
        proxy: The proxy's URL (credentials are never shown).
        status: The status the proxy answered with.
        reason: The proxy's reason phrase.
        method: The request method.
        url: The request URL.
    """

    def __init__(
        self,
        proxy: URL | None = None,
        status: int | None = None,
        reason: str = "",
        *,
        method: str | None = None,
        url: URL | None = None,
    ) -> None:
        shown = proxy.with_user(None) if proxy is not None else "the proxy"
        answer = (
            f"{status} {bounded_repr(reason)[1:-1]}".rstrip() if status is not None else reason
        )
        message = f"proxy {shown} refused{_request(method, url)}: {answer}"
        super().__init__(
            message,
            method=method,
            url=url,
            host=proxy.host if proxy is not None else None,
            port=proxy.port if proxy is not None else None,
        )
        self.proxy = proxy
        self.status = status
        self.reason = reason


class ClientPayloadError(ClientError):
    """A body was malformed: bad chunked framing, undecodable content coding, or cut short.

    Args:
        message: What was wrong and where.
        method: The request method.
        url: The request URL.
    """

    def __init__(
        self, message: str = "", *, method: str | None = None, url: URL | None = None
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = None if url is None else strip_userinfo(url)


class ClientTimeoutError(ClientError, asyncio.TimeoutError):
    """The root of the client's timeouts; also an ``asyncio.TimeoutError``.

    Args:
        message: What timed out, after how long, and where.
        timeout: The limit that expired, in seconds.
    """

    def __init__(self, message: str = "", *, timeout: float | None = None) -> None:
        ClientError.__init__(self, message)
        self.timeout = timeout

    def __str__(self) -> str:
        # TimeoutError is an OSError on 3.11+: print the message, never "[Errno ...]".
        return str(self.args[0]) if self.args else ""


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
        doing = "connecting to" if phase == "sock_connect" else "getting a connection to"
        message = (
            f"timed out after {timeout} s {doing} {host_port(host, port)}{_request(method, url)} "
            f"({phase} timeout)"
        )
        ClientConnectionError.__init__(self, message, method=method, url=url, host=host, port=port)
        self.timeout = timeout
        self.phase = phase


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
        message = (
            f"no bytes received from {host_port(host, port)} for {timeout} s while waiting for "
            f"{waiting_for}{_request(method, url)} (sock_read timeout)"
        )
        ClientConnectionError.__init__(self, message, method=method, url=url, host=host, port=port)
        self.timeout = timeout
        self.waiting_for = waiting_for
