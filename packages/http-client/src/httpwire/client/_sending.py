"""Getting a connection and sending one request under the deadlines, with the stale retry.

Strategy: the connector enforces ``sock_connect`` and ``sock_read`` itself; what is left to
the client is the two deadlines and the retry, and only requests that set a deadline come
here (the session sends the common request inline, with no timer at all).

* ``connect`` covers ``acquire()``: the wait for a pool slot and the connection. It runs as
  an ``asyncio.timeout_at`` around that one await, and ends as
  :class:`~httpwire.connectors.ConnectTimeoutError` (``phase="connect"``).
* ``total`` covers everything up to the response and, through a timer the session arms on
  the response, the reading of its body; it ends as
  :class:`~httpwire.connectors.TotalTimeoutError`. Whichever deadline comes first is the
  one that runs around ``acquire()``.
* A connection that failed before any byte of the response arrived, after having been
  reused from the pool (``is_stale_connection``), most likely met a server that closed it as
  the request went out: the request is sent once more on a new connection when its method
  is idempotent (RFC 9110 §9.2.2) and its body can be sent again; never otherwise.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import TYPE_CHECKING, Final

from httpwire.connectors import (
    ClientConnectionError,
    Connector,
    ConnectTimeoutError,
    HTTPConnection,
    OutgoingRequest,
    RawResponse,
    TotalTimeoutError,
)

from ._timeout import ClientTimeout
from ._tracing import emit_connection

if TYPE_CHECKING:
    from ._bodies import RequestBody
    from ._response import ClientResponse
    from ._tracing import TimingsRecorder, TraceHooks

__all__ = ["IDEMPOTENT", "drain", "is_reusable", "may_retry", "send", "total_error"]

IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
"""Methods a retry may repeat (RFC 9110 §9.2.2)."""


def is_reusable(body: RequestBody) -> bool:
    """True when the body can be sent again (none, bytes, or a reusable Body)."""
    return body is None or isinstance(body, bytes) or bool(getattr(body, "reusable", False))


def may_retry(exc: ClientConnectionError, outgoing: OutgoingRequest) -> bool:
    """True when a failed request may be sent once more on a new connection."""
    return exc.is_stale_connection and outgoing.method in IDEMPOTENT and is_reusable(outgoing.body)


def total_error(outgoing: OutgoingRequest, limits: ClientTimeout) -> TotalTimeoutError:
    """The error of a request that passed its ``total`` deadline."""
    url = outgoing.url
    shown = url.with_user(None) if url.raw_user is not None else url
    return TotalTimeoutError(
        f"{outgoing.method} {shown} took longer than its total timeout of "
        f"{limits.total} s (total timeout)",
        timeout=limits.total,
    )


async def acquire_in_time(
    connector: Connector, outgoing: OutgoingRequest, limits: ClientTimeout, deadline: float | None
) -> HTTPConnection:
    """``acquire`` under the ``connect`` deadline (pool wait included) and ``total``.

    Raises:
        ConnectTimeoutError: ``connect`` passed first (``phase="connect"``).
        TotalTimeoutError: ``total`` passed first.
    """
    if limits.connect is None and deadline is None:
        return await connector.acquire(outgoing)
    loop = asyncio.get_running_loop()
    connect_at = None if limits.connect is None else loop.time() + limits.connect
    if deadline is not None and (connect_at is None or deadline <= connect_at):
        limit_at, is_total = deadline, True
    else:
        assert connect_at is not None
        limit_at, is_total = connect_at, False
    conn: HTTPConnection | None = None
    try:
        async with asyncio.timeout_at(limit_at):
            conn = await connector.acquire(outgoing)
    except TimeoutError as exc:
        if isinstance(exc, ClientConnectionError):  # sock_connect: the connector's own
            raise
        if conn is not None:  # the deadline passed just as the connection came
            conn.release()
        if is_total:
            raise total_error(outgoing, limits) from exc
        url = outgoing.url
        raise ConnectTimeoutError(
            limits.connect,
            phase="connect",
            method=outgoing.method,
            url=url,
            host=url.host,
            port=url.port,
        ) from exc
    return conn


async def send(
    connector: Connector,
    outgoing: OutgoingRequest,
    limits: ClientTimeout,
    deadline: float | None,
    *,
    retry: bool = True,
    recorder: TimingsRecorder | None = None,
    hooks: TraceHooks | None = None,
) -> RawResponse:
    """Acquire a connection and send, under the deadlines; once more after a stale one.

    Args:
        connector: Lends the connection.
        outgoing: The request.
        limits: Its timeouts (``connect`` and ``total`` are enforced here).
        deadline: The loop time ``total`` ends at, or ``None``.
        retry: False when this is already the second attempt.
        recorder: Where to stamp the end of the pool wait.
        hooks: The trace hooks to tell about the connection once it is ready.

    Raises:
        ClientConnectionError: The request failed (and could not, or need not, be retried).
        TotalTimeoutError: The ``total`` deadline passed.
        ConnectTimeoutError: The ``connect`` deadline passed.
    """
    for attempt in (1, 2) if retry else (2,):
        conn = await acquire_in_time(connector, outgoing, limits, deadline)
        if recorder is not None:
            recorder.acquired = monotonic()
            if hooks is not None:
                try:
                    await emit_connection(hooks, outgoing.method, outgoing.url, recorder)
                except BaseException:
                    conn.release()  # not sent: the connection goes back unused
                    raise
        try:
            if deadline is None:
                return await conn.send(outgoing)
            try:
                async with asyncio.timeout_at(deadline):
                    return await conn.send(outgoing)
            except TimeoutError as exc:
                if isinstance(exc, ClientConnectionError):  # sock_read: the connection's own
                    raise
                raise total_error(outgoing, limits) from exc
        except ClientConnectionError as exc:
            if attempt == 1 and may_retry(exc, outgoing):
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


async def drain(
    response: ClientResponse,
    deadline: float | None,
    outgoing: OutgoingRequest,
    limits: ClientTimeout,
) -> None:
    """Release a redirect response, reading a small remainder so its connection stays.

    Raises:
        TotalTimeoutError: The ``total`` deadline passed while reading the remainder.
    """
    if deadline is None:
        await response._exit(True)
        return
    try:
        async with asyncio.timeout_at(deadline):
            await response._exit(True)
    except TimeoutError as exc:
        if isinstance(exc, ClientConnectionError):
            raise
        raise total_error(outgoing, limits) from exc
