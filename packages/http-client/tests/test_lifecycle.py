"""Sessions, one-shot requests, the request context, stale connections and cancellation."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import read_head
from yarl import URL

from httpwire.client import (
    ClientSession,
    ClientTimeout,
    ServerDisconnectedError,
    TCPConnector,
    request,
)
from httpwire_testserver import LocalServer, StartServer


def client_sockets(port: int) -> int:
    """TCP sockets of this process connected to ``port`` on loopback (Linux)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            count += 1
    return count


async def sockets_after_closing(port: int) -> int:
    """Client sockets to ``port`` once the loop ran the closes already scheduled."""
    for _ in range(100):
        if not client_sockets(port):
            return 0
        await asyncio.sleep(0)
    return client_sockets(port)


async def test_await_create_task_wait_for_gather_and_async_with(
    session: ClientSession, httpwire_server: LocalServer
) -> None:
    url = httpwire_server.url("/get")
    r = await session.get(url)
    assert r.status == 200
    r.release()
    task = asyncio.create_task(session.get(url))
    r = await task
    r.release()
    r = await asyncio.wait_for(session.get(url), 10)
    r.release()
    for r in await asyncio.gather(session.get(url), session.get(url)):
        r.release()
    async with session.get(url) as r:
        assert r.status == 200
    assert r.closed


async def test_async_with_releases_on_error(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    with pytest.raises(KeyError):
        async with session.get(httpwire_server.url("/stream-bytes/3000000")) as r:
            raise KeyError("boom")
    assert r.closed
    assert connector.stats().in_use == 0


async def test_close_closes_an_owned_connector(httpwire_server: LocalServer) -> None:
    session = ClientSession()
    async with session.get(httpwire_server.url("/get")) as r:
        await r.read()
    assert client_sockets(httpwire_server.port) == 1
    await session.close()
    assert session.closed
    assert session.connector.closed
    assert client_sockets(httpwire_server.port) == 0
    with pytest.raises(RuntimeError, match="the session is closed"):
        await session.get(httpwire_server.url("/get"))
    await session.close()  # idempotent


async def test_connector_owner_false_leaves_the_connector_open(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    for _ in range(2):
        async with (
            ClientSession(connector=connector, connector_owner=False) as s,
            s.get(httpwire_server.url("/get")) as r,
        ):
            await r.read()
        assert s.closed
    assert not connector.closed
    assert connector.stats().idle == 1


def _forget_a_session() -> None:
    ClientSession()


async def test_an_unclosed_session_warns_where_it_was_made() -> None:
    with pytest.warns(
        ResourceWarning, match=r"unclosed ClientSession created at .*test_lifecycle.py:\d+"
    ):
        _forget_a_session()
        gc.collect()


async def test_request_has_its_own_connection_closed_after_reading(
    httpwire_server: LocalServer,
) -> None:
    """The guide's "Make a Request" and "Response Content"."""
    r = await request("get", httpwire_server.url("/get"))
    assert r.status == 200
    await r.json()
    assert await sockets_after_closing(httpwire_server.port) == 0


async def test_request_of_a_small_body_closes_at_once(raw_server: StartServer) -> None:
    """The whole body came with the head: nothing is left open, yet the body is readable."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")  # one write
        await reader.read()

    base = await raw_server(handler)
    r = await request("get", base)
    assert client_sockets(URL(base).port or 0) == 0
    assert await r.read() == b"hello"


async def test_request_unread_then_dropped(httpwire_server: LocalServer) -> None:
    """The guide's "Response Status Codes": the response is never read nor released."""
    r = await request("get", httpwire_server.url("/stream-bytes/3000000"))
    assert r.status == 200
    del r
    gc.collect()
    assert await sockets_after_closing(httpwire_server.port) == 0


async def test_request_with_async_with(httpwire_server: LocalServer) -> None:
    async with request("post", httpwire_server.url("/post"), data={"a": "1"}) as r:
        assert (await r.json())["form"] == {"a": "1"}
    assert client_sockets(httpwire_server.port) == 0


async def test_request_with_a_connector(
    connector: TCPConnector, httpwire_server: LocalServer
) -> None:
    """The guide's "Connectors": the connector is borrowed and left open."""
    for _ in range(2):
        r = await request("get", httpwire_server.url("/get"), connector=connector)
        await r.read()
    assert not connector.closed
    assert connector.stats().idle == 1


async def test_request_errors_close_the_connector(httpwire_server: LocalServer) -> None:
    with pytest.raises(ServerDisconnectedError):
        await request("get", httpwire_server.url("/fault/close-before-response"))
    assert client_sockets(httpwire_server.port) == 0


async def test_request_calls_never_share_a_connection(httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/connection-id")
    first = await (await request("get", url)).json()
    async with request("get", url) as r:
        second = await r.json()
    assert first["connection_id"] != second["connection_id"]
    assert first["requests"] == second["requests"] == 1
    assert client_sockets(httpwire_server.port) == 0


async def test_request_calls_are_not_limited_in_number(httpwire_server: LocalServer) -> None:
    """More calls at once than a connector's default total_limit (100) all run at once."""
    key = f"one-shot-{os.getpid()}-{id(httpwire_server)}"
    url = httpwire_server.url(f"/inflight?key={key}&delay=0.5")

    async def one() -> None:
        async with request("get", url) as r:
            assert r.status == 200

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(120))), 30)
    async with request("get", httpwire_server.url(f"/inflight-stats?key={key}")) as r:
        stats = await r.json()
    assert stats["max"] == 120
    assert client_sockets(httpwire_server.port) == 0


async def test_request_calls_share_the_answers_of_name_lookups(
    httpwire_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host name is looked up once for the DNS cache's lifetime, not at every call."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    asked: list[object] = []

    async def counting(host: object, *args: object, **kwargs: object) -> object:
        asked.append(host)
        return await real(host, *args, **kwargs)  # type: ignore[arg-type]  # passed through

    monkeypatch.setattr(loop, "getaddrinfo", counting)
    url = f"http://localhost:{httpwire_server.port}/get"
    for _ in range(3):
        async with request("get", url) as r:
            assert r.status == 200
    assert asked == ["localhost"]


def test_request_calls_leave_nothing_to_warn_about_when_their_loop_ends(
    httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """Each asyncio.run() has its shared connector; none warns when its loop is gone."""
    script = tmp_path / "one_shots.py"
    script.write_text(
        "import asyncio, gc, sys\n"
        "from httpwire.client import request\n"
        "async def main(url):\n"
        "    for _ in range(3):\n"
        "        async with request('get', url) as r:\n"
        "            await r.read()\n"
        "    r = await request('get', url + '?again')\n"  # left to the garbage collector
        "for _ in range(2):\n"
        "    asyncio.run(main(sys.argv[1]))\n"
        "gc.collect()\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", str(script), httpwire_server.url("/get")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert "Warning" not in done.stderr, done.stderr


def stale_server() -> tuple[list[bytes], object]:
    """A server whose first connection answers once, then closes on the next request."""
    seen: list[bytes] = []
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        first = connections == 1
        while True:
            head = await read_head(reader)
            seen.append(head.split(b" ", 2)[0])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if first and len(seen) > 1:
                return  # the keep-alive race: the request arrives, the server closes
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    return seen, handler


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("limits", [None, ClientTimeout(total=30)])
async def test_a_stale_connection_is_retried_once_for_idempotent_methods(
    session: ClientSession, raw_server: StartServer, method: str, limits: ClientTimeout | None
) -> None:
    seen, handler = stale_server()
    base = await raw_server(handler)  # type: ignore[arg-type]  # the handler above
    for _ in range(2):
        data = b"x" if method == "PUT" else None
        async with session.request(method, base, data=data, timeout=limits) as r:
            assert await r.read() == b"ok"
    assert len(seen) == 3  # the second request was sent twice


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_stale_connection_is_not_retried_otherwise(
    session: ClientSession, raw_server: StartServer, method: str
) -> None:
    seen, handler = stale_server()
    base = await raw_server(handler)  # type: ignore[arg-type]  # the handler above
    async with session.request(method, base, data=b"x") as r:
        await r.read()
    with pytest.raises(ServerDisconnectedError) as info:
        await session.request(method, base, data=b"x")
    assert info.value.is_stale_connection
    assert len(seen) == 2


async def test_a_stale_connection_with_a_stream_body_is_not_retried(
    session: ClientSession, raw_server: StartServer
) -> None:
    seen, handler = stale_server()
    base = await raw_server(handler)  # type: ignore[arg-type]  # the handler above

    async def body() -> AsyncIterator[bytes]:
        yield b"x"

    async with session.put(base, data=b"x") as r:
        await r.read()
    with pytest.raises(ServerDisconnectedError):
        await session.put(base, data=body())
    assert len(seen) == 2


@pytest.mark.parametrize("steps", range(0, 40, 3))
async def test_cancellation_at_any_point_leaves_the_pool_balanced(
    session: ClientSession, connector: TCPConnector, httpwire_server: LocalServer, steps: int
) -> None:
    """Cancel a redirected POST after a given number of loop iterations."""

    async def run() -> None:
        async with session.post(
            httpwire_server.url("/redirect-to?url=/anything&status_code=307"), data=b"abc"
        ) as r:
            await r.read()

    task = asyncio.create_task(run())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    stats = connector.stats()
    assert stats.in_use == 0 and stats.waiting == 0 and stats.connecting == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/get"),
        ("post", "/post"),
        ("put", "/put"),
        ("delete", "/delete"),
        ("head", "/get"),
        ("options", "/get"),
        ("patch", "/patch"),
    ],
)
async def test_request_with_every_method_of_the_guide(
    httpwire_server: LocalServer, method: str, path: str
) -> None:
    """The guide's "Make a Request"."""
    r = await request(method, httpwire_server.url(path))
    assert r.status == 200
    assert r.method == method.upper()
    await r.read()
    async with r:
        pass
    assert client_sockets(httpwire_server.port) == 0


async def test_saving_a_streamed_body(
    session: ClientSession, httpwire_server: LocalServer, tmp_path: Path
) -> None:
    """The guide's "Streaming Response Content": save what is streamed to a file."""
    filename = tmp_path / "body"
    r = await session.get(httpwire_server.url("/stream-bytes/500000?seed=5&chunk_size=7000"))
    with open(filename, "wb") as fd:  # noqa: ASYNC230  # the guide's example as written
        while True:
            chunk = await r.content.read(65536)
            if not chunk:
                break
            fd.write(chunk)
    r.release()
    expected = await (await session.get(httpwire_server.url("/bytes/500000?seed=5"))).read()
    assert filename.read_bytes() == expected


async def test_a_request_dropped_before_it_ran_is_freed_at_once(session: ClientSession) -> None:
    """The pending request and its coroutine hold no reference cycle: dropping them frees
    them without waiting for the cycle collector."""
    pending = session.get("http://127.0.0.1:1/")
    coroutine = weakref.ref(pending._coro)
    pending.close()  # as asyncio does for a coroutine it never started
    del pending
    assert coroutine() is None


@pytest.mark.parametrize("path", ["/bytes/13", "/gzip", "/stream/3"])
async def test_a_read_response_is_freed_without_the_cycle_collector(
    httpwire_server: LocalServer, path: str
) -> None:
    # Once a response is read and dropped, reference counting frees all of it: no request
    # leaves a reference cycle behind (which would hold its objects until a collection).
    # The test server runs in this process: only the client's own objects are counted.
    async with ClientSession() as session:
        async with session.get(httpwire_server.url(path)) as response:  # code paths warmed
            await response.read()
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                async with session.get(httpwire_server.url(path)) as response:
                    await response.read()
                del response
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            ours = sorted(
                {
                    type(o).__qualname__
                    for o in gc.garbage
                    if type(o).__module__.startswith("httpwire.")
                }
            )
            assert ours == []
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
