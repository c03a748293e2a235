"""Endpoints beyond httpbin, for what a client's tests must prove.

- ``/upload-digest``: the SHA-256 and size of the request body and its framing,
  read piece by piece, so multi-GiB uploads are checked without echoing them.
- ``/connection-id``: which connection carried the request (keep-alive reuse).
- ``/inflight?key=&delay=`` and ``/inflight-stats?key=``: the most requests of one
  key in flight at once, and the distinct connections they came on (pool limits).
- ``/slow-stream?chunks=&interval=&size=``: a chunked body trickling out.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator

from ._app import App, InflightStats
from ._http import Request, Response, json_response

__all__ = ["register"]

_THREAD_HASH = 256 * 1024


def register(app: App) -> None:
    """Add the extra endpoints to ``app``."""

    @app.route("/upload-digest")
    async def upload_digest(app: App, request: Request, match: re.Match[str]) -> Response:
        digest = hashlib.sha256()
        pending: asyncio.Future[None] | None = None
        async for piece in request.iter_body():
            # Big pieces are hashed in a worker thread (hashlib lets go of the GIL) while
            # the loop reads the next one; the order of updates is kept.
            if pending is not None:
                await pending
            if len(piece) >= _THREAD_HASH:
                pending = asyncio.get_running_loop().run_in_executor(None, digest.update, piece)
            else:
                pending = None
                digest.update(piece)
        if pending is not None:
            await pending
        trailers = dict(request.trailers.items()) if request.trailers else {}
        length = request.headers.get("Content-Length")
        return json_response(
            {
                "method": request.method,
                "sha256": digest.hexdigest(),
                "bytes": request.body_size,
                "chunked": request.head.chunked,
                "chunks": request.chunks,
                "content_length": int(length) if length is not None else None,
                "transfer_encoding": request.headers.get("Transfer-Encoding"),
                "content_encoding": request.headers.get("Content-Encoding"),
                "content_type": request.headers.get("Content-Type"),
                "expect_continue": request.head.expect_continue,
                "trailers": trailers,
            }
        )

    @app.route("/connection-id")
    async def connection_id(app: App, request: Request, match: re.Match[str]) -> Response:
        await request.read()
        info = request.connection
        return json_response(
            {
                "connection_id": info.id,
                "requests": info.requests,
                "peer": info.peer,
                "scheme": info.scheme,
                "transport": info.transport,
            }
        )

    @app.route("/inflight")
    async def inflight(app: App, request: Request, match: re.Match[str]) -> Response:
        await request.read()
        key = request.arg("key", "") or ""
        delay = request.float_arg("delay", 0.1, high=60.0)
        stats = app.inflight.setdefault(key, InflightStats())
        stats.current += 1
        stats.total += 1
        stats.max = max(stats.max, stats.current)
        stats.connections.add(request.connection.id)
        at_start = stats.current
        try:
            await asyncio.sleep(delay)
        finally:
            stats.current -= 1
        return json_response(
            {"key": key, "inflight": at_start, "connection_id": request.connection.id}
        )

    @app.route("/inflight-stats", ["GET"])
    async def inflight_stats(app: App, request: Request, match: re.Match[str]) -> Response:
        key = request.arg("key", "") or ""
        stats = app.inflight.get(key, InflightStats())
        if request.arg("reset") is not None:
            app.inflight.pop(key, None)
        return json_response(
            {
                "key": key,
                "max": stats.max,
                "current": stats.current,
                "total": stats.total,
                "connections": len(stats.connections),
            }
        )

    @app.route("/slow-stream", ["GET"])
    async def slow_stream(app: App, request: Request, match: re.Match[str]) -> Response:
        count = request.int_arg("chunks", 5, high=100_000)
        interval = request.float_arg("interval", 0.1, high=60.0)
        size = request.int_arg("size", 16, low=1, high=2**24)

        async def pieces() -> AsyncIterator[bytes]:
            for number in range(count):
                if number:
                    await asyncio.sleep(interval)
                yield bytes([0x61 + number % 26]) * size

        return Response(200, [("Content-Type", "application/octet-stream")], pieces())
