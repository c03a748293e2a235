"""ClientResponse against real peers: reading, decoding, state, release and close."""

from __future__ import annotations

import asyncio
import gc
import gzip
import zlib

import pytest
from multidict import CIMultiDictProxy
from tests.conftest import read_head

from httpwire.client import (
    ClientConnectionError,
    ClientPayloadError,
    ClientResponseError,
    ClientSession,
    ContentConsumedError,
    ContentTypeError,
    StreamReader,
    TCPConnector,
)
from httpwire.parser import HttpVersion
from httpwire_testserver import LocalServer, StartServer


def canned(body: bytes, *fields: str, status: str = "200 OK"):  # type: ignore[no-untyped-def]  # a small handler factory
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n" + "".join(
        f"{field}\r\n" for field in fields
    )

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_head(reader)
            writer.write(head.encode("latin-1") + b"\r\n" + body)
            await writer.drain()

    return handler


async def test_status_headers_and_attributes(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Response Status Codes" and "Response Headers"."""
    async with session.get(httpwire_server.url("/get")) as r:
        assert r.status == 200
        assert r.reason == "OK"
        assert r.ok
        assert r.version == HttpVersion(1, 1)
        assert isinstance(r.headers, CIMultiDictProxy)
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers.get("content-type") == "application/json"
        assert (b"Content-Type", b"application/json") in r.raw_headers
        assert r.content_type == "application/json"
        assert r.charset is None
        assert r.request_info.method == "GET"
        assert r.request_info.headers["Accept"] == "*/*"
        assert r.history == ()
        assert isinstance(r.content, StreamReader)
        assert repr(r).startswith(f"<ClientResponse({httpwire_server.url('/get')}) [200 OK]")


async def test_read_twice_returns_the_same_bytes(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    async with session.get(httpwire_server.url("/bytes/1000?seed=3")) as r:
        first = await r.read()
        assert len(first) == 1000
        assert await r.read() is first


async def test_text_with_declared_detected_and_given_encodings(
    session: ClientSession, raw_server: StartServer
) -> None:
    """The guide's "Response Content": decoded automatically, or with the encoding given."""
    russian = "Привет, мир! Это проверка определения кодировки. " * 20
    base = await raw_server(canned(russian.encode("windows-1251"), "Content-Type: text/plain"))
    async with session.get(base) as r:
        assert await r.text() == russian
        assert r.get_encoding() == "cp1251"
        assert await r.text(encoding="windows-1251") == russian
    base = await raw_server(
        canned("é".encode("latin-1"), "Content-Type: text/plain; charset=ISO-8859-1")
    )
    async with session.get(base) as r:
        assert r.charset == "iso-8859-1"
        assert await r.text() == "é"
    base = await raw_server(canned(b"\xff", "Content-Type: text/plain; charset=utf-8"))
    async with session.get(base) as r:
        with pytest.raises(UnicodeDecodeError):
            await r.text()
        assert await r.text(errors="replace") == "\ufffd"


async def test_json_and_its_content_type_check(
    session: ClientSession, raw_server: StartServer, httpwire_server: LocalServer
) -> None:
    """The guide's "JSON Response Content"."""
    async with session.get(httpwire_server.url("/json")) as r:
        assert isinstance(await r.json(), dict)
    base = await raw_server(canned(b'{"type": "x"}', "Content-Type: application/problem+json"))
    async with session.get(base) as r:
        assert await r.json() == {"type": "x"}
    async with session.get(httpwire_server.url("/html")) as r:
        with pytest.raises(ContentTypeError, match="'text/html; charset=utf-8'") as info:
            await r.json()
        assert info.value.status == 200
        assert (await r.text()).lstrip().startswith("<!doctype html>")  # still readable
    async with session.get(httpwire_server.url("/html")) as r:
        with pytest.raises(ValueError):
            await r.json(content_type=None)
    base = await raw_server(canned(b"[1]", "Content-Type: text/x-json"))
    async with session.get(base) as r:
        assert await r.json(content_type="text/x-json", loads=lambda s: ("custom", s)) == (
            "custom",
            "[1]",
        )
    base = await raw_server(canned(b"", "Content-Type: application/json"))
    async with session.get(base) as r:
        assert await r.json() is None
    base = await raw_server(canned(b" \r\n\t ", "Content-Type: application/json"))
    async with session.get(base) as r:
        assert await r.json() is None  # only whitespace: no document either


async def test_json_charset_declared_or_utf8(
    session: ClientSession, raw_server: StartServer
) -> None:
    """RFC 8259 §8.1: UTF-8 by default; a declared charset is honoured."""
    text = '{"name": "caf\u00e9"}'
    base = await raw_server(canned(text.encode("utf-8"), "Content-Type: application/json"))
    async with session.get(base) as r:
        assert await r.json() == {"name": "caf\u00e9"}
    base = await raw_server(
        canned(text.encode("latin-1"), "Content-Type: application/json; charset=ISO-8859-1")
    )
    async with session.get(base) as r:
        assert await r.json() == {"name": "caf\u00e9"}
    base = await raw_server(
        canned(text.encode("utf-8"), "Content-Type: application/json; charset=no-such-codec")
    )
    async with session.get(base) as r:
        assert await r.json() == {"name": "caf\u00e9"}  # an unknown charset: UTF-8


async def test_reading_after_the_content_was_consumed_is_an_error(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Streaming Response Content": no read() after reading chunks."""
    async with session.get(httpwire_server.url("/bytes/5000?seed=4")) as r:
        assert len(await r.content.read(10)) == 10
        for call in (r.read, r.text, r.json):
            with pytest.raises(
                ContentConsumedError,
                match=r"10 bytes of the body were already read through 'content'",
            ):
                await call()
        rest = await r.content.read()
        assert len(rest) == 4990


async def test_content_gives_the_decoded_body(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's errata: content.read(10) gives decoded bytes, not gzip bytes."""
    async with session.get(httpwire_server.url("/gzip")) as r:
        first = await r.content.read(10)
        assert not first.startswith(b"\x1f\x8b")
        assert first == b'{"gzipped"'[:10] or first.startswith(b"{")


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/brotli"])
async def test_decoding(session: ClientSession, httpwire_server: LocalServer, path: str) -> None:
    async with session.get(httpwire_server.url(path)) as r:
        assert r.headers["Content-Encoding"] in ("gzip", "deflate", "br")
        data = await r.json()
        assert data[{"/gzip": "gzipped", "/deflate": "deflated", "/brotli": "brotli"}[path]]


async def test_raw_deflate_and_auto_decompress_off(
    connector: TCPConnector, raw_server: StartServer
) -> None:
    text = b"hello, world! " * 50
    compressor = zlib.compressobj(wbits=-15)
    raw_deflate = compressor.compress(text) + compressor.flush()
    base = await raw_server(canned(raw_deflate, "Content-Encoding: deflate"))
    async with (
        ClientSession(connector=connector, connector_owner=False) as s,
        s.get(base) as r,
    ):
        assert await r.read() == text
    gz = gzip.compress(text)
    base = await raw_server(canned(gz, "Content-Encoding: gzip"))
    async with (
        ClientSession(connector=connector, connector_owner=False, auto_decompress=False) as s,
        s.get(base) as r,
    ):
        assert await r.read() == gz


async def test_unknown_codings_pass_through(
    session: ClientSession, raw_server: StartServer
) -> None:
    base = await raw_server(canned(b"plain", "Content-Encoding: x-custom"))
    async with session.get(base) as r:
        assert r.headers["Content-Encoding"] == "x-custom"
        assert await r.read() == b"plain"


async def test_corrupt_gzip_is_a_payload_error(
    session: ClientSession, raw_server: StartServer
) -> None:
    base = await raw_server(canned(b"this is not gzip", "Content-Encoding: gzip"))
    async with session.get(base) as r:
        with pytest.raises(ClientPayloadError):
            await r.read()


async def test_raise_for_status(session: ClientSession, httpwire_server: LocalServer) -> None:
    r = await session.get(httpwire_server.url("/status/418"))
    with pytest.raises(ClientResponseError) as info:
        r.raise_for_status()
    error = info.value
    assert error.status == 418
    assert error.message == r.reason
    assert error.request_info.url == r.url  # type: ignore[union-attr]  # set for a response
    assert error.history == ()
    assert r.closed
    assert str(error).startswith("418, message=")


async def test_raise_for_status_per_session_and_request(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/status/500")
    async with ClientSession(
        connector=connector, connector_owner=False, raise_for_status=True
    ) as s:
        with pytest.raises(ClientResponseError, match="500"):
            await s.get(url)
        async with s.get(url, raise_for_status=False) as r:
            assert r.status == 500
        async with s.get(httpwire_server.url("/get")) as r:
            assert r.ok


async def test_release_keeps_a_whole_body_readable(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    r = await session.get(httpwire_server.url("/bytes/100"))
    await r.content.wait_eof()  # the whole body arrived; nothing was read
    r.release()
    assert connector.stats().in_use == 0
    assert connector.stats().idle == 1
    assert len(await r.read()) == 100


async def test_release_of_an_unread_large_body_closes_the_connection(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    r = await session.get(httpwire_server.url("/bytes/20000000"))
    r.release()
    assert connector.stats().in_use == 0
    assert connector.stats().idle == 0
    with pytest.raises(ContentConsumedError, match="released or closed"):
        await r.read()


async def test_close_drops_the_connection(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    r = await session.get(httpwire_server.url("/stream-bytes/2000000"))
    r.close()
    assert r.closed
    assert connector.stats().in_use == 0
    with pytest.raises((ClientConnectionError, ContentConsumedError)):
        await r.content.read()


async def test_a_garbage_collected_response_does_not_keep_its_connection(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    r = await session.get(httpwire_server.url("/stream-bytes/5000000"))
    assert connector.stats().in_use == 1
    del r
    gc.collect()
    assert connector.stats().in_use == 0


async def test_a_small_unread_remainder_is_read_on_exit_so_the_connection_is_reused(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    for _ in range(3):
        async with session.get(httpwire_server.url("/connection-id")) as r:
            assert r.status == 200
    stats = connector.stats()
    assert stats.open == 1 and stats.idle == 1


async def test_response_cookies(session: ClientSession, httpwire_server: LocalServer) -> None:
    """The guide's "Response Cookies": the Set-Cookie fields of the last response."""
    url = httpwire_server.url(
        "/response-headers?Set-Cookie=example_cookie_name%3Dexample_cookie_value"
    )
    async with session.get(url) as r:
        assert r.cookies["example_cookie_name"].value == "example_cookie_value"


async def test_read_until_eof_false(session: ClientSession, raw_server: StartServer) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nbody until close")
        await writer.drain()
        await asyncio.sleep(10)

    base = await raw_server(until_close)
    async with session.get(base, read_until_eof=False) as r:
        assert await r.read() == b""


async def test_a_broken_remainder_does_not_fail_a_clean_exit(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    async with session.get(httpwire_server.url("/fault/close-mid-body?length=1000&sent=100")) as r:
        assert r.status == 200
    assert r.closed
    assert connector.stats().open == 0


async def test_a_cut_body_is_an_error_when_read(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    async with session.get(httpwire_server.url("/fault/close-mid-body?length=1000&sent=100")) as r:
        with pytest.raises(ClientConnectionError, match="after 100 of 1000 body bytes"):
            await r.read()
