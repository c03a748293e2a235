"""Connectors against real servers: reuse, limits, FIFO, keep-alive, stale connections.

The peers are the local httpbin-like server (TCP and Unix socket) from httpwire-testserver,
httpbin on gunicorn where it is installed, and small scripted servers for behaviours no
general server shows on demand. Pool counts are read through ``connector.stats()``.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import socket
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import (
    BaseConnector,
    ClientConnectionError,
    ClientConnectorError,
    ConnectTimeoutError,
    OutgoingRequest,
    PoolStats,
    RawResponse,
    ServerDisconnectedError,
    TCPConnector,
    UnixConnector,
)
from httpwire_testserver import StartServer

from .conftest import client_sockets

NO_HEADERS: CIMultiDict[str] = CIMultiDict()
IDLE_ONLY = PoolStats(connecting=0, in_use=0, idle=1, waiting=0)
EMPTY = PoolStats(connecting=0, in_use=0, idle=0, waiting=0)


async def fetch(
    connector: BaseConnector, url: str | URL, method: str = "GET", **kwargs: Any
) -> tuple[RawResponse, bytes]:
    request = OutgoingRequest(method, URL(url), NO_HEADERS, **kwargs)
    conn = await connector.acquire(request)
    response = await conn.send(request)
    try:
        return response, await response.content.read()
    finally:
        response.release()


async def fetch_json(connector: BaseConnector, url: str | URL, **kwargs: Any) -> Any:
    response, body = await fetch(connector, url, **kwargs)
    assert response.status == 200, body
    return json.loads(body)


async def test_connection_is_reused(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        ids = [
            (await fetch_json(connector, httpwire_server.url("/connection-id")))["connection_id"]
            for _ in range(3)
        ]
        assert len(set(ids)) == 1
        assert connector.stats() == IDLE_ONLY
        assert connector.stats(httpwire_server.url("/elsewhere")) == IDLE_ONLY
        assert connector.stats("http://other.invalid/") == EMPTY


async def test_many_urls_share_one_connection_and_hosts_stay_exact(httpwire_server: Any) -> None:
    # The pool key and the Host of recently used URLs are remembered (a bounded number):
    # more URLs than that still share the endpoint's connection and each gets its own Host.
    base = URL(httpwire_server.url("/headers"))
    async with TCPConnector() as connector:
        for index in range(300):
            url = base.with_query(n=str(index))
            got = await fetch_json(connector, url)
            assert got["headers"]["Host"] == base.raw_authority
        # Another name of the same server: a key and a Host of its own.
        local = base.with_host("localhost")
        got = await fetch_json(connector, local)
        assert got["headers"]["Host"] == local.raw_authority
        assert connector.stats(base) == IDLE_ONLY and connector.stats(local) == IDLE_ONLY


async def test_unix_connector_reuses_its_connection(httpwire_server: Any) -> None:
    async with UnixConnector(httpwire_server.unix_path) as connector:
        first = await fetch_json(connector, "http://localhost/connection-id")
        second = await fetch_json(connector, "http://localhost/connection-id")
        assert first["transport"] == second["transport"] == "unix"
        assert first["connection_id"] == second["connection_id"]
        assert second["requests"] == 2


async def test_unix_connector_names_the_path_when_it_cannot_connect(tmp_path: Any) -> None:
    path = str(tmp_path / "missing.sock")
    async with UnixConnector(path) as connector:
        with pytest.raises(ClientConnectorError) as info:
            await connector.acquire(OutgoingRequest("GET", URL("http://localhost/")))
    assert str(info.value).startswith(f"cannot connect to {path} for GET http://localhost/: ")
    assert info.value.errno == errno.ENOENT


async def test_httpbin_on_gunicorn_reuses_the_connection(httpbin_server: Any) -> None:
    async with TCPConnector() as connector:
        for _ in range(3):
            body = await fetch_json(connector, httpbin_server.http_url + "/get?x=1")
            assert body["args"] == {"x": "1"}
        assert connector.stats() == IDLE_ONLY
    async with UnixConnector(httpbin_server.unix_path) as connector:
        body = await fetch_json(connector, "http://localhost/get")
        assert body["headers"]["Host"] == "localhost"


async def test_force_close_never_reuses(httpwire_server: Any) -> None:
    async with TCPConnector(force_close=True) as connector:
        ids = {
            (await fetch_json(connector, httpwire_server.url("/connection-id")))["connection_id"]
            for _ in range(3)
        }
        assert len(ids) == 3
        assert connector.stats() == EMPTY


async def _inflight(connector: BaseConnector, base: str, key: str, count: int) -> Any:
    await fetch(connector, f"{base}/inflight-stats?key={key}&reset=1")
    await asyncio.gather(
        *(fetch_json(connector, f"{base}/inflight?key={key}&delay=0.15") for _ in range(count))
    )
    async with TCPConnector() as other:
        return await fetch_json(other, f"{base}/inflight-stats?key={key}")


@pytest.mark.parametrize("limit", [1, 3])
async def test_limit_caps_connections_per_endpoint(httpwire_server: Any, limit: int) -> None:
    async with TCPConnector(limit=limit) as connector:
        stats = await _inflight(connector, httpwire_server.http_url, f"limit{limit}", 8)
        assert stats["total"] == 8
        assert stats["max"] == limit
        assert stats["connections"] == limit
        assert connector.stats().open == limit


async def test_limit_is_per_endpoint(httpwire_server: Any) -> None:
    # 127.0.0.1 and localhost are two endpoints of the same server: each gets its own cap.
    base_a = httpwire_server.http_url
    base_b = base_a.replace("127.0.0.1", "localhost")
    async with TCPConnector(limit=1) as connector:
        await fetch(connector, f"{base_a}/inflight-stats?key=per-endpoint&reset=1")
        await asyncio.gather(
            *(
                fetch_json(connector, f"{base}/inflight?key=per-endpoint&delay=0.2")
                for base in (base_a, base_b, base_a, base_b)
            )
        )
        stats = await fetch_json(connector, f"{base_a}/inflight-stats?key=per-endpoint")
        assert stats["max"] == 2
        assert connector.stats().open == 2


async def test_total_limit_caps_all_endpoints(httpwire_server: Any) -> None:
    base_a = httpwire_server.http_url
    base_b = base_a.replace("127.0.0.1", "localhost")
    async with TCPConnector(total_limit=2) as connector:
        await fetch(connector, f"{base_a}/inflight-stats?key=total&reset=1")
        await asyncio.gather(
            *(
                fetch_json(connector, f"{base}/inflight?key=total&delay=0.1")
                for base in (base_a, base_b) * 3
            )
        )
        stats = await fetch_json(connector, f"{base_a}/inflight-stats?key=total")
        assert stats["total"] == 6
        assert stats["max"] == 2
        assert connector.stats().open <= 2


async def test_waiters_are_served_first_come_first_served(httpwire_server: Any) -> None:
    order: list[int] = []
    async with TCPConnector(limit=1) as connector:

        async def one(n: int) -> None:
            await fetch(connector, httpwire_server.url("/inflight?key=fifo&delay=0.01"))
            order.append(n)

        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0)  # each task reaches the queue before the next starts
        await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_idle_connection_expires_after_keepalive_timeout(httpwire_server: Any) -> None:
    url = httpwire_server.url("/connection-id")
    async with TCPConnector(keepalive_timeout=0.1) as connector:
        first = await fetch_json(connector, url)
        assert connector.stats() == IDLE_ONLY
        await asyncio.sleep(0.3)
        assert connector.stats() == EMPTY
        second = await fetch_json(connector, url)
        assert second["connection_id"] != first["connection_id"]


async def test_connection_closed_by_server_while_idle_is_not_reused(httpwire_server: Any) -> None:
    async with TCPConnector() as connector:
        _response, body = await fetch(
            connector, httpwire_server.url("/fault/close-after-response")
        )
        assert body == b"ok"
        await asyncio.sleep(0.05)  # the FIN arrives while the connection idles
        assert connector.stats() == EMPTY
        again = await fetch_json(connector, httpwire_server.url("/connection-id"))
        assert again["requests"] == 1


async def test_failure_of_reused_connection_before_any_byte_is_flagged_stale(
    raw_server: StartServer,
) -> None:
    # The server answers one request, then closes the connection when the next one comes,
    # without a byte: what a server that timed an idle connection out looks like.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await reader.readuntil(b"\r\n\r\n")

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        _response, body = await fetch(connector, base + "/one")
        assert body == b"ok"
        with pytest.raises(ServerDisconnectedError) as info:
            await fetch(connector, base + "/two")
        assert info.value.is_stale_connection
        assert str(info.value) == (
            f"server 127.0.0.1:{URL(base).port} disconnected before sending any response "
            f"for GET {base}/two (the pooled connection had gone stale)"
        )
        assert connector.stats() == EMPTY


async def test_unexpected_bytes_from_an_idle_connection_drop_it(raw_server: StartServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await reader.read()

    base = await raw_server(handler)
    async with TCPConnector() as connector:
        await fetch(connector, base + "/")
        assert connector.stats() == IDLE_ONLY
        await asyncio.sleep(0.2)
        assert connector.stats() == EMPTY


async def test_refused_connection_names_host_port_and_os_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        async with TCPConnector() as connector:
            with pytest.raises(ClientConnectorError) as info:
                await connector.acquire(OutgoingRequest("GET", URL(f"http://127.0.0.1:{port}/x")))
            assert connector.stats() == EMPTY
    assert info.value.errno == errno.ECONNREFUSED
    assert (info.value.host, info.value.port) == ("127.0.0.1", port)
    assert str(info.value) == (
        f"cannot connect to 127.0.0.1:{port} for GET http://127.0.0.1:{port}/x: "
        "Connection refused (errno 111)"
    )


async def test_unresolvable_host_is_a_connector_error() -> None:
    async with TCPConnector() as connector:
        with pytest.raises(
            ClientConnectorError, match=r"cannot connect to nowhere\.invalid:80"
        ) as caught:
            await connector.acquire(OutgoingRequest("GET", URL("http://nowhere.invalid/")))
        assert connector.stats() == EMPTY
    # The resolver's failure in its own words (an EAI_* code is not an errno).
    assert "(getaddrinfo error " in str(caught.value)
    assert "Unknown error" not in str(caught.value)


async def test_sock_connect_timeout(unaccepting_port: int) -> None:
    url = URL(f"http://127.0.0.1:{unaccepting_port}/")
    async with TCPConnector() as connector:
        with pytest.raises(ConnectTimeoutError) as info:
            await connector.acquire(OutgoingRequest("GET", url, sock_connect=0.2))
        assert connector.stats() == EMPTY
    assert isinstance(info.value, asyncio.TimeoutError)
    assert str(info.value) == (
        f"timed out after 0.2 s connecting to 127.0.0.1:{unaccepting_port} for GET {url} "
        "(sock_connect timeout)"
    )


async def test_family_restricts_the_addresses_tried(httpwire_server: Any) -> None:
    url = httpwire_server.localhost_url + "/connection-id"
    async with TCPConnector(family=socket.AF_INET) as connector:
        body = await fetch_json(connector, url)
        assert body["peer"] == "127.0.0.1"


async def test_local_addr_binds_the_local_end(httpwire_server: Any) -> None:
    async with TCPConnector(local_addr=("127.0.0.1", 0)) as connector:
        body = await fetch_json(connector, httpwire_server.url("/connection-id"))
        assert body["peer"] == "127.0.0.1"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="limit must be a positive int or None, got 0"):
        TCPConnector(limit=0)
    with pytest.raises(ValueError, match="total_limit must be a positive int or None, got -1"):
        TCPConnector(total_limit=-1)
    with pytest.raises(ValueError, match="family must be 0, AF_INET or AF_INET6"):
        TCPConnector(family=socket.AF_UNIX)


async def test_close_is_idempotent_and_closes_every_socket(httpwire_server: Any) -> None:
    port = URL(httpwire_server.http_url).port or 80
    assert client_sockets(port) == 0
    connector = TCPConnector()
    responses = []
    for _ in range(3):
        target = URL(httpwire_server.url("/slow-stream?chunks=3&interval=0.5"))
        conn = await connector.acquire(OutgoingRequest("GET", target))
        responses.append(await conn.send(OutgoingRequest("GET", target, NO_HEADERS)))
    await fetch(connector, httpwire_server.url("/get"))
    assert connector.stats().open == 4
    assert client_sockets(port) == 4
    await asyncio.gather(connector.close(), connector.close())
    assert client_sockets(port) == 0  # close() returned after every socket was closed
    await connector.close()
    assert connector.closed
    assert connector.stats() == EMPTY
    for response in responses:
        # The connector was closed, not the server: the error must not blame the server.
        with pytest.raises(
            ClientConnectionError, match=r"^the connector was closed while"
        ) as info:
            await response.content.read()
        assert not isinstance(info.value, ServerDisconnectedError)
        assert info.value.host == "127.0.0.1"
        response.release()
    with pytest.raises(ClientConnectionError, match="connector is closed; cannot send GET"):
        await connector.acquire(OutgoingRequest("GET", URL(httpwire_server.url("/get"))))


async def test_close_fails_requests_waiting_for_a_slot(httpwire_server: Any) -> None:
    connector = TCPConnector(limit=1)
    target = URL(httpwire_server.url("/get"))
    held = await connector.acquire(OutgoingRequest("GET", target))
    waiter = asyncio.create_task(connector.acquire(OutgoingRequest("GET", target)))
    await asyncio.sleep(0.01)
    await connector.close()
    with pytest.raises(ClientConnectionError, match=r"closed while GET .* waited"):
        await waiter
    held.release()
    assert connector.stats() == EMPTY


async def test_unclosed_connector_warns(httpwire_server: Any) -> None:
    port = URL(httpwire_server.http_url).port or 80
    connector = TCPConnector()
    await fetch(connector, httpwire_server.url("/get"))
    with pytest.warns(ResourceWarning, match="unclosed connector"):
        del connector
        gc.collect()
    await asyncio.sleep(0.01)  # the transport it closed reports connection_lost
    assert client_sockets(port) == 0


async def test_close_while_connecting_closes_the_new_socket(httpwire_server: Any) -> None:
    port = URL(httpwire_server.http_url).port or 80
    connector = TCPConnector()
    task = asyncio.create_task(
        connector.acquire(OutgoingRequest("GET", URL(httpwire_server.url("/get"))))
    )
    await asyncio.sleep(0)  # the connect is under way
    await connector.close()
    with pytest.raises(ClientConnectionError, match="closed while connecting for GET"):
        await task
    await asyncio.sleep(0.01)
    assert connector.stats() == EMPTY
    assert client_sockets(port) == 0


async def test_waiters_are_served_in_arrival_order_across_endpoints(
    raw_server: StartServer,
) -> None:
    """With total_limit=1, a released connection must not go to a later waiter for its own
    endpoint before an older waiter for another: arrival order, or a busy endpoint starves
    a quiet one."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    urls = {"a": URL(await raw_server(handler)), "b": URL(await raw_server(handler))}
    served: list[str] = []
    async with TCPConnector(total_limit=1) as connector:

        async def one(name: str) -> None:
            request = OutgoingRequest("GET", urls[name[0]], NO_HEADERS)
            conn = await connector.acquire(request)
            served.append(name)
            response = await conn.send(request)
            assert await response.content.read() == b"ok"
            response.release()

        held = await connector.acquire(OutgoingRequest("GET", urls["a"]))
        arrivals = ["b0", "a1", "b2", "a3", "a4", "b5"]
        tasks = []
        for name in arrivals:
            tasks.append(asyncio.create_task(one(name)))
            await asyncio.sleep(0)  # queued in this order
        assert connector.stats().waiting == len(arrivals)
        held.release()
        await asyncio.gather(*tasks)
        assert served == arrivals
