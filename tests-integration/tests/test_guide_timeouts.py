"""The guide's "Timeouts", in modern form, against our server and httpbin on gunicorn.

``asyncio.wait_for(request(...), 0.001)`` raises ``asyncio.TimeoutError`` and leaves
nothing behind; ``timeout=n`` means "no bytes received for n seconds" (the guide's
warning), so a slow but steady body is never cut, while a silent server is. The
answers are held back by ``/delay/N`` and trickled by ``/drip`` (both peers), so
each outcome is decided by a margin of several times the limit.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import pytest
from tests.guide_support import leak_check

from httpwire.client import (
    ClientError,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    ClientTimeoutError,
    ProxyConnector,
    ReadTimeoutError,
    TCPConnector,
    TotalTimeoutError,
    request,
)

if TYPE_CHECKING:
    from httpwire_testserver import LocalServer
    from httpwire_testserver.plugin import Peer, Proxies, TlsPeer


@pytest.fixture(autouse=True)
async def _no_leaks() -> AsyncIterator[None]:
    async with leak_check():
        yield


async def test_wait_for_raises_timeout_error(server: Peer) -> None:
    """``await asyncio.wait_for(request('get', url), 0.001)`` raises ``asyncio.TimeoutError``."""
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(request("get", server.url("/delay/3")), 0.001)


def _await_chain(coro: object) -> str:
    """Where a suspended coroutine waits: ``file:line function`` down its await chain."""
    coro = getattr(coro, "_coro", coro)  # the request's own coroutine, when it is wrapped
    steps = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            steps.append(type(coro).__name__)
            break
        name = frame.f_code.co_filename.rsplit("/", 1)[-1]
        steps.append(f"{name}:{frame.f_lineno} {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return " -> ".join(steps)


async def _cancel_after(
    call: Callable[[], Coroutine[Any, Any, ClientResponse]], turns: int
) -> bool:
    """Start ``call()`` as a task, cancel it after ``turns`` turns of the loop.

    Returns:
        Whether the cancellation was still to come (False: the response came first).

    Raises:
        AssertionError: The task swallowed the cancellation and returned a response.
    """
    task = asyncio.create_task(call())
    for _ in range(turns):
        await asyncio.sleep(0)
    if task.done():
        (await task).release()
        return False
    where = _await_chain(task.get_coro())
    task.cancel()
    try:
        response = await task
    except asyncio.CancelledError:
        return True
    response.release()
    raise AssertionError(
        f"cancelled after {turns} turns of the loop, the request went on; "
        f"it was waiting at {where}"
    )


async def test_cancelled_at_every_await_point(server: Peer) -> None:
    """What ``wait_for`` does at its deadline, at each await point in turn, counted in turns.

    The 0.001 s of the guide lands wherever the request happens to be; this walks the
    cancellation through every step (connecting, sending, waiting for the head) and
    checks that each raises ``CancelledError`` and leaves no socket open (the leak
    check after the test).
    """
    url = server.url("/delay/0.5")
    for turns in range(40):
        assert await _cancel_after(lambda: request("get", url), turns)


async def test_cancelled_at_every_await_point_in_a_session(server: Peer) -> None:
    conn = TCPConnector(limit=1)
    async with ClientSession(connector=conn) as session:
        url = server.url("/delay/0.5")
        for turns in range(40):
            assert await _cancel_after(lambda: session.get(url), turns)
            await asyncio.sleep(0)
            stats = conn.stats()
            assert (stats.in_use, stats.connecting, stats.waiting) == (0, 0, 0), turns
        async with session.get(server.url("/get")) as r:
            assert r.status == 200


async def test_cancelled_at_every_await_point_over_tls(https_server: TlsPeer) -> None:
    """The same walk through a TLS handshake."""
    conn = TCPConnector(ssl_context=https_server.ssl_context())
    async with ClientSession(connector=conn) as session:
        url = https_server.url("/delay/0.5")
        for turns in range(60):
            assert await _cancel_after(lambda: session.get(url), turns)
        async with session.get(https_server.url("/get")) as r:
            assert r.status == 200


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_cancelled_at_every_await_point_through_a_proxy(
    httpwire_server: LocalServer, proxy: Proxies, scheme: str
) -> None:
    """The same walk through proxy.py: absolute-form for http, a CONNECT tunnel for https."""
    conn = ProxyConnector(proxy=proxy.auth_url, ssl_context=httpwire_server.ssl_context())
    async with ClientSession(connector=conn) as session:
        url = httpwire_server.url("/delay/0.5", scheme=scheme)
        for turns in range(60):
            assert await _cancel_after(lambda: session.get(url), turns)
        async with session.get(httpwire_server.url("/get", scheme=scheme)) as r:
            assert r.status == 200


async def test_wait_for_on_a_session_leaves_the_pool_usable(server: Peer) -> None:
    """Cancelled mid-request, the connection is closed, not lent again half used."""
    conn = TCPConnector(limit=1)
    async with ClientSession(connector=conn) as session:
        for _ in range(2):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(session.get(server.url("/delay/3")), 0.2)
        stats = conn.stats()
        assert stats.in_use == 0
        assert stats.connecting == 0
        # limit=1: a leaked slot would make this wait forever (pytest-timeout ends it).
        async with session.get(server.url("/get")) as r:
            assert r.status == 200
        assert conn.stats().in_use == 0


async def test_wait_for_while_reading_the_body(httpwire_server: LocalServer) -> None:
    """Cancelled while the body trickles in: the response's connection is closed."""
    conn = TCPConnector(limit=1)
    async with ClientSession(connector=conn) as session:
        r = await session.get(httpwire_server.url("/slow-stream?chunks=20&interval=0.2&size=10"))
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(r.read(), 0.3)
        finally:
            r.release()
        assert conn.stats().in_use == 0
        async with session.get(httpwire_server.url("/get")) as r:
            assert r.status == 200


async def test_timeout_n_is_no_bytes_for_n_seconds(server: Peer) -> None:
    """The warning: an error when "no bytes have been received ... for timeout seconds"."""
    url = server.url("/delay/3")
    with pytest.raises(ReadTimeoutError) as info:
        async with request("get", url, timeout=0.3):
            pass
    exc = info.value
    assert isinstance(exc, asyncio.TimeoutError)
    assert isinstance(exc, TimeoutError)
    assert isinstance(exc, ClientTimeoutError)
    assert isinstance(exc, ClientError)
    message = str(exc)
    assert url in message
    assert "GET" in message
    assert "0.3" in message
    assert "Errno" not in message
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc)
    assert str(again) == message


async def test_a_slow_but_steady_body_is_not_cut_by_timeout_n(server: Peer) -> None:
    """The timeout "is not a time limit on the entire response download"."""
    # 12 bytes, one every 0.1 s: 1.2 s in all, twice the 0.6 s timeout; a gap between
    # two bytes would have to stretch sixfold to reach it.
    url = server.url("/drip?duration=1.2&numbytes=12&delay=0")
    async with request("get", url, timeout=0.6) as r:
        body = await r.read()
    assert body == b"*" * 12


async def test_a_silent_body_is_cut_by_timeout_n(httpwire_server: LocalServer) -> None:
    url = httpwire_server.url("/fault/stall?after=head")
    async with request("get", url, timeout=0.3) as r:
        with pytest.raises(ReadTimeoutError):
            await r.read()


async def test_client_timeout_sock_read_in_a_session(server: Peer) -> None:
    async with ClientSession(timeout=ClientTimeout(sock_read=0.6)) as session:
        with pytest.raises(ReadTimeoutError):
            await session.get(server.url("/delay/3"))
        async with session.get(server.url("/drip?duration=1.2&numbytes=12&delay=0")) as r:
            assert await r.read() == b"*" * 12


async def test_client_timeout_total_is_a_deadline(server: Peer) -> None:
    """``ClientTimeout(total=...)`` bounds the whole exchange, bytes flowing or not."""
    timeout = ClientTimeout(total=0.5)
    url = server.url("/drip?duration=3&numbytes=30&delay=0")
    async with ClientSession(timeout=timeout) as session:
        with pytest.raises(TotalTimeoutError) as info:
            async with session.get(url) as r:
                await r.read()
    assert isinstance(info.value, asyncio.TimeoutError)
    assert "0.5" in str(info.value)
