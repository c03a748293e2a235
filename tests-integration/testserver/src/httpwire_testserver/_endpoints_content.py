"""httpbin's content endpoints: codings, bytes, streams, ranges and cache validators.

Large bodies (``/bytes/{n}``, ``/stream-bytes/{n}``) are generated piece by piece
from a seeded generator, so their size costs no memory and a test can compute
the expected bytes itself (``random.Random(seed).randbytes``, piece after piece).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import gzip
import importlib
import json
import random
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator

from ._app import App, error_response, request_dict
from ._http import Request, Response, json_response

__all__ = ["random_bytes", "register"]

_PIECE = 64 * 1024
_ALPHABET = b"abcdefghijklmnopqrstuvwxyz"
_RANGE_LIMIT = 100 * 1024

_UTF8_PAGE = """<!doctype html>
<html lang="mul">
<meta charset="utf-8">
<title>UTF-8 sample</title>
<h1>UTF-8 encoded text</h1>
<ul>
  <li lang="fr">Voix ambiguë d'un cœur qui au zéphyr préfère les jattes de kiwis.</li>
  <li lang="de">Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.</li>
  <li lang="el">Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.</li>
  <li lang="ru">Съешь же ещё этих мягких французских булок, да выпей чаю.</li>
  <li lang="ja">いろはにほへと ちりぬるを</li>
  <li>Symbols: € ∑ ∞ → ✓ 🙂</li>
</ul>
"""

_HTML_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>httpwire test server</title></head>
<body>
<h1>A page of plain HTML</h1>
<p>This page comes from the local test server. It has a heading, two paragraphs
and a list, enough for a client to decode text and find a charset.</p>
<ul><li>one</li><li>two</li><li>three</li></ul>
<p>The end.</p>
</body>
</html>
"""

_JSON_DOC = {
    "slideshow": {
        "author": "The httpwire authors",
        "date": "2024-01-01",
        "title": "A sample document",
        "slides": [
            {"title": "Opening", "type": "all"},
            {"title": "Details", "type": "all", "items": ["parsing", "pooling", "streaming"]},
        ],
    }
}


def random_bytes(size: int, seed: int) -> AsyncIterator[bytes]:
    """``size`` pseudo-random bytes from ``random.Random(seed)``, in pieces of 64 KiB."""

    async def generate() -> AsyncIterator[bytes]:
        rng = random.Random(seed)
        left = size
        while left > 0:
            piece = rng.randbytes(min(_PIECE, left))
            left -= len(piece)
            yield piece

    return generate()


def _coded(coding: str) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("Content-Encoding", coding)]


def _seed(request: Request) -> int:
    return request.int_arg("seed", 0, low=-(2**63), high=2**63)


def _etags(value: str) -> list[str]:
    tags = []
    for item in value.split(","):
        tag = item.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.append(tag.strip('"'))
    return tags


def register(app: App) -> None:
    """Add httpbin's content endpoints to ``app``."""

    @app.route("/gzip", ["GET"])
    async def gzipped(app: App, request: Request, match: re.Match[str]) -> Response:
        data = await request_dict(request, "headers", "method", "origin")
        body = json.dumps({**data, "gzipped": True}, indent=2).encode()
        return Response(200, _coded("gzip"), gzip.compress(body, mtime=0))

    @app.route("/deflate", ["GET"])
    async def deflated(app: App, request: Request, match: re.Match[str]) -> Response:
        data = await request_dict(request, "headers", "method", "origin")
        body = json.dumps({**data, "deflated": True}, indent=2).encode()
        return Response(200, _coded("deflate"), zlib.compress(body))

    @app.route("/brotli", ["GET"])
    async def brotli_(app: App, request: Request, match: re.Match[str]) -> Response:
        try:
            brotli = importlib.import_module("brotli")  # optional: the `brotli` extra
        except ImportError:
            return error_response(
                501, "/brotli needs the brotli package in the server's environment"
            )
        data = await request_dict(request, "headers", "method", "origin")
        body = json.dumps({**data, "brotli": True}, indent=2).encode()
        compressed: bytes = brotli.compress(body)
        return Response(200, _coded("br"), compressed)

    @app.route("/encoding/utf8", ["GET"])
    async def utf8(app: App, request: Request, match: re.Match[str]) -> Response:
        return Response(200, [("Content-Type", "text/html; charset=utf-8")], _UTF8_PAGE.encode())

    @app.route("/html", ["GET"])
    async def html(app: App, request: Request, match: re.Match[str]) -> Response:
        return Response(200, [("Content-Type", "text/html; charset=utf-8")], _HTML_PAGE.encode())

    @app.route("/json", ["GET"])
    async def json_doc(app: App, request: Request, match: re.Match[str]) -> Response:
        return json_response(_JSON_DOC)

    @app.route("/base64/(.*)", ["GET"])
    async def base64_(app: App, request: Request, match: re.Match[str]) -> Response:
        value = match.group(1)
        try:
            decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return error_response(400, f"incorrect base64 data {value[:60]!r}")
        return Response(200, [("Content-Type", "text/html; charset=utf-8")], decoded)

    @app.route("/bytes/([0-9]+)", ["GET"])
    async def bytes_n(app: App, request: Request, match: re.Match[str]) -> Response:
        size = int(match.group(1))
        fields = [("Content-Type", "application/octet-stream")]
        if size <= _PIECE:  # the first piece of the stream below, made at once
            return Response(200, fields, random.Random(_seed(request)).randbytes(size))
        return Response(200, fields, random_bytes(size, _seed(request)), content_length=size)

    @app.route("/stream-bytes/([0-9]+)", ["GET"])
    async def stream_bytes(app: App, request: Request, match: re.Match[str]) -> Response:
        size = int(match.group(1))
        chunk = request.int_arg("chunk_size", 10 * 1024, low=1, high=2**24)
        seed = _seed(request)

        async def pieces() -> AsyncIterator[bytes]:
            rng = random.Random(seed)
            left = size
            while left > 0:
                piece = rng.randbytes(min(chunk, left))
                left -= len(piece)
                yield piece

        return Response(200, [("Content-Type", "application/octet-stream")], pieces())

    @app.route("/stream/([0-9]+)", ["GET"])
    async def stream_n(app: App, request: Request, match: re.Match[str]) -> Response:
        count = min(int(match.group(1)), 100)
        data = await request_dict(request, "url", "args", "headers", "origin")

        async def lines() -> AsyncIterator[bytes]:
            for number in range(count):
                yield (json.dumps({**data, "id": number}) + "\n").encode()

        return Response(200, [("Content-Type", "application/json")], lines())

    @app.route("/drip", ["GET"])
    async def drip(app: App, request: Request, match: re.Match[str]) -> Response:
        duration = request.float_arg("duration", 2.0, high=60.0)
        count = request.int_arg("numbytes", 10, high=10 * 2**20)
        code = request.int_arg("code", 200, low=100, high=999)
        await asyncio.sleep(request.float_arg("delay", 0.0, high=60.0))
        pause = duration / count if count else 0.0

        async def drops() -> AsyncIterator[bytes]:
            for _ in range(count):
                yield b"*"
                await asyncio.sleep(pause)

        return Response(
            code, [("Content-Type", "application/octet-stream")], drops(), content_length=count
        )

    @app.route("/range/([0-9]+)", ["GET"])
    async def range_(app: App, request: Request, match: re.Match[str]) -> Response:
        size = int(match.group(1))
        if not 0 < size <= _RANGE_LIMIT:
            return error_response(404, f"number of bytes must be in the range (0, {_RANGE_LIMIT}]")
        data = (_ALPHABET * (size // len(_ALPHABET) + 1))[:size]
        fields = [
            ("ETag", f'"range{size}"'),
            ("Accept-Ranges", "bytes"),
            ("Content-Type", "application/octet-stream"),
        ]
        wanted = _byte_range(request.headers.get("Range"), size)
        if wanted is None:
            return Response(200, fields, data)
        if wanted == (-1, -1):
            return Response(416, [*fields, ("Content-Range", f"bytes */{size}")], b"")
        first, last = wanted
        fields.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        return Response(206, fields, data[first : last + 1])

    @app.route("/cache", ["GET"])
    async def cache(app: App, request: Request, match: re.Match[str]) -> Response:
        if "If-Modified-Since" in request.headers or "If-None-Match" in request.headers:
            return Response(304, [], b"")
        response = json_response(await request_dict(request, "args", "headers", "origin", "url"))
        response.headers += [
            ("Last-Modified", email.utils.formatdate(time.time(), usegmt=True)),
            ("ETag", f'"{uuid.uuid4().hex}"'),
        ]
        return response

    @app.route("/cache/([0-9]+)", ["GET"])
    async def cache_for(app: App, request: Request, match: re.Match[str]) -> Response:
        response = json_response(await request_dict(request, "args", "headers", "origin", "url"))
        response.headers.append(("Cache-Control", f"public, max-age={int(match.group(1))}"))
        return response

    @app.route("/etag/([^/]+)", ["GET"])
    async def etag(app: App, request: Request, match: re.Match[str]) -> Response:
        tag = match.group(1)
        fields = [("ETag", f'"{tag}"')]
        none_match = request.headers.get("If-None-Match")
        if none_match is not None and ({tag, "*"} & set(_etags(none_match))):
            return Response(304, fields, b"")
        if_match = request.headers.get("If-Match")
        if if_match is not None and not ({tag, "*"} & set(_etags(if_match))):
            return Response(412, [], b"")
        response = json_response(await request_dict(request, "args", "headers", "origin", "url"))
        response.headers += fields
        return response


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first range of a ``Range: bytes=`` field; ``(-1, -1)``: unsatisfiable (RFC 9110 §14)."""
    if header is None:
        return None
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    first_spec = ranges.split(",")[0].strip()
    start_text, dash, end_text = first_spec.partition("-")
    if not dash:
        return None
    try:
        if start_text == "":
            suffix = int(end_text)
            if suffix <= 0:
                return (-1, -1)
            return (max(size - suffix, 0), size - 1)
        start = int(start_text)
        end = int(end_text) if end_text else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return (-1, -1)
    return (start, min(end, size - 1))
