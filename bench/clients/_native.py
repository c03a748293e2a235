"""The clients backed by Rust or C: pyreqwest, wreq (rnet's successor) and curl_cffi, and
niquests.

Strategy: none of them is installed where the benchmark is type-checked (each is
installed only in the benchmark's own session), so each is imported with
``import_optional`` (``importlib``, typed ``Any``): mypy checks the adapters, not the
libraries, and a library that is missing or fails to import becomes "not available" in
the table with the reason. Each uses the library's pooled async client as its
documentation recommends: pyreqwest's ``ClientBuilder().build()`` and its body reader;
``wreq.Client`` and ``Response.stream()``; curl_cffi's ``AsyncSession`` (``max_clients``
handles) and ``aiter_content``; niquests' ``AsyncSession`` and ``iter_content``. Bodies
come back as the library's own buffer type and are turned into ``bytes`` (13 bytes: a
negligible copy) so the workloads can check them. Without keep-alive, clients that have
no switch for it send ``Connection: close``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from ._adapter import Adapter, Pool, file_chunks, import_optional

__all__ = ["CurlCffiAdapter", "NiquestsAdapter", "PyreqwestAdapter", "WreqAdapter"]

_CLOSE = {"Connection": "close"}


class PyreqwestAdapter(Adapter):
    """``pyreqwest.client.ClientBuilder`` ... ``.build()`` (an async ``Client``)."""

    def __init__(self) -> None:
        self._client: Any = None

    async def open(self, pool: Pool) -> None:
        """A client of ``pool.limit`` connections."""
        module = import_optional("pyreqwest.client")
        builder = (
            module.ClientBuilder()
            .max_connections(pool.limit)
            .pool_max_idle_per_host(pool.limit if pool.keepalive else 0)
            .pool_idle_timeout(timedelta(seconds=300))
        )
        if pool.ca_pem:
            pem = Path(pool.ca_pem).read_bytes()  # noqa: ASYNC240 (a small local file)
            builder = builder.add_root_certificate_pem(pem)
        self._client = builder.build()

    async def close(self) -> None:
        """Close the client."""
        await self._client.close()

    async def get(self, url: str) -> bytes:
        """``await client.get(url).build().send()``, then ``bytes()``."""
        response = await self._client.get(url).build().send()
        return bytes(await response.bytes())

    async def get_json(self, url: str) -> object:
        """``await response.json()``."""
        response = await self._client.get(url).build().send()
        return await response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``build_streamed()`` and the body reader's ``read_chunk()``."""
        total = 0
        async with self._client.get(url).build_streamed() as response:
            reader = response.body_reader
            while (piece := await reader.read_chunk()) is not None:
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``client.post(url).body_bytes(data)``."""
        response = await self._client.post(url).body_bytes(data).build().send()
        return bytes(await response.bytes())

    async def upload_file(self, url: str, path: str) -> bytes:
        """``body_stream(<async iterable of 1 MiB pieces>)``."""
        response = await self._client.post(url).body_stream(file_chunks(path)).build().send()
        return bytes(await response.bytes())

    async def oneshot(self, url: str) -> bytes:
        """``pyreqwest.simple.request.pyreqwest_get(url).send()``."""
        simple = import_optional("pyreqwest.simple.request")
        response = await simple.pyreqwest_get(url).send()
        return bytes(await response.bytes())


class WreqAdapter(Adapter):
    """``wreq.Client``."""

    def __init__(self) -> None:
        self._client: Any = None
        self._wreq: Any = None

    async def open(self, pool: Pool) -> None:
        """A client of ``pool.limit`` connections."""
        self._wreq = wreq = import_optional("wreq")
        options: dict[str, Any] = {
            "pool_max_idle_per_host": pool.limit if pool.keepalive else 0,
            "pool_max_size": pool.limit,
        }
        if pool.ca_pem:
            options["tls_verify"] = Path(pool.ca_pem)
        self._client = wreq.Client(**options)

    async def close(self) -> None:
        """Close the client."""
        self._client.close()

    async def get(self, url: str) -> bytes:
        """``await (await client.get(url)).bytes()``."""
        response = await self._client.get(url)
        return bytes(await response.bytes())

    async def get_json(self, url: str) -> object:
        """``await response.json()``."""
        response = await self._client.get(url)
        return await response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``async with response.stream() as s: async for piece in s``."""
        total = 0
        response = await self._client.get(url)
        async with response.stream() as stream:
            async for piece in stream:
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``client.post(url, body=data)``."""
        response = await self._client.post(url, body=data)
        return bytes(await response.bytes())

    async def upload_file(self, url: str, path: str) -> bytes:
        """``client.post(url, body=<async generator of 1 MiB pieces>)``."""
        response = await self._client.post(url, body=file_chunks(path))
        return bytes(await response.bytes())

    async def oneshot(self, url: str) -> bytes:
        """``await wreq.get(url)``."""
        wreq = self._wreq or import_optional("wreq")
        response = await wreq.get(url)
        return bytes(await response.bytes())


class CurlCffiAdapter(Adapter):
    """``curl_cffi.requests.AsyncSession``."""

    def __init__(self) -> None:
        self._session: Any = None
        self._requests: Any = None

    async def open(self, pool: Pool) -> None:
        """A session of ``pool.limit`` curl handles."""
        self._requests = requests = import_optional("curl_cffi.requests")
        self._session = requests.AsyncSession(
            max_clients=pool.limit,
            verify=pool.ca_pem or True,
            headers=None if pool.keepalive else _CLOSE,
        )

    async def close(self) -> None:
        """Close the session."""
        await self._session.close()

    async def get(self, url: str) -> bytes:
        """``(await session.get(url)).content``."""
        response = await self._session.get(url)
        return bytes(response.content)

    async def get_json(self, url: str) -> object:
        """``(await session.get(url)).json()``."""
        response = await self._session.get(url)
        return response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``session.stream("GET", url)`` and ``aiter_content()``."""
        total = 0
        async with self._session.stream("GET", url) as response:
            async for piece in response.aiter_content():
                total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``session.post(url, data=data)``."""
        response = await self._session.post(url, data=data)
        return bytes(response.content)

    async def upload_file(self, url: str, path: str) -> bytes:
        """``session.post(url, content=open(path, "rb"))``."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            response = await self._session.post(url, content=file)
        return bytes(response.content)

    async def oneshot(self, url: str) -> bytes:
        """An ``AsyncSession`` per request (curl_cffi has no async module-level call)."""
        requests = self._requests or import_optional("curl_cffi.requests")
        async with requests.AsyncSession() as session:
            response = await session.get(url)
        return bytes(response.content)


class NiquestsAdapter(Adapter):
    """``niquests.AsyncSession``."""

    def __init__(self) -> None:
        self._session: Any = None
        self._niquests: Any = None
        self._options: dict[str, str] = {}

    async def open(self, pool: Pool) -> None:
        """A session whose pool holds ``pool.limit`` connections."""
        self._niquests = niquests = import_optional("niquests")
        self._session = session = niquests.AsyncSession(pool_maxsize=pool.limit)
        # Per request: niquests 3.21's AsyncSession(verify=<CA file>) still fails to verify.
        self._options = {"verify": pool.ca_pem} if pool.ca_pem else {}
        if not pool.keepalive:
            session.headers.update(_CLOSE)

    async def close(self) -> None:
        """Close the session."""
        await self._session.close()

    async def get(self, url: str) -> bytes:
        """``(await session.get(url)).content``."""
        response = await self._session.get(url, **self._options)
        return bytes(response.content)

    async def get_json(self, url: str) -> object:
        """``(await session.get(url)).json()``."""
        response = await self._session.get(url, **self._options)
        return response.json()

    async def download(self, url: str, chunk: int) -> int:
        """``session.get(url, stream=True)`` and ``iter_content(chunk)``."""
        total = 0
        response = await self._session.get(url, stream=True)
        async for piece in await response.iter_content(chunk):
            total += len(piece)
        return total

    async def upload(self, url: str, data: bytes) -> bytes:
        """``session.post(url, data=data)``."""
        response = await self._session.post(url, data=data)
        return bytes(response.content)

    async def upload_file(self, url: str, path: str) -> bytes:
        """``session.post(url, data=open(path, "rb"))``."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            response = await self._session.post(url, data=file)
        return bytes(response.content)

    async def oneshot(self, url: str) -> bytes:
        """``await niquests.aget(url)``."""
        niquests = self._niquests or import_optional("niquests")
        response = await niquests.aget(url)
        return bytes(response.content)
