"""Put a connector behind the ``Connector``/``HTTPConnection`` Protocols for the tests.

The connection layer implements the Protocols itself once it takes an ``OutgoingRequest``;
until then this adapter calls its keyword API with the request's fields. ``adapt`` returns
the connector unchanged when it already takes the request value.
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from httpwire.connectors import (
    Connector,
    HTTPConnection,
    OutgoingRequest,
    PoolStats,
    RawResponse,
    TCPConnector,
)


class _Connection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def send(self, request: OutgoingRequest) -> RawResponse:
        response: RawResponse = await self._conn.send(
            request.method,
            request.url,
            request.headers,
            request.body,
            target=request.target,
            sock_read=request.sock_read,
            chunked=request.chunked,
            expect_continue=request.expect_continue,
            decode=request.decode,
        )
        return response

    def release(self) -> None:
        self._conn.release()

    def close(self) -> None:
        self._conn.close()

    @property
    def is_closed(self) -> bool:
        return bool(self._conn.is_closed)


class _Connector:
    def __init__(self, inner: TCPConnector) -> None:
        self._inner = inner

    async def acquire(self, request: OutgoingRequest) -> HTTPConnection:
        inner: Any = self._inner
        conn = await inner.acquire(
            request.method,
            request.url,
            sock_connect=request.sock_connect,
            ssl=request.ssl,
            proxy=request.proxy,
            proxy_auth=request.proxy_auth,
        )
        return _Connection(conn)

    async def close(self) -> None:
        await self._inner.close()

    @property
    def closed(self) -> bool:
        return self._inner.closed

    def stats(self) -> PoolStats:
        return self._inner.stats()


def adapt(connector: TCPConnector) -> Connector:
    """The connector behind the Protocols (itself when it already implements them)."""
    params = list(inspect.signature(connector.acquire).parameters)
    if params and params[0] == "request":
        return cast(Connector, connector)
    return _Connector(connector)
