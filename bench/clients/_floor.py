"""The floors: what the event loop itself reaches with no HTTP library at all.

Strategy: the per-request floor is a raw ``asyncio.Protocol`` speaking just enough HTTP: it
sends a fixed request, counts a response once it has its known length (probed once), and
sends the next from ``data_received`` with no task or future per request. For the JSON
workload it also decodes the body with ``json.loads``. A connection per request (the
module-level and new-TLS workloads) is a connect, one request and a close.

The per-request floor is not a floor for bulk transfers: a ``Protocol`` gets a new
``bytes`` per read, and one ``transport.write`` of a whole body makes the transport copy
what the socket did not take. The bulk floor downloads into one reused 256 KiB buffer
(``BufferedProtocol``) and uploads in 1 MiB slices of a memoryview, waiting while the
transport is paused for writing. ``FloorAdapter`` (naive) and ``BulkFloorAdapter`` expose
both through the same ``Adapter`` interface as the libraries, for the bulk and idle
workloads.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import time
from collections.abc import Iterable
from typing import cast
from urllib.parse import urlsplit

from ._adapter import SLICE, Adapter, Pool
from ._common import Spec

__all__ = ["BulkFloorAdapter", "FloorAdapter", "floor_requests"]

_BULK_BUFFER = 256 * 1024


def _split(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 80, parts.path or "/"


def _head(method: str, host: str, port: int, path: str, length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: bench"]
    lines.append("Accept: */*")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"no Content-Length in {head[:200]!r}")


def _probe(
    host: str, port: int, request: bytes, context: ssl.SSLContext | None
) -> tuple[int, int]:
    """The byte length of one whole response and of its body (counted by length)."""
    lengths = set()
    raw = socket.create_connection((host, port))
    with raw if context is None else context.wrap_socket(raw, server_hostname=host) as sock:
        for _ in range(3):
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = _content_length(head)
            while len(rest) < length:
                rest += sock.recv(65536)
            lengths.add((len(head) + 4 + length, length))
    if len(lengths) != 1:
        raise RuntimeError(f"responses vary in length {lengths}: the floor cannot count them")
    return lengths.pop()


class _Tally:
    """Requests still to send and responses still to come, shared by the connections."""

    def __init__(self) -> None:
        self.to_send = 0
        self.to_receive = 0
        self.done: asyncio.Future[None] | None = None


class _Counting(asyncio.Protocol):
    """Sends the fixed request again each time a whole response has arrived."""

    def __init__(self, request: bytes, length: int, body_length: int, tally: _Tally) -> None:
        self.request = request
        self.length = length
        self.body_length = body_length  # > 0: decode each body as JSON
        self.tally = tally
        self.pending = 0
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def send(self) -> None:
        assert self.transport is not None
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if self.body_length:
            self.buffer += data
            while len(self.buffer) >= self.length:
                json.loads(self.buffer[self.length - self.body_length : self.length])
                self.buffer = self.buffer[self.length :]
                self._completed()
            return
        self.pending += len(data)
        while self.pending >= self.length:
            self.pending -= self.length
            self._completed()

    def _completed(self) -> None:
        tally = self.tally
        tally.to_receive -= 1
        if tally.to_send > 0:
            tally.to_send -= 1
            self.send()
        elif tally.to_receive == 0 and tally.done is not None and not tally.done.done():
            tally.done.set_result(None)


async def _pooled(spec: Spec, path: str, context: ssl.SSLContext | None) -> float:
    host, port, _ = _split(spec.base)
    request = _head("GET", host, port, path)
    length, body_length = await asyncio.to_thread(_probe, host, port, request, context)
    if path == "/13":
        body_length = 0  # only counted, not decoded
    loop = asyncio.get_running_loop()
    tally = _Tally()
    connections: list[_Counting] = []
    for _ in range(spec.concurrency):
        _, protocol = await loop.create_connection(
            lambda: _Counting(request, length, body_length, tally),
            host,
            port,
            ssl=context,
            server_hostname=None if context is None else host,
        )
        connections.append(protocol)

    async def phase(count: int) -> None:
        tally.to_send = count
        tally.to_receive = count
        tally.done = loop.create_future()
        for protocol in connections[:count]:
            tally.to_send -= 1
            protocol.send()
        await tally.done

    await phase(spec.warmup)
    start = time.perf_counter()
    await phase(spec.count)
    elapsed = time.perf_counter() - start
    for protocol in connections:
        assert protocol.transport is not None
        protocol.transport.close()
    return spec.count / elapsed


class _Exchange(asyncio.Protocol):
    """Sends one request once connected and completes with the response body."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.buffer = b""
        self.expected = -1
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            i = self.buffer.find(b"\r\n\r\n")
            if i < 0:
                return
            self.expected = i + 4 + _content_length(self.buffer[:i])
        if len(self.buffer) >= self.expected and not self.done.done():
            head_end = self.buffer.find(b"\r\n\r\n") + 4
            self.done.set_result(self.buffer[head_end : self.expected])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before the response"))


async def _one_per_connection(spec: Spec, context: ssl.SSLContext | None) -> float:
    host, port, _ = _split(spec.base)
    # Resolved once, as a floor should: the clients cache their look-ups too.
    address = str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])
    request = _head("GET", host, port, "/13")
    loop = asyncio.get_running_loop()

    async def one() -> None:
        transport, protocol = await loop.create_connection(
            lambda: _Exchange(request),
            address,
            port,
            ssl=context,
            server_hostname=None if context is None else host,
        )
        await protocol.done
        transport.close()

    for _ in range(spec.warmup):
        await one()
    start = time.perf_counter()
    for _ in range(spec.count):
        await one()
    return spec.count / (time.perf_counter() - start)


async def floor_requests(spec: Spec) -> float:
    """The floor of a request workload, in requests per second."""
    work = spec.work
    context = ssl.create_default_context(cafile=spec.ca_pem) if work.https else None
    if not work.keepalive:
        return await _one_per_connection(spec, context)
    return await _pooled(spec, "/doc.json" if work.name == "json" else "/13", context)


class FloorAdapter(Adapter):
    """The naive floor behind the adapter interface: a connection per request, kept open.

    Downloads take the ``bytes`` each ``data_received`` gives; uploads hand the whole body
    to one ``transport.write``.
    """

    def __init__(self) -> None:
        self._idle: list[asyncio.Transport] = []
        self._context: ssl.SSLContext | None = None

    async def open(self, pool: Pool) -> None:
        """Remember the TLS settings (connections open on demand)."""
        if pool.ca_pem:
            self._context = ssl.create_default_context(cafile=pool.ca_pem)

    async def close(self) -> None:
        """Close every connection opened."""
        for transport in self._idle:
            transport.close()
        self._idle.clear()

    async def _exchange(self, url: str, request: bytes) -> bytes:
        host, port, _ = _split(url)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            lambda: _Exchange(request), host, port, ssl=self._context
        )
        body = await protocol.done
        self._idle.append(transport)  # kept open: the idle workload counts what it costs
        return body

    async def get(self, url: str) -> bytes:
        """GET on a new connection, left open afterwards."""
        host, port, path = _split(url)
        return await self._exchange(url, _head("GET", host, port, path))

    async def get_json(self, url: str) -> object:
        """GET and ``json.loads``."""
        return json.loads(await self.get(url))

    async def download(self, url: str, chunk: int) -> int:
        """Count the body bytes as ``data_received`` hands them over."""
        host, port, path = _split(url)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            lambda: _CountingDownload(_head("GET", host, port, path)), host, port
        )
        try:
            return await protocol.done
        finally:
            transport.close()

    async def upload(self, url: str, data: bytes) -> bytes:
        """The head and the whole body, each in one ``transport.write``."""
        host, port, path = _split(url)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            lambda: _Exchange(_head("POST", host, port, path, len(data))), host, port
        )
        transport.write(data)
        try:
            return await protocol.done
        finally:
            transport.close()

    async def upload_file(self, url: str, path: str) -> bytes:
        """The whole file read, then written at once."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            data = file.read()
        return await self.upload(url, data)

    async def oneshot(self, url: str) -> bytes:
        """Not used: the request workloads run ``floor_requests``."""
        return await self.get(url)


class _CountingDownload(asyncio.Protocol):
    """Counts the bytes of one response body, as ``data_received`` gives them."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.head = b""
        self.left = -1
        self.total = 0
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)

    def data_received(self, data: bytes) -> None:
        if self.left < 0:
            self.head += data
            i = self.head.find(b"\r\n\r\n")
            if i < 0:
                return
            self.left = _content_length(self.head[:i])
            data = self.head[i + 4 :]
        self.left -= len(data)
        self.total += len(data)
        if self.left <= 0 and not self.done.done():
            self.done.set_result(self.total)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before the body's end"))


class _BufferedDownload(asyncio.BufferedProtocol):
    """Receives one response into one reused 256 KiB buffer and counts the body bytes."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.buffer = bytearray(_BULK_BUFFER)
        self.view = memoryview(self.buffer)
        self.head = b""
        self.left = -1
        self.total = 0
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.left < 0:
            self.head += self.buffer[:nbytes]
            i = self.head.find(b"\r\n\r\n")
            if i < 0:
                return
            self.left = _content_length(self.head[:i])
            nbytes = len(self.head) - i - 4
        self.left -= nbytes
        self.total += nbytes
        if self.left <= 0 and not self.done.done():
            self.done.set_result(self.total)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before the body's end"))


class _FlowControlled(_Exchange):
    """An exchange whose sender waits while the transport is paused for writing."""

    def __init__(self, request: bytes) -> None:
        super().__init__(request)
        self.writable: asyncio.Future[None] | None = None

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None

    async def drain(self) -> None:
        if self.writable is not None:
            await self.writable


class BulkFloorAdapter(FloorAdapter):
    """The bulk floor: a reused 256 KiB receive buffer; 1 MiB slices with flow control."""

    async def download(self, url: str, chunk: int) -> int:
        """Receive into one reused buffer and count the body bytes."""
        host, port, path = _split(url)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            lambda: _BufferedDownload(_head("GET", host, port, path)), host, port
        )
        try:
            return await protocol.done
        finally:
            transport.close()

    async def _send(
        self, url: str, size: int, pieces: Iterable[bytes] | Iterable[memoryview]
    ) -> bytes:
        host, port, path = _split(url)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            lambda: _FlowControlled(_head("POST", host, port, path, size)), host, port
        )
        try:
            for piece in pieces:
                await protocol.drain()
                transport.write(piece)
            return await protocol.done
        finally:
            transport.close()

    async def upload(self, url: str, data: bytes) -> bytes:
        """Send 1 MiB memoryview slices, each once the transport takes more."""
        view = memoryview(data)
        slices = [view[i : i + SLICE] for i in range(0, len(data), SLICE)]
        return await self._send(url, len(data), slices)

    async def upload_file(self, url: str, path: str) -> bytes:
        """Read and send 1 MiB at a time, each once the transport takes more."""
        with open(path, "rb") as file:  # noqa: ASYNC230 (a local file, opened as users do)
            size = os.fstat(file.fileno()).st_size
            return await self._send(url, size, iter(lambda: file.read(SLICE), b""))
