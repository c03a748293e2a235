"""The connectors-to-client seam: every connector is a ``Connector``, every connection an
``HTTPConnection``, and a request value crosses both calls unchanged.

The assignments below are checked by ``mypy --strict`` (the package's type check runs over
the tests): a connector or connection that drifts from the Protocols fails the type check,
not only these tests.
"""

from __future__ import annotations

import asyncio

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    ClientConnectionError,
    Connection,
    ConnectionKey,
    Connector,
    HTTPConnection,
    OutgoingRequest,
    PoolStats,
    ProxyConnector,
    RawResponse,
    TCPConnector,
    UnixConnector,
)
from httpwire_testserver import StartServer

IDLE_ONLY = PoolStats(connecting=0, in_use=0, idle=1, waiting=0)
EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)


@pytest.fixture(name="base")
async def _silent_server(raw_server: StartServer) -> str:
    """The URL of a server that reads what it is sent and never answers."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    return await raw_server(handler)


async def test_every_connector_is_a_connector_and_lends_http_connections(
    raw_server: StartServer,
) -> None:
    connectors: list[Connector] = [
        TCPConnector(),
        ProxyConnector("http://127.0.0.1:3128"),
        UnixConnector("/nonexistent.sock"),
    ]
    for each in connectors:
        await each.close()
        assert each.closed

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read()

    base = await raw_server(handler)
    tcp = TCPConnector()
    connector: Connector = tcp
    request = OutgoingRequest("GET", URL(base + "/x"), CIMultiDict({"Accept": "*/*"}))
    conn: HTTPConnection = await connector.acquire(request)
    assert isinstance(conn, Connection)
    assert not conn.is_closed
    response: RawResponse = await conn.send(request)
    assert response.status == 200
    assert await response.content.read() == b"ok"
    response.release()
    assert tcp.stats() == IDLE_ONLY
    await connector.close()


async def test_an_unused_connection_is_released_back_to_the_pool(
    base: str,
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.acquire(OutgoingRequest("GET", URL(base)))
        conn.release()
        assert connector.stats() == IDLE_ONLY
        again = await connector.acquire(OutgoingRequest("GET", URL(base)))
        assert again is conn
        again.close()
        assert again.is_closed
        assert connector.stats() == EMPTY


async def _half_body_server(raw_server: StartServer) -> str:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        await writer.drain()
        await reader.read()

    return await raw_server(handler)


async def test_release_of_an_unfinished_response_closes_and_fails_its_reads(
    raw_server: StartServer,
) -> None:
    base = await _half_body_server(raw_server)
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL(base))
        conn = await connector.acquire(request)
        response = await conn.send(request)
        assert not response.is_complete
        response.release()
        assert conn.is_closed
        assert connector.stats() == EMPTY
        # A read would otherwise wait forever for bytes that will never come.
        with pytest.raises(ClientConnectionError, match="released before its body"):
            await response.content.read()


async def test_close_drops_the_unread_body_of_a_complete_response(
    raw_server: StartServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody")
            await writer.drain()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL(base))
        conn = await connector.acquire(request)
        response = await conn.send(request)
        await response.content.wait_eof()
        assert response.is_complete
        assert connector.stats() == IDLE_ONLY  # pooled as soon as the body arrived
        kept = response
        kept.release()
        assert await kept.content.read() == b"body"  # release keeps a whole body readable

        response = await (await connector.acquire(request)).send(request)
        await response.content.wait_eof()
        response.close()
        assert connector.stats() == IDLE_ONLY  # the whole body arrived: the connection stays
        with pytest.raises(ClientConnectionError, match="closed before its body"):
            await response.content.read()


async def test_close_of_an_unfinished_response_drops_the_connection(
    raw_server: StartServer,
) -> None:
    base = await _half_body_server(raw_server)
    async with TCPConnector() as connector:
        request = OutgoingRequest("GET", URL(base))
        conn = await connector.acquire(request)
        response = await conn.send(request)
        response.close()
        response.close()  # idempotent
        assert conn.is_closed
        assert connector.stats() == EMPTY


async def test_the_connection_lent_is_not_the_socket_protocol(base: str) -> None:
    """What users and the docs see: send/release/close/is_closed and read-only facts,
    not the asyncio callbacks nor the pool's bookkeeping."""

    async with TCPConnector() as connector:
        conn = await connector.acquire(OutgoingRequest("GET", URL(base)))
        assert not isinstance(conn, asyncio.BaseProtocol)
        # No transport callbacks, exchange callbacks or pool slots: the seam and read-only
        # facts (pool_entry is the pool's record, which only the pool writes).
        assert {name for name in dir(conn) if not name.startswith("_")} == {
            "send",
            "release",
            "close",
            "is_closed",
            "is_reusable",
            "pool_key",
            "pool_entry",
            "transport",
            "addresses",
            "protocol",
            "wait_closed",
        }
        with pytest.raises(AttributeError):
            conn.pool_entry = conn.pool_entry  # type: ignore[misc]  # read-only, as tested
        url = URL(base)
        assert conn.pool_key == ConnectionKey(url.raw_host or "", url.port or 0, False)
        with pytest.raises(AttributeError):
            conn.pool_key = "elsewhere"  # type: ignore[misc]  # read-only, as tested
        assert conn.transport is not None and not conn.transport.is_closing()
        assert conn.addresses == (
            conn.transport.get_extra_info("sockname"),
            conn.transport.get_extra_info("peername"),
        )
        assert conn.addresses[1][:2] == (url.raw_host, url.port)
        conn.release()
        assert connector.stats() == IDLE_ONLY


async def test_wait_closed_with_a_timeout_says_whether_the_connection_was_lost(
    base: str,
) -> None:
    async with TCPConnector() as connector:
        conn = await connector.acquire(OutgoingRequest("GET", URL(base)))
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await conn.wait_closed(0.05) is False  # still open: it gives up
        assert loop.time() - started >= 0.04
        assert conn.transport is not None and not conn.transport.is_closing()
        conn.close()
        assert await asyncio.wait_for(conn.wait_closed(5), 10) is True
        assert await conn.wait_closed(0) is True  # once lost, at once
        assert await conn.wait_closed() is True


async def test_a_cancelled_wait_closed_cancels_no_other_wait(base: str) -> None:
    async with TCPConnector() as connector:
        conn = await connector.acquire(OutgoingRequest("GET", URL(base)))
        first = asyncio.ensure_future(conn.wait_closed())
        second = asyncio.ensure_future(conn.wait_closed())
        await asyncio.sleep(0)
        first.cancel()
        conn.close()
        await asyncio.wait_for(second, 5)
        assert first.cancelled() and second.done() and second.exception() is None
        assert conn.transport is not None and conn.transport.is_closing()
        await conn.wait_closed()  # once lost, at once
