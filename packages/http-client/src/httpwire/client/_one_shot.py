"""request() at module level: one request, with a connection of its own.

Strategy: each call runs a session of its own (its cookie jar gathers the cookies of its
redirect chain, nothing more), whose connector is a :class:`OneShotConnector`: the
connections it lends come from one force-close ``TCPConnector`` that every ``request()``
on the same event loop shares, and are closed, and waited for, when the call is done. A
connection is still never reused, but a call no longer builds (and closes) a connector,
its pool and its resolver, and host names are looked up once for the shared DNS cache's
time to live rather than at every call.

The shared connector lives as long as its loop (it is kept in a weak mapping keyed by
the loop) and is never closed: it holds no connection of its own, since each call closes
the connections it was lent, and a response dropped unreleased closes its own.
"""

from __future__ import annotations

import asyncio
import warnings
import weakref
from collections.abc import Callable
from typing import Unpack

from yarl import URL

from httpwire.connectors import (
    ClientConnectionError,
    Connection,
    Connector,
    OutgoingRequest,
    PoolStats,
    TCPConnector,
)

from ._request_context import RequestContext
from ._response import ClientResponse
from ._session import ClientSession, RequestOptions
from ._urls import StrOrURL

__all__ = ["OneShotConnector", "request"]

_CLOSE_WAIT = 5.0
"""The longest a call waits for its connections to be lost before aborting them."""


class _LoopConnector(TCPConnector):
    """The force-close connector the ``request()`` calls of one event loop share."""

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        # Never closed, and rightly: each call closed the connections it was lent (a
        # socket left open would warn by itself, through its transport).
        pass


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TCPConnector] = (
    weakref.WeakKeyDictionary()
)


def _shared_connector() -> TCPConnector:
    """The running loop's shared force-close connector, made at its first ``request()``."""
    loop = asyncio.get_running_loop()
    connector = _SHARED.get(loop)
    if connector is None:
        connector = _SHARED[loop] = _LoopConnector(force_close=True, limit=None, total_limit=None)
    return connector


class OneShotConnector:
    """The connector of one ``request()`` call: connections lent by a shared force-close
    connector, closed (and waited for) by :meth:`close`.

    Args:
        shared: The connector the connections come from; it must close each connection
            after its response (``force_close=True``), and is left open.
    """

    __slots__ = ("_closed", "_lent", "_shared")

    def __init__(self, shared: TCPConnector) -> None:
        self._shared = shared
        self._lent: list[Connection] = []
        self._closed = False

    async def acquire(self, request: OutgoingRequest) -> Connection:
        """A new connection from the shared connector, remembered for :meth:`close`.

        Raises:
            ClientConnectionError: The call is already done (:meth:`close` was called).
        """
        if self._closed:
            raise ClientConnectionError(
                f"cannot send {request.method} {request.url}: the request() call is done"
            )
        conn = await self._shared.acquire(request)
        self._lent.append(conn)
        return conn

    async def close(self) -> None:
        """Close every connection lent to this call; returns once each socket is closed
        (after at most a few seconds, the rest are aborted)."""
        self._closed = True
        lent = self._lent
        for conn in lent:
            conn.close("the request() call is done")
        if not lent:
            return
        # A plain socket is closed by the loop's next turn: a bare yield lets it happen
        # without a future or a timer, and the waits below then return at once.
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_WAIT
        for conn in lent:
            if not await conn.wait_closed(max(0.0, deadline - loop.time())):
                # A TLS peer that never answers our close_notify, or a stuck socket.
                transport = conn.transport
                if transport is not None:
                    transport.abort()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def stats(self, url: URL | str | None = None) -> PoolStats:
        """The shared connector's counts (every ``request()`` on this loop)."""
        return self._shared.stats(url)


def request(
    method: str,
    url: StrOrURL,
    *,
    connector: Connector | None = None,
    **kwargs: Unpack[RequestOptions],
) -> RequestContext:
    """Send one request without a session; await the result, or ``async with`` it.

    Without ``connector=`` the request gets a connection of its own, closed when the
    response is released, read to its end, or garbage-collected; nothing is pooled. With a
    connector, the connection comes from (and goes back to) its pool, and the connector is
    left open.

    Args:
        method: Any method token, case-insensitive (``"get"``).
        url: The absolute URL.
        connector: A connector to borrow the connection from.
        **kwargs: The keywords of :meth:`ClientSession.request`.

    Returns:
        A :class:`RequestContext`: a coroutine giving a :class:`ClientResponse`, and an async
        context manager releasing it.
    """
    out: list[ClientResponse] = []
    return RequestContext(_one_shot(method, url, connector, kwargs, out), out)


async def _one_shot(
    method: str,
    url: StrOrURL,
    connector: Connector | None,
    kwargs: RequestOptions,
    out: list[ClientResponse],
) -> ClientResponse:
    owned = connector is None
    session = ClientSession(
        connector=OneShotConnector(_shared_connector()) if connector is None else connector,
        connector_owner=owned,
    )
    try:
        response = await session._request(method, url, **kwargs)
    except BaseException:
        await asyncio.shield(session.close())
        raise
    if not owned:
        session._closed = True  # the connector stays open: nothing to close
    elif response.closed or response._has_whole_body():
        # The whole body is already in ``content`` (the usual small response): the
        # connection is done, so it closes now and the body stays readable.
        response.release()
        await session.close()
    else:
        response._attach_owner(session)
    out.append(response)
    return response
