"""aiohttp and httpx, the two asyncio clients users picked first.

Strategy: both are typed and listed in ``bench/requirements.txt``, so they are imported
normally (lazily, inside the adapter, so that a worker imports only its own contender).
aiohttp: one ``ClientSession`` over a ``TCPConnector(limit=...)``, bodies through
``read()``/``json()`` and ``content.iter_chunked``. httpx: one ``AsyncClient`` with
``Limits``; streamed downloads through ``aiter_bytes()`` (no re-chunking); a file upload is
an async iterable of 1 MiB pieces, since ``AsyncClient`` refuses a synchronous file.
httpx has no asynchronous module-level call: the one-shot workload opens and closes an
``AsyncClient`` per request.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from ._adapter import Adapter, Pool, file_chunks

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = ["AiohttpAdapter", "HttpxAdapter"]


def _context(pool: Pool) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=pool.ca_pem) if pool.ca_pem else None


class AiohttpAdapter(Adapter):
    """``aiohttp.ClientSession`` over ``aiohttp.TCPConnector``."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None
        return self._session

    async def open(self, pool: Pool) -> None:
        """A session whose connector holds ``pool.limit`` connections."""
        import aiohttp

        context = _context(pool)
        connector = aiohttp.TCPConnector(
            limit=pool.limit,
            limit_per_host=pool.limit,
            ssl=context if context is not None else True,
            force_close=not pool.keepalive,
        )
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        """Close the session and its connector."""
        await self.session.close()

    async def get(self, url: str) -> bytes:
        """``async with session.get(url) as r: await r.read()``."""
        async with self.session.get(url) as response:
            return await response.read()

    async def get_json(self, url: str) -> object:
        """``await r.json()``."""
        async with self.session.get(url) as response:
            return await response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``r.content.iter_chunked(chunk)``."""
        total = 0
        async with self.session.get(url) as response:
            async for piece in response.content.iter_chunked(chunk):
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``session.post(url, data=data)``."""
        async with self.session.post(url, data=data) as response:
            return await response.read()

    async def upload_file(self, url: str, path: str) -> bytes:
        """``session.post(url, data=open(path, "rb"))``."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            async with self.session.post(url, data=file) as response:
                return await response.read()

    async def oneshot(self, url: str) -> bytes:
        """``async with aiohttp.request("GET", url) as r``."""
        import aiohttp

        async with aiohttp.request("GET", url) as response:
            return await response.read()


class HttpxAdapter(Adapter):
    """``httpx.AsyncClient`` with ``Limits``."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None
        return self._client

    async def open(self, pool: Pool) -> None:
        """A client of ``pool.limit`` connections (none kept alive without keep-alive)."""
        import httpx

        keep = pool.limit if pool.keepalive else 0
        limits = httpx.Limits(max_connections=pool.limit, max_keepalive_connections=keep)
        context = _context(pool)
        self._client = httpx.AsyncClient(
            limits=limits,
            verify=context if context is not None else True,
            timeout=300,  # as aiohttp's default: 1 000 connections at once may take > 5 s
        )

    async def close(self) -> None:
        """``aclose()`` the client."""
        await self.client.aclose()

    async def get(self, url: str) -> bytes:
        """``(await client.get(url)).content``."""
        return (await self.client.get(url)).content

    async def get_json(self, url: str) -> object:
        """``(await client.get(url)).json()``."""
        return (await self.client.get(url)).json()

    async def download(self, url: str, chunk: int) -> int:
        """``client.stream("GET", url)`` and ``aiter_bytes()``."""
        total = 0
        async with self.client.stream("GET", url) as response:
            async for piece in response.aiter_bytes():
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``client.post(url, content=data)``."""
        return (await self.client.post(url, content=data)).content

    async def upload_file(self, url: str, path: str) -> bytes:
        """``client.post(url, content=<async iterable of 1 MiB pieces>)`` (chunked)."""
        return (await self.client.post(url, content=file_chunks(path))).content

    async def oneshot(self, url: str) -> bytes:
        """An ``AsyncClient`` per request (httpx has no async module-level call)."""
        import httpx

        async with httpx.AsyncClient() as client:
            return (await client.get(url)).content
