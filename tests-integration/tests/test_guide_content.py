"""The guide's "Response Content", "Binary Response Content", "JSON Response Content" and
"Streaming Response Content", in modern form, against our server and httpbin on gunicorn.

The guide's ``github.com/timeline.json`` maps to ``/json``; what the client reads is
compared with what ``http.client`` reads from the same URL. ``content`` gives the
decoded body (the errata of DESIGN.md's "Reading the guide").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.guide_support import leak_check, recording_server

from httpwire.client import ClientSession, ContentTypeError, request
from httpwire.streams import StreamReader

if TYPE_CHECKING:
    from tests.conftest import Clients

    from httpwire_testserver import LocalServer
    from httpwire_testserver.plugin import Peer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


# -- Response Content -------------------------------------------------------------------------


async def test_text_decodes_with_the_charset_of_the_response(
    server: Peer, stdlib: type[Clients]
) -> None:
    """``await r.text()``: the body decoded with the charset the response names."""
    expected = stdlib.request(server.url("/encoding/utf8")).body
    async with request("get", server.url("/encoding/utf8")) as r:
        assert r.charset == "utf-8"
        text = await r.text()
    assert text == expected.decode("utf-8")
    assert any(ord(c) > 0x3000 for c in text)  # the sample really is beyond Latin-1


async def test_text_with_a_custom_encoding(server: Peer, stdlib: type[Clients]) -> None:
    """``await r.text(encoding='windows-1251')`` decodes with that encoding, not the header's."""
    expected = stdlib.request(server.url("/encoding/utf8")).body
    async with request("get", server.url("/encoding/utf8")) as r:
        text = await r.text(encoding="windows-1251", errors="replace")
    assert text == expected.decode("windows-1251", errors="replace")
    assert text != expected.decode("utf-8")


async def test_text_of_the_timeline(server: Peer) -> None:
    """``await r.text()`` of a JSON document (the guide's timeline.json)."""
    async with request("get", server.url("/json")) as r:
        text = await r.text()
    assert text.lstrip().startswith('{\n  "slideshow"')
    assert "slideshow" in json.loads(text)


# -- Binary Response Content ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100_000])
async def test_read_gives_the_bytes(server: Peer, stdlib: type[Clients], size: int) -> None:
    """``await r.read()``: the body as bytes, the same bytes http.client gets."""
    url = server.url(f"/bytes/{size}?seed=17")
    expected = stdlib.request(url).body
    async with request("get", url) as r:
        body = await r.read()
        assert await r.read() == body  # read() twice returns the same bytes
    assert len(body) == size
    assert body == expected


@pytest.mark.parametrize(
    ("path", "flag", "coding"), [("/gzip", "gzipped", "gzip"), ("/deflate", "deflated", "deflate")]
)
async def test_gzip_and_deflate_are_decoded(
    server: Peer, stdlib: type[Clients], path: str, flag: str, coding: str
) -> None:
    """The gzip and deflate codings "are automatically decoded for you"."""
    wire = stdlib.request(server.url(path), headers={"Accept-Encoding": coding})
    assert wire.headers["Content-Encoding"] == coding
    async with request("get", server.url(path)) as r:
        sent = r.headers.get("Content-Encoding")
        body = await r.read()
    assert sent == coding
    echo = json.loads(body)
    assert echo[flag] is True
    # What the client asked for names the codings it decodes.
    offered = {c.strip() for c in echo["headers"]["Accept-Encoding"].split(",")}
    assert {"gzip", "deflate"} <= offered
    if coding == "gzip":
        assert json.loads(gzip.decompress(wire.body))[flag] is True
    else:
        assert json.loads(zlib.decompress(wire.body))[flag] is True


async def test_brotli_is_decoded_when_its_library_is_installed(server: Peer) -> None:
    """DESIGN.md: br is decoded when brotli is installed (the integration venv has it)."""
    pytest.importorskip("brotli")
    async with request("get", server.url("/brotli")) as r:
        assert r.headers.get("Content-Encoding") == "br"
        echo = await r.json()
    assert echo["brotli"] is True
    offered = {c.strip() for c in echo["headers"]["Accept-Encoding"].split(",")}
    assert "br" in offered


# -- JSON Response Content --------------------------------------------------------------------


async def test_json_decodes_the_timeline(server: Peer, stdlib: type[Clients]) -> None:
    """``await r.json()``."""
    expected = json.loads(stdlib.request(server.url("/json")).body)
    async with request("get", server.url("/json")) as r:
        data = await r.json()
    assert data == expected
    assert isinstance(data["slideshow"]["slides"], list)


async def test_json_with_a_custom_decoder_and_encoding(server: Peer) -> None:
    """json() takes a custom encoding and decoder function."""
    seen: list[str] = []

    def loads(text: str) -> object:
        seen.append(text)
        return json.loads(text, parse_int=str)

    async with request("get", server.url("/get?n=1")) as r:
        data = await r.json(encoding="utf-8", loads=loads)
    assert len(seen) == 1 and seen[0].lstrip().startswith("{")
    assert data["args"] == {"n": "1"}
    async with request("get", server.url("/json")) as r:
        latin = await r.json(encoding="latin-1")
    assert "slideshow" in latin


async def test_json_of_a_non_json_type_raises_naming_the_type(server: Peer) -> None:
    """When JSON decoding fails, r.json() raises: here ContentTypeError naming the type."""
    async with request("get", server.url("/html")) as r:
        with pytest.raises(ContentTypeError) as info:
            await r.json()
    assert "text/html" in str(info.value)


async def test_json_of_a_body_that_is_not_json_raises(server: Peer) -> None:
    async with request("get", server.url("/html")) as r:
        with pytest.raises(ValueError):  # json.JSONDecodeError
            await r.json(content_type=None)


async def test_json_accepts_plus_json_types() -> None:
    """DESIGN.md: ``application/*+json`` is JSON too (neither peer can send it alone)."""
    body = b'{"title": "Not Found", "status": 404}'
    answer = (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    async with recording_server(answer) as peer, request("get", peer.url + "/missing") as r:
        assert r.content_type == "application/problem+json"
        data = await r.json()
    assert data == {"title": "Not Found", "status": 404}


# -- Streaming Response Content ---------------------------------------------------------------


async def test_content_is_a_stream_reader_of_the_decoded_body(server: Peer) -> None:
    """``r.content`` is a StreamReader; ``content.read(10)`` gives decoded bytes, not gzip."""
    async with request("get", server.url("/gzip")) as r:
        assert isinstance(r.content, StreamReader)
        assert "StreamReader" in repr(r.content)
        first = await r.content.read(10)
        rest = await r.content.read()
    assert 0 < len(first) <= 10
    assert first[:2] != b"\x1f\x8b"  # not the gzip magic of the guide's old output
    assert first.startswith(b"{")
    assert json.loads(first + rest)["gzipped"] is True


@pytest.mark.parametrize("chunk_size", [1024, 65536])
async def test_stream_to_a_file(
    server: Peer, stdlib: type[Clients], tmp_path: Path, chunk_size: int
) -> None:
    """The guide's loop saving ``r.content.read(chunk_size)`` pieces to a file."""
    url = server.url("/bytes/100000?seed=5")
    expected = stdlib.request(url).body
    filename = tmp_path / "download.bin"
    r = await request("get", url)
    try:
        with open(filename, "wb") as fd:  # noqa: ASYNC230 (the guide\'s own file example)
            while True:
                chunk = await r.content.read(chunk_size)
                if not chunk:
                    break
                assert len(chunk) <= chunk_size
                fd.write(chunk)
    finally:
        r.release()
    assert filename.read_bytes() == expected


async def test_streaming_a_large_body_keeps_memory_bounded(httpwire_server: LocalServer) -> None:
    """The section's point: ``content`` does not load the whole body in memory.

    tracemalloc counts the in-process server's buffers too, hence the loose bound.
    """
    size = 64 * 2**20
    sha = hashlib.sha256()
    tracemalloc.start()
    try:
        async with request("get", httpwire_server.url(f"/bytes/{size}?seed=4")) as r:
            while True:
                chunk = await r.content.read(65536)
                if not chunk:
                    break
                sha.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    async with request("get", httpwire_server.url(f"/bytes/{size}?seed=4")) as r:
        assert hashlib.sha256(await r.read()).hexdigest() == sha.hexdigest()
    assert peak < size // 4, f"peak {peak} bytes of Python memory for a {size}-byte download"


async def test_read_text_json_after_streaming_raise(server: Peer) -> None:
    """Not possible: read(), json() and text() after reading the body through content."""
    async with request("get", server.url("/bytes/50000?seed=2")) as r:
        while await r.content.read(1024):
            pass
        for method in (r.read, r.text, r.json):
            with pytest.raises(Exception) as info:
                await method()
            assert str(info.value), f"{method.__name__}() raised without a message"


async def test_read_after_a_partial_stream_raises_instead_of_returning_the_rest(
    server: Peer,
) -> None:
    async with request("get", server.url("/bytes/50000?seed=2")) as r:
        assert await r.content.read(1024)
        with pytest.raises(Exception) as info:
            await r.read()
    assert str(info.value)


async def test_auto_decompress_false_gives_the_wire_bytes(server: Peer) -> None:
    async with (
        ClientSession(auto_decompress=False) as session,
        session.get(server.url("/gzip")) as r,
    ):
        body = await r.read()
    assert body[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(body))["gzipped"] is True
