"""Timeouts: each limit raises its own class naming the limit, its value, method and URL."""

from __future__ import annotations

import asyncio

import pytest

from httpwire.client import (
    ClientSession,
    ClientTimeout,
    ClientTimeoutError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TCPConnector,
    TotalTimeoutError,
    request,
)
from httpwire_testserver import LocalServer, StartServer


async def test_sock_read(session: ClientSession, httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/fault/stall?after=request")
    with pytest.raises(ReadTimeoutError) as info:
        await session.get(url, timeout=ClientTimeout(sock_read=0.2))
    message = str(info.value)
    assert "sock_read" in message and "0.2 s" in message and f"GET {url}" in message
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_a_number_is_sock_connect_and_sock_read(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    r = await session.get(httpwire_server.url("/fault/stall?after=head"), timeout=0.2)
    with pytest.raises(ReadTimeoutError, match=r"0\.2 s"):
        await r.read()


async def test_a_slow_but_steady_body_never_dies_under_sock_read(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's warning: the limit is on silence, not on the whole download."""
    url = httpwire_server.url("/slow-stream?chunks=6&interval=0.05&size=4")
    async with session.get(url, timeout=ClientTimeout(sock_read=0.2)) as r:
        assert len(await r.read()) == 24


async def test_total_while_waiting_for_the_response(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/fault/stall?after=request")
    with pytest.raises(TotalTimeoutError) as info:
        await session.get(url, timeout=ClientTimeout(total=0.2))
    message = str(info.value)
    assert "total timeout of 0.2 s" in message and f"GET {url}" in message
    assert info.value.timeout == 0.2


async def test_total_covers_reading_the_body(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/slow-stream?chunks=50&interval=0.05&size=4")
    r = await session.get(url, timeout=ClientTimeout(total=0.3))
    with pytest.raises(TotalTimeoutError, match=r"total timeout of 0\.3 s"):
        await r.read()
    assert r.closed


async def test_total_covers_streaming_the_body(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/slow-stream?chunks=50&interval=0.05&size=4")
    async with session.get(url, timeout=ClientTimeout(total=0.3)) as r:
        with pytest.raises(TotalTimeoutError):
            while await r.content.readany():
                pass


async def test_connect_includes_waiting_for_the_pool(httpwire_server: LocalServer) -> None:
    async with (
        TCPConnector(limit=1) as connector,
        ClientSession(connector=connector, connector_owner=False) as session,
    ):
        held = await session.get(httpwire_server.url("/stream-bytes/2000000"))
        url = httpwire_server.url("/get")
        with pytest.raises(ConnectTimeoutError) as info:
            await session.get(url, timeout=ClientTimeout(connect=0.2))
        assert info.value.phase == "connect"
        assert "getting a connection to" in str(info.value) and "0.2 s" in str(info.value)
        assert f"GET {url}" in str(info.value)
        assert connector.stats().waiting == 0
        held.close()
        async with session.get(url, timeout=ClientTimeout(connect=5)) as r:
            assert r.status == 200


async def test_the_timeout_classes() -> None:
    for cls in (TotalTimeoutError, ConnectTimeoutError, ReadTimeoutError):
        assert issubclass(cls, ClientTimeoutError)
        assert issubclass(cls, asyncio.TimeoutError)


async def test_wait_for_leaves_nothing_behind(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    """The guide's "Timeouts": asyncio.wait_for around a request."""
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(session.get(httpwire_server.url("/fault/stall?after=request")), 0.1)


async def test_wait_for_around_request(httpwire_server: LocalServer) -> None:
    """The guide's "Timeouts" with request(): the limit passes while the head is awaited.

    (A limit that passes just as the TCP connection completes can be lost on Python 3.11,
    whose wait_for inside the connection layer's connect swallows the cancellation.)
    """
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(request("get", httpwire_server.url("/delay/1")), 0.1)


async def test_generous_deadlines_cover_redirects_without_firing(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    for timeout in (
        ClientTimeout(total=30),
        ClientTimeout(connect=30),
        ClientTimeout(total=30, connect=10),
    ):
        async with session.get(httpwire_server.url("/redirect/3"), timeout=timeout) as r:
            assert r.status == 200
            assert len(r.history) == 3
            await r.read()
    assert connector.stats().open == 1


async def test_sock_connect_covers_the_tls_handshake(
    session: ClientSession, raw_server: StartServer
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the TCP connection, never answers the ClientHello

    base = (await raw_server(silent)).replace("http://", "https://")
    with pytest.raises(ConnectTimeoutError) as info:
        await session.get(base + "/", timeout=ClientTimeout(sock_connect=0.2))
    assert info.value.phase == "sock_connect"
    assert "0.2 s" in str(info.value) and "(sock_connect timeout)" in str(info.value)
