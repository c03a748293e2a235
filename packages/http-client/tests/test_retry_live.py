"""Retry policies wired into the session, against scripted servers and a refused port.

A scripted server answers ``503`` (with ``Retry-After: 0``, so no test waits) a given
number of times and then ``200``; it counts the requests it received, so each test checks
how many attempts reached the wire, not only the final status.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from tests.conftest import read_head

from httpwire.client import (
    Attempt,
    ClientConnectorError,
    ClientSession,
    ClientTimeout,
    RetryPolicy,
    TCPConnector,
    TraceEvent,
    TraceHooks,
)
from httpwire.client import _session as session_module
from httpwire_testserver import StartServer

NO_WAIT = RetryPolicy(attempts=3, backoff_base=0.0, backoff_max=0.0)


class Flaky:
    """Answers ``failures`` requests with a status, then 200 with the request count."""

    def __init__(self, failures: int, status: int = 503, retry_after: str = "0") -> None:
        self.failures = failures
        self.status = status
        self.retry_after = retry_after
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                return
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if head.lower().find(b"transfer-encoding: chunked") != -1:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            self.requests.append(head + body)
            if len(self.requests) <= self.failures:
                reply = (
                    f"HTTP/1.1 {self.status} Unavailable\r\nRetry-After: {self.retry_after}\r\n"
                    "Content-Length: 4\r\n\r\nbusy"
                )
            else:
                text = str(len(self.requests))
                reply = f"HTTP/1.1 200 OK\r\nContent-Length: {len(text)}\r\n\r\n{text}"
            writer.write(reply.encode())
            await writer.drain()


@pytest.fixture
async def flaky(raw_server: StartServer) -> AsyncIterator[tuple[str, Flaky]]:
    server = Flaky(failures=2)
    yield await raw_server(server.handle), server


async def test_session_policy_retries_503_until_success(
    flaky: tuple[str, Flaky], connector: TCPConnector
) -> None:
    url, server = flaky
    async with (
        ClientSession(connector=connector, connector_owner=False, retry=NO_WAIT) as session,
        session.get(url + "/") as r,
    ):
        assert r.status == 200
        assert await r.text() == "3"
    assert len(server.requests) == 3


async def test_no_policy_sends_once(flaky: tuple[str, Flaky], session: ClientSession) -> None:
    url, server = flaky
    async with session.get(url + "/") as r:
        assert r.status == 503
    assert len(server.requests) == 1


async def test_request_policy_overrides_the_session(
    flaky: tuple[str, Flaky], session: ClientSession
) -> None:
    url, server = flaky
    async with session.get(url + "/", retry=NO_WAIT) as r:
        assert r.status == 200
    assert len(server.requests) == 3


async def test_request_policy_of_one_attempt_turns_retries_off(
    flaky: tuple[str, Flaky], connector: TCPConnector
) -> None:
    url, server = flaky
    async with (
        ClientSession(connector=connector, connector_owner=False, retry=NO_WAIT) as session,
        session.get(url + "/", retry=RetryPolicy(attempts=1)) as r,
    ):
        assert r.status == 503
    assert len(server.requests) == 1


async def test_policy_gives_up_with_the_last_status(
    flaky: tuple[str, Flaky], session: ClientSession
) -> None:
    url, server = flaky
    policy = RetryPolicy(attempts=2, backoff_base=0.0, backoff_max=0.0)
    async with session.get(url + "/", retry=policy) as r:
        assert r.status == 503
        assert await r.text() == "busy"
    assert len(server.requests) == 2


async def test_retry_after_beyond_the_cap_is_not_waited_for(
    raw_server: StartServer, session: ClientSession
) -> None:
    """RFC 9110 §10.2.3: a server asking for more than retry_after_max gets its answer back."""
    server = Flaky(failures=2, retry_after="3600")
    url = await raw_server(server.handle)
    policy = RetryPolicy(attempts=3, retry_after_max=60.0)
    async with session.get(url + "/", retry=policy) as r:
        assert r.status == 503
    assert len(server.requests) == 1


async def test_retry_after_past_the_total_deadline_is_not_waited_for(
    raw_server: StartServer, session: ClientSession
) -> None:
    server = Flaky(failures=2, retry_after="600")
    url = await raw_server(server.handle)
    policy = RetryPolicy(attempts=3, retry_after_max=3600.0)
    async with session.get(url + "/", retry=policy, timeout=ClientTimeout(total=300)) as r:
        assert r.status == 503
    assert len(server.requests) == 1


async def test_only_idempotent_methods_by_default(
    flaky: tuple[str, Flaky], session: ClientSession
) -> None:
    url, server = flaky
    async with session.post(url + "/", data=b"x", retry=NO_WAIT) as r:
        assert r.status == 503
    assert len(server.requests) == 1
    with_post = RetryPolicy(attempts=3, methods={"GET", "POST"}, backoff_base=0.0)
    async with session.post(url + "/", data=b"x", retry=with_post) as r:
        assert r.status == 200
    assert [req.endswith(b"x") for req in server.requests] == [True, True, True]


async def test_a_body_that_cannot_be_replayed_is_never_retried(
    flaky: tuple[str, Flaky], session: ClientSession
) -> None:
    url, server = flaky

    async def chunks() -> AsyncIterator[bytes]:
        yield b"once"

    with_post = RetryPolicy(attempts=3, methods={"POST"}, backoff_base=0.0)
    async with session.post(url + "/", data=chunks(), retry=with_post) as r:
        assert r.status == 503
    assert len(server.requests) == 1


async def test_the_retry_hook_sees_each_retried_attempt(
    flaky: tuple[str, Flaky], session: ClientSession
) -> None:
    url, _ = flaky
    events: list[TraceEvent] = []
    hooks = TraceHooks(on_retry=events.append)
    async with session.get(url + "/", retry=NO_WAIT, trace=hooks) as r:
        assert r.status == 200
    assert [e.name for e in events] == ["retry", "retry"]
    attempts = [e.attempt for e in events]
    assert all(isinstance(a, Attempt) for a in attempts)
    assert [(a.number, a.status) for a in attempts if isinstance(a, Attempt)] == [
        (1, 503),
        (2, 503),
    ]
    assert all(e.timings.first_byte is not None for e in events)


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed: nothing listens there now


async def test_connect_errors_are_retried_and_listed_on_the_error(
    session: ClientSession,
) -> None:
    url = f"http://127.0.0.1:{_refused_port()}/"
    events: list[TraceEvent] = []
    with pytest.raises(ClientConnectorError) as info:
        await session.get(url, retry=NO_WAIT, trace=TraceHooks(on_retry=events.append))
    attempts = info.value.attempts  # type: ignore[attr-defined]  # set by the retry loop
    assert [(a.number, type(a.error)) for a in attempts] == [
        (1, type(info.value)),
        (2, type(info.value)),
        (3, type(info.value)),
    ]
    assert attempts[-1].error is info.value
    assert len(events) == 2
    assert all(isinstance(e.error, ClientConnectorError) for e in events)
    assert "attempt 3: " in "\n".join(getattr(info.value, "__notes__", ()))


async def test_each_redirect_hop_is_retried_on_its_own(
    flaky: tuple[str, Flaky], raw_server: StartServer, session: ClientSession
) -> None:
    target, server = flaky

    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            f"HTTP/1.1 302 Found\r\nLocation: {target}/\r\nContent-Length: 0\r\n\r\n".encode()
        )
        await writer.drain()

    start = await raw_server(redirect)
    async with session.get(start + "/", retry=NO_WAIT) as r:
        assert r.status == 200
        assert [h.status for h in r.history] == [302]  # the 503s are not in history
    assert len(server.requests) == 3


async def test_the_plain_path_never_enters_the_retry_loop(
    flaky: tuple[str, Flaky], session: ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a policy the session does not build or call anything of the retry module."""

    async def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("run_with_retries was called without a policy")

    monkeypatch.setattr(session_module, "run_with_retries", fail)
    url, _ = flaky
    async with session.get(url + "/") as r:
        assert r.status == 503
    with pytest.raises(AssertionError, match="without a policy"):
        await session.get(url + "/", retry=NO_WAIT)


def test_retry_must_be_a_policy() -> None:
    with pytest.raises(TypeError, match="RetryPolicy"):
        ClientSession(retry=3)  # type: ignore[arg-type]  # the error under test
