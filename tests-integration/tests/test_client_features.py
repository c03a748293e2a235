"""The client's middlewares, tracing and progress against real peers.

Digest authentication is checked against httpbin's ``/digest-auth`` endpoints on
gunicorn (our local server has none); the requests each exchange made are counted with the
trace hooks.
"""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from yarl import URL

from httpwire.client import (
    ClientSession,
    CookieJar,
    DigestAuth,
    Progress,
    RateLimiter,
    TCPConnector,
    TraceEvent,
    TraceHooks,
)
from httpwire_testserver import HttpbinPeer, LocalServer
from httpwire_testserver.plugin import Peer


def counting() -> tuple[TraceHooks, list[TraceEvent]]:
    events: list[TraceEvent] = []
    return TraceHooks(on_request_start=events.append, on_request_end=events.append), events


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
async def test_digest_auth_against_httpbin(httpbin_server: HttpbinPeer, algorithm: str) -> None:
    """RFC 7616: httpbin challenges, the middleware answers, later requests go preemptive."""
    hooks, events = counting()
    url = f"{httpbin_server.http_url}/digest-auth/auth/user/passwd/{algorithm}/never"
    async with ClientSession(
        middlewares=[DigestAuth("user", "passwd")],
        trace=hooks,
        cookie_jar=CookieJar(unsafe=True),  # httpbin's digest endpoint sets cookies
    ) as session:
        async with session.get(url) as r:
            assert r.status == 200
            assert await r.json() == {"authenticated": True, "user": "user"}
        statuses = [e.response.status for e in events if e.response is not None]
        assert statuses == [401, 200]
        events.clear()
        async with session.get(url) as r:
            assert r.status == 200
        assert [e.name for e in events] == ["request_start", "request_end"]  # one exchange


async def test_digest_stale_nonce_against_httpbin(httpbin_server: HttpbinPeer) -> None:
    """httpbin's stale_after=1: the second request's nonce is declared stale, and renewed."""
    hooks, events = counting()
    url = f"{httpbin_server.http_url}/digest-auth/auth/user/passwd/MD5/1"
    async with ClientSession(
        middlewares=[DigestAuth("user", "passwd")],
        trace=hooks,
        cookie_jar=CookieJar(unsafe=True),
    ) as session:
        for _ in range(2):
            async with session.get(url) as r:
                assert r.status == 200
    statuses = [e.response.status for e in events if e.response is not None]
    assert statuses == [401, 200, 401, 200]


async def test_digest_wrong_password_against_httpbin(httpbin_server: HttpbinPeer) -> None:
    hooks, events = counting()
    url = f"{httpbin_server.http_url}/digest-auth/auth/user/passwd/SHA-256/never"
    async with (
        ClientSession(
            middlewares=[DigestAuth("user", "wrong")],
            trace=hooks,
            cookie_jar=CookieJar(unsafe=True),
        ) as session,
        session.get(url) as r,
    ):
        assert r.status == 401
    assert len([e for e in events if e.name == "request_start"]) == 2  # no loop


async def test_timings_and_rate_limit_on_both_peers(server: Peer) -> None:
    limiter = RateLimiter(rate=1000, burst=10)
    hooks, events = counting()
    seen = []
    async with ClientSession(middlewares=[limiter], trace=hooks) as session:
        for _ in range(2):
            async with session.get(server.url("/get")) as r:
                assert r.status == 200
                await r.read()
                timings = r.timings
                assert timings is not None
                seen.append(timings)
    assert len(events) == 4
    first, second = seen
    port = URL(server.url("/")).port
    for t in seen:
        assert t.remote_address == ("127.0.0.1", port)
        stamps = [t.start, t.acquired, t.request_sent, t.first_byte, t.body_done]
        present = [stamp for stamp in stamps if stamp is not None]
        assert len(present) == len(stamps) and present == sorted(present)
        assert None not in (t.pool_wait, t.sending, t.waiting, t.receiving, t.total)
    assert first.is_reused is False and first.connect is not None and first.dns is not None
    assert second.is_reused is True and second.connect is None and second.dns is None
    assert first.local_address == second.local_address


async def test_tls_phase_against_our_tls_listener(httpwire_server: LocalServer) -> None:
    async with (
        ClientSession(
            connector=TCPConnector(ssl_context=httpwire_server.ssl_context()), trace=TraceHooks()
        ) as session,
        session.get(httpwire_server.https_url + "/get") as r,
    ):
        await r.read()
        timings = r.timings
    assert timings is not None and timings.tls is not None and timings.tls > 0
    assert timings.connect_end is not None and timings.tls_start is not None
    assert timings.connect_end <= timings.tls_start


async def test_progress_on_both_peers(server: Peer) -> None:
    data = hashlib.sha256(b"seed").digest() * 10_000  # 320 000 bytes
    up: list[Progress] = []
    down: list[Progress] = []
    async with ClientSession() as session:
        async with session.post(
            server.url("/post"), data=data, on_upload_progress=up.append, progress_interval=0
        ) as r:
            assert r.status == 200
            await r.read()
        async with session.get(
            server.url("/bytes/100000"), on_download_progress=down.append, progress_interval=0
        ) as r:
            body = await r.read()
        for _ in range(3):  # the last report comes on the next loop turn
            await asyncio.sleep(0)
    assert len(body) == 100_000
    assert up[0] == Progress(0, len(data)) and up[-1] == Progress(len(data), len(data), True)
    assert down[0] == Progress(0, 100_000) and down[-1] == Progress(100_000, 100_000, True)
