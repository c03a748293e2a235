"""httpwire's two contenders: the ``ClientSession`` façade and the connection level.

Strategy: the session is driven exactly as the user guide shows (``async with
session.get(url) as r: await r.read()``) over a ``TCPConnector(limit=...)``. The client
package is younger than this benchmark, so it is imported through ``importlib`` (``Any``)
and reported "not available" while ``httpwire.client`` has no ``ClientSession``. The
connection level drives the connector directly, as the client does inside: one
``OutgoingRequest`` per request (built per request, as a client builds it), ``acquire``,
``send``, read the body's ``StreamReader``, ``release``.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

from yarl import URL

from httpwire.connectors import OutgoingRequest, TCPConnector
from httpwire.forms import FilePayload

from ._adapter import Adapter, Pool, Unavailable, import_optional

__all__ = ["HttpwireConnAdapter", "HttpwireSessionAdapter", "client_module"]

_HEADERS = {"User-Agent": "bench", "Accept": "*/*"}


def _context(pool: Pool) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=pool.ca_pem) if pool.ca_pem else None


def client_module() -> Any:
    """``httpwire.client``, once it has its ``ClientSession``; else ``Unavailable``."""
    client = import_optional("httpwire.client")
    missing = [n for n in ("ClientSession", "TCPConnector", "request") if not hasattr(client, n)]
    if missing:
        raise Unavailable(
            f"httpwire.client {getattr(client, '__version__', '?')} has no "
            f"{', '.join(missing)} yet"
        )
    return client


class HttpwireSessionAdapter(Adapter):
    """``httpwire.client.ClientSession`` over a ``TCPConnector``."""

    def __init__(self) -> None:
        self._client: Any = None
        self._session: Any = None

    async def open(self, pool: Pool) -> None:
        """A session whose connector holds ``pool.limit`` connections."""
        self._client = client = client_module()
        connector = client.TCPConnector(
            limit=pool.limit,
            total_limit=pool.limit,
            ssl_context=_context(pool),
            force_close=not pool.keepalive,
        )
        self._session = client.ClientSession(connector=connector)

    async def close(self) -> None:
        """Close the session (and its connector)."""
        await self._session.close()

    async def get(self, url: str) -> bytes:
        """``async with session.get(url) as r: await r.read()``."""
        async with self._session.get(url) as response:
            body: bytes = await response.read()
        return body

    async def get_json(self, url: str) -> object:
        """``await r.json()``."""
        async with self._session.get(url) as response:
            return await response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``r.content.iter_chunked(chunk)``."""
        total = 0
        async with self._session.get(url) as response:
            async for piece in response.content.iter_chunked(chunk):
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``session.post(url, data=data)``."""
        async with self._session.post(url, data=data) as response:
            body: bytes = await response.read()
        return body

    async def upload_file(self, url: str, path: str) -> bytes:
        """``session.post(url, data=open(path, "rb"))``: streamed, never read whole."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            async with self._session.post(url, data=file) as response:
                body: bytes = await response.read()
        return body

    async def oneshot(self, url: str) -> bytes:
        """``async with httpwire.client.request("GET", url) as r: await r.read()``."""
        async with client_module().request("GET", url) as response:
            body: bytes = await response.read()
        return body


class HttpwireConnAdapter(Adapter):
    """``httpwire.connectors.TCPConnector`` driven directly: acquire, send, read, release."""

    def __init__(self) -> None:
        self._connector: TCPConnector | None = None
        self._urls: dict[str, URL] = {}

    async def open(self, pool: Pool) -> None:
        """A connector of ``pool.limit`` connections."""
        self._connector = TCPConnector(
            limit=pool.limit,
            total_limit=pool.limit,
            ssl_context=_context(pool),
            force_close=not pool.keepalive,
        )

    async def close(self) -> None:
        """Close the connector and its connections."""
        if self._connector is not None:
            await self._connector.close()

    def _url(self, url: str) -> URL:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = self._urls[url] = URL(url)
        return parsed

    async def _send(self, request: OutgoingRequest) -> bytes:
        assert self._connector is not None
        connection = await self._connector.acquire(request)
        response = await connection.send(request)
        body = await response.content.read()
        response.release()
        return body

    async def get(self, url: str) -> bytes:
        """One GET through the pool."""
        return await self._send(OutgoingRequest("GET", self._url(url), _HEADERS))

    async def get_json(self, url: str) -> object:
        """One GET, then ``json.loads`` of the body."""
        return json.loads(await self.get(url))

    async def download(self, url: str, chunk: int) -> int:
        """The body's ``StreamReader.iter_chunked(chunk)``."""
        assert self._connector is not None
        request = OutgoingRequest("GET", self._url(url), _HEADERS)
        connection = await self._connector.acquire(request)
        response = await connection.send(request)
        total = 0
        async for piece in response.content.iter_chunked(chunk):
            total += len(piece)
        response.release()
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """A POST whose body is the bytes."""
        return await self._send(OutgoingRequest("POST", self._url(url), _HEADERS, data))

    async def upload_file(self, url: str, path: str) -> bytes:
        """A POST whose body is ``httpwire.forms.FilePayload`` of the open file."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            body = FilePayload(file)
            return await self._send(OutgoingRequest("POST", self._url(url), _HEADERS, body))

    async def oneshot(self, url: str) -> bytes:
        """A connector of its own for the one request, closed after it."""
        connector = TCPConnector(force_close=True)
        try:
            request = OutgoingRequest("GET", URL(url), _HEADERS)
            connection = await connector.acquire(request)
            response = await connection.send(request)
            body = await response.content.read()
            response.release()
            return body
        finally:
            await connector.close()
