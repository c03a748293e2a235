"""Fault endpoints: answers that break HTTP on purpose, under ``/fault/``.

Each one reads the request (body included, unless it says otherwise), then
writes bytes as they are and ends the connection the way it names:

- ``close-mid-headers?at=status|fields|blank-line``: a head cut inside the status
  line, inside a field line (default), or just before the blank line, then FIN.
- ``close-before-response``: FIN without sending a byte.
- ``close-mid-body?length=&sent=``: ``Content-Length: length``, ``sent`` bytes, then FIN.
- ``close-mid-chunked?chunks=``: a chunked body cut before its last chunk, then FIN.
- ``reset?after=request|head|body``: a TCP RST (``SO_LINGER`` 0) after reading the
  request, after the head, or halfway through a ``Content-Length`` body.
- ``bad-chunk-size?line=``: a chunked body whose size line is not hex (default ``zz``).
- ``stall?after=request|head``: never answers (or stops after the head) until the
  client gives up.
- ``cl-and-te``: both ``Content-Length`` and ``Transfer-Encoding: chunked``
  (RFC 9112 §6.3: chunked wins; the sender meant to smuggle), then FIN.
- ``huge-header?size=``: a field value of ``size`` bytes (default 256 KiB).
- ``close-after-response``: a complete keep-alive response, then FIN at once, so the
  next request on the connection meets a closed socket (a stale pooled connection).
- ``gzip-bomb?size=``: a valid gzip body of ``size`` zero bytes (default 1 GiB),
  about a thousandth of that on the wire.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator

from httpwire.parser import ChunkedEncoder, serialize_response_head

from ._app import App, error_response
from ._http import RawResponse, RawWriter, Request, Response

__all__ = ["gzip_bomb", "register"]

_MIB = 2**20
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
_CUTS = {
    "status": b"HTTP/1.1 20",
    "fields": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Len",
    "blank-line": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n",
}


def _head(status: int, fields: list[tuple[str, str]]) -> bytes:
    return serialize_response_head(status, "OK" if status == 200 else "", fields)


def gzip_bomb(size: int) -> tuple[int, AsyncIterator[bytes]]:
    """A gzip stream of ``size`` zero bytes: its length on the wire, and its pieces.

    Each MiB of zeros compresses to the same raw-deflate segment once the
    compressor is flushed with ``Z_FULL_FLUSH`` (no back-reference crosses it),
    so the segment is computed once and repeated; only the CRC-32 is computed
    over the whole decoded size, as the pieces go out.
    """
    zeros = bytes(_MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(size, _MIB)
    tail = compressor.compress(zeros[:rest]) + compressor.flush(zlib.Z_FINISH)
    length = len(_GZIP_HEADER) + full * len(segment) + len(tail) + 8

    async def pieces() -> AsyncIterator[bytes]:
        yield _GZIP_HEADER
        crc = 0
        batch = max(1, 64 * 1024 // len(segment))
        for start in range(0, full, batch):
            count = min(batch, full - start)
            for _ in range(count):
                crc = zlib.crc32(zeros, crc)
            yield segment * count
        crc = zlib.crc32(zeros[:rest], crc)
        yield tail + crc.to_bytes(4, "little") + (size % 2**32).to_bytes(4, "little")

    return length, pieces()


def register(app: App) -> None:
    """Add the fault endpoints to ``app``."""

    @app.route("/fault/close-mid-headers")
    async def close_mid_headers(
        app: App, request: Request, match: re.Match[str]
    ) -> Response | RawResponse:
        at = request.arg("at", "fields")
        if at not in _CUTS:
            return error_response(400, f"at must be one of {sorted(_CUTS)}, not {at!r}")

        async def act(raw: RawWriter) -> None:
            await raw.write(_CUTS[at])

        return RawResponse(act)

    @app.route("/fault/close-before-response")
    async def close_before(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        async def act(raw: RawWriter) -> None:
            pass  # FIN without a byte: what a keep-alive connection closed by the server shows

        return RawResponse(act)

    @app.route("/fault/close-mid-body")
    async def close_mid_body(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        length = request.int_arg("length", 1000, low=1)
        sent = request.int_arg("sent", length // 10, high=length - 1)

        async def act(raw: RawWriter) -> None:
            fields = [
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", str(length)),
            ]
            await raw.write(_head(200, fields) + b"x" * sent)

        return RawResponse(act)

    @app.route("/fault/close-mid-chunked")
    async def close_mid_chunked(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        chunks = request.int_arg("chunks", 2, high=10_000)

        async def act(raw: RawWriter) -> None:
            encoder = ChunkedEncoder()
            fields = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]
            body = b"".join(encoder.encode(b"chunk %d\n" % n) for n in range(chunks))
            await raw.write(_head(200, fields) + body)

        return RawResponse(act)

    @app.route("/fault/reset")
    async def reset(app: App, request: Request, match: re.Match[str]) -> Response | RawResponse:
        after = request.arg("after", "request")
        if after not in ("request", "head", "body"):
            return error_response(400, f"after must be request, head or body, not {after!r}")

        async def act(raw: RawWriter) -> None:
            fields = [("Content-Type", "application/octet-stream"), ("Content-Length", "1000")]
            if after in ("head", "body"):
                await raw.write(_head(200, fields) + (b"x" * 500 if after == "body" else b""))
            raw.reset()

        return RawResponse(act)

    @app.route("/fault/bad-chunk-size")
    async def bad_chunk_size(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        line = (request.arg("line", "zz") or "").encode("latin-1", "replace")

        async def act(raw: RawWriter) -> None:
            fields = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]
            body = b"5\r\nhello\r\n" + line + b"\r\nworld\r\n0\r\n\r\n"
            await raw.write(_head(200, fields) + body)

        return RawResponse(act)

    @app.route("/fault/stall")
    async def stall(app: App, request: Request, match: re.Match[str]) -> Response | RawResponse:
        after = request.arg("after", "request")
        if after not in ("request", "head"):
            return error_response(400, f"after must be request or head, not {after!r}")

        async def act(raw: RawWriter) -> None:
            if after == "head":
                fields = [("Content-Type", "text/plain"), ("Content-Length", "100")]
                await raw.write(_head(200, fields))
            await raw.wait_closed_by_peer()

        return RawResponse(act)

    @app.route("/fault/cl-and-te")
    async def cl_and_te(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        async def act(raw: RawWriter) -> None:
            fields = [
                ("Content-Type", "text/plain"),
                ("Content-Length", "5"),
                ("Transfer-Encoding", "chunked"),
            ]
            encoder = ChunkedEncoder()
            body = encoder.encode(b"hello ") + encoder.encode(b"world") + encoder.finish()
            await raw.write(_head(200, fields) + body)

        return RawResponse(act)

    @app.route("/fault/huge-header")
    async def huge_header(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        size = request.int_arg("size", 256 * 1024, low=1, high=64 * _MIB)

        async def act(raw: RawWriter) -> None:
            fields = [
                ("Content-Type", "text/plain"),
                ("X-Huge", "h" * size),
                ("Content-Length", "2"),
            ]
            await raw.write(_head(200, fields) + b"ok")

        return RawResponse(act)

    @app.route("/fault/close-after-response")
    async def close_after(app: App, request: Request, match: re.Match[str]) -> RawResponse:
        async def act(raw: RawWriter) -> None:
            fields = [("Content-Type", "text/plain"), ("Content-Length", "2")]
            await raw.write(_head(200, fields) + b"ok")

        return RawResponse(act)

    @app.route("/fault/gzip-bomb", ["GET"])
    async def bomb(app: App, request: Request, match: re.Match[str]) -> Response:
        size = request.int_arg("size", 1024 * _MIB, high=2**42)
        length, pieces = gzip_bomb(size)
        fields = [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")]
        return Response(200, fields, pieces, content_length=length)
