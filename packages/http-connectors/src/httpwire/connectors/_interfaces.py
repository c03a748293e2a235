"""The seam between the connection layer and the client: one request value, two Protocols.

Strategy: what crosses from ``httpwire.client`` to this package is written as types, so
the client can be typed (and tested) against an interface rather than against concrete
classes, and so a new per-request option is one field here instead of a keyword threaded
through two signatures in two files.

* :class:`OutgoingRequest` is the whole request as the client built it: method and URL
  (given once), headers, body and every per-request option. The connector reads the route
  fields (URL, ``ssl``, ``proxy``, ``proxy_auth``, ``sock_connect``) to pick or open a
  connection; the connection reads the rest to send it.
* :class:`Connector` lends connections; :class:`HTTPConnection` sends one request per loan
  and is then released (given back unused) or closed. The response it returns is a
  :class:`~httpwire.connectors.RawResponse`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

from yarl import URL

from httpwire.streams import Body

from ._auth import BasicAuth
from ._exchange import RawResponse
from ._pool import PoolStats
from ._request import Headers
from ._tls import SSLSetting

__all__ = ["ConnectionTrace", "Connector", "HTTPConnection", "OutgoingRequest"]


class ConnectionTrace(Protocol):
    """Where a connector reports how one request got its connection, when asked to.

    Set as :attr:`OutgoingRequest.trace` (the client's timings recorder implements it);
    with ``None``, the default, nothing is measured or called. Times are
    ``time.monotonic()`` seconds. Called synchronously, from the request's task.
    """

    def on_phase(self, phase: Literal["dns", "connect", "tls"], start: float, end: float) -> None:
        """A phase of opening a new connection ended: name resolution, the TCP (or Unix)
        connect, the TLS handshake (through a proxy: to the proxy, then the tunnel's TLS)."""
        ...

    def on_connection(self, reused: bool, local: object, remote: object) -> None:
        """The connection is ready for the request: reused from the pool or new, with the
        socket's local and remote addresses (``getsockname()``/``getpeername()`` forms)."""
        ...

    def on_request_sent(self, at: float) -> None:
        """The whole request (head and body) was handed to the transport."""
        ...


class OutgoingRequest(NamedTuple):
    """One request, as the client hands it to a connector and then to a connection.

    A ``NamedTuple``: immutable, built without a Python-level ``__init__`` per field (it is
    made once per request and per redirect hop), and copied with ``_replace()``.

    Attributes:
        method: The request method, upper case (``"GET"``).
        url: The request URL, encoded; its scheme, host and port pick the endpoint, its
            path and query make the request-target.
        headers: The request's fields in order (a ``CIMultiDict`` or any mapping).
            ``Host`` is added from the URL when absent; the body's framing
            (``Content-Length`` or ``Transfer-Encoding: chunked``) when the caller set
            neither. Framing fields that contradict the body are a ``ValueError``.
        body: ``bytes``, a :class:`~httpwire.streams.Body` (streamed with back-pressure),
            or ``None`` for no body.
        target: A request-target to send instead of the URL's path and query (``*`` for
            ``OPTIONS *``); the absolute form through a proxy is added by the connection.
        chunked: Force (True) or forbid (False) chunked framing; by default chunked only
            when the body's size is unknown.
        expect_continue: Send ``Expect: 100-continue`` and hold the body until
            ``100 Continue`` arrives (or a bounded wait ends, RFC 9110 §10.1.1).
        decode: Undo the response's content codings into the body stream.
        sock_connect: Seconds one connection attempt may take, TLS handshake included.
        sock_read: Seconds without a byte from the server before ``ReadTimeoutError``.
        ssl: This request's TLS settings over the connector's (see ``SSLSetting``).
        proxy: An ``http://``, ``socks5://`` or ``socks5h://`` proxy to go through
            (credentials may be in its URL).
        proxy_auth: The proxy's credentials, when not in its URL.
        expect_continue_timeout: With ``expect_continue``, the most seconds to wait for
            ``100 Continue`` before sending the body anyway: a server that ignores the
            expectation never answers it, and a client should not wait indefinitely
            (RFC 9110 §10.1.1). One second by default, as curl does.
        trace: Where to report the connection's phases, addresses and the end of the
            request's sending (:class:`ConnectionTrace`); ``None``: nothing is measured.
    """

    method: str
    url: URL
    headers: Headers = {}  # noqa: RUF012  # a NamedTuple default: never mutated
    body: Body | bytes | None = None
    target: str | None = None
    chunked: bool | None = None
    expect_continue: bool = False
    decode: bool = False
    sock_connect: float | None = None
    sock_read: float | None = None
    ssl: SSLSetting | bytes = None
    proxy: URL | None = None
    proxy_auth: BasicAuth | None = None
    expect_continue_timeout: float = 1.0
    trace: ConnectionTrace | None = None


class HTTPConnection(Protocol):
    """A connection lent by a :class:`Connector`: one request per loan.

    After :meth:`send` the connection belongs to the response: it goes back to the pool by
    itself once the whole body has arrived, and the response's ``release()``/``close()``
    decide its fate otherwise. Without a ``send``, give it back with :meth:`release`.
    """

    async def send(self, request: OutgoingRequest) -> RawResponse:
        """Send the request and wait for the final response head."""
        ...

    def release(self) -> None:
        """Give the connection back to its pool without having sent a request."""
        ...

    def close(self) -> None:
        """Close the connection; its slot in the pool is freed."""
        ...

    @property
    def is_closed(self) -> bool:
        """True once the connection is closed (by either side)."""
        ...


class Connector(Protocol):
    """What lends connections to the client: a pool of them, with its limits."""

    async def acquire(self, request: OutgoingRequest) -> HTTPConnection:
        """A connection to the request's endpoint: idle, or new once the limits allow."""
        ...

    async def close(self) -> None:
        """Close every connection; returns once every socket is closed."""
        ...

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        ...

    def stats(self, url: URL | str | None = None) -> PoolStats:
        """Counts of the pool (or of one endpoint's part of it): connecting, in use, idle,
        waiting; for dashboards and tests."""
        ...
