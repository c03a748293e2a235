"""Middlewares, tracing and progress through ClientSession, against the local server."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging

import pytest
from tests.test_digest import DigestServer
from yarl import URL

from httpwire.client import (
    ClientRequest,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    DigestAuth,
    FormData,
    Handler,
    Middleware,
    Progress,
    RateLimiter,
    TCPConnector,
    TraceEvent,
    TraceHooks,
    request,
)
from httpwire_testserver import LocalServer, StartServer


def recording(name: str, log: list[str]) -> Middleware:
    async def middleware(request: ClientRequest, handler: Handler) -> ClientResponse:
        log.append(f"{name} {request.method} {request.url.path}")
        return await handler(request)

    return middleware


async def test_middlewares_wrap_each_redirect_hop(
    httpwire_server: LocalServer, session: ClientSession, connector: TCPConnector
) -> None:
    log: list[str] = []
    async with (
        ClientSession(
            connector=connector, connector_owner=False, middlewares=[recording("session", log)]
        ) as s,
        s.get(httpwire_server.url("/redirect/2"), middlewares=[recording("request", log)]) as r,
    ):
        assert r.status == 200
        assert len(r.history) == 2
    assert log == [
        "session GET /redirect/2",
        "request GET /redirect/2",
        "session GET /relative-redirect/1",
        "request GET /relative-redirect/1",
        "session GET /get",
        "request GET /get",
    ]


async def test_a_middleware_sees_the_session_headers_and_cookies_go_after_it(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    seen: list[ClientRequest] = []

    async def look(request: ClientRequest, handler: Handler) -> ClientResponse:
        seen.append(request)
        return await handler(request.with_header("X-Added", "1"))

    await (await session.get(httpwire_server.localhost_url + "/cookies/set/k/v")).read()
    async with session.get(
        httpwire_server.localhost_url + "/headers", headers={"X-Mine": "m"}, middlewares=[look]
    ) as r:
        echoed = (await r.json())["headers"]
    headers = seen[-1].headers
    assert headers["X-Mine"] == "m" and "User-Agent" in headers
    assert "Cookie" not in headers  # the jar's cookies are added after the chain
    assert echoed["X-Added"] == "1" and echoed["Cookie"] == "k=v"
    assert seen[-1].initial_url == seen[-1].url


async def test_a_resent_request_carries_the_cookies_of_the_first_answer(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    async def twice(request: ClientRequest, handler: Handler) -> ClientResponse:
        first = await handler(request.replace(url=request.url.with_path("/cookies/set/t/1")))
        await first.read()
        return await handler(request)

    async with session.get(httpwire_server.localhost_url + "/cookies", middlewares=[twice]) as r:
        assert (await r.json())["cookies"] == {"t": "1"}


async def test_a_middleware_returning_no_response_is_a_type_error(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    async def broken(request: ClientRequest, handler: Handler) -> ClientResponse:
        return "nope"  # type: ignore[return-value]  # the mistake the check is for

    with pytest.raises(TypeError, match="returned a str, not a ClientResponse"):
        await session.get(httpwire_server.url("/get"), middlewares=[broken])


async def test_middlewares_with_the_one_shot_request(httpwire_server: LocalServer) -> None:
    log: list[str] = []
    async with request(
        "GET", httpwire_server.url("/get"), middlewares=[recording("one", log)]
    ) as r:
        assert r.status == 200
    assert log == ["one GET /get"]


async def test_rate_limiter_in_a_session(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    limiter = RateLimiter(rate=0.001, burst=3)  # three at once, then one per 1000 s
    async with ClientSession(
        connector=connector, connector_owner=False, middlewares=[limiter]
    ) as s:
        for _ in range(3):
            async with s.get(httpwire_server.url("/get")) as r:
                assert r.status == 200
    assert limiter.available(r.url) < 1  # the burst was spent by the three requests
    async with ClientSession(
        connector=connector, connector_owner=False, middlewares=[limiter]
    ) as s:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(s.get(httpwire_server.url("/get")), 0)
    assert limiter.waiting(r.url) == 0  # the cancelled request left the queue


async def test_digest_auth_through_the_session_needs_a_real_challenge(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    # The local server has no Digest endpoint: a Basic challenge is left alone (returned).
    auth = DigestAuth("user", "passwd")
    async with session.get(
        httpwire_server.url("/basic-auth/user/passwd"), middlewares=[auth]
    ) as r:
        assert r.status == 401


# -- tracing -----------------------------------------------------------------------------


async def test_trace_hooks_and_timings_across_redirects(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    events: list[TraceEvent] = []

    async def record(event: TraceEvent) -> None:
        events.append(event)

    hooks = TraceHooks(
        on_request_start=record,
        on_request_end=events.append,
        on_redirect=record,
        on_request_exception=record,
    )
    async with (
        ClientSession(connector=connector, connector_owner=False, trace=hooks) as s,
        s.get(httpwire_server.url("/redirect/1")) as r,
    ):
        await r.read()
        timings = r.timings
        first = r.history[0].timings
    assert [(e.name, e.url.path) for e in events] == [
        ("request_start", "/redirect/1"),
        ("request_end", "/redirect/1"),
        ("redirect", "/redirect/1"),
        ("request_start", "/get"),
        ("request_end", "/get"),
    ]
    assert events[2].response is not None and events[2].response.status == 302
    assert timings is not None and first is not None
    for t in (timings, first):
        assert t.acquired is not None and t.first_byte is not None
        assert t.start <= t.acquired <= t.first_byte
        assert t.body_done is not None and t.body_done >= t.first_byte
    assert first.start < timings.start


async def test_request_exception_hook(connector: TCPConnector) -> None:
    events: list[TraceEvent] = []
    async with ClientSession(
        connector=connector,
        connector_owner=False,
        trace=TraceHooks(on_request_exception=events.append),
    ) as s:
        with pytest.raises(OSError):
            await s.get("http://127.0.0.1:1/")
    assert [e.name for e in events] == ["request_exception"]
    assert isinstance(events[0].error, OSError)


async def test_every_response_carries_its_timings_without_tracing(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    """No hooks, no debug logging: the phases, reuse and addresses are there all the same."""
    async with session.get(httpwire_server.url("/get")) as r:
        await r.read()
        first = r.timings
    async with session.get(httpwire_server.url("/get")) as r:
        await r.read()
        second = r.timings
    server = (URL(httpwire_server.url("/")).host, URL(httpwire_server.url("/")).port)
    for t in (first, second):
        assert t.acquired is not None and t.request_sent is not None
        assert t.first_byte is not None and t.body_done is not None
        assert t.start <= t.acquired <= t.request_sent <= t.first_byte <= t.body_done
        assert t.remote_address == server
        assert isinstance(t.local_address, tuple) and t.local_address[0] == server[0]
    # The first request opened the connection (its connect phase is measured), the second
    # reused it: no connect, and the same local address.
    assert first.is_reused is False and second.is_reused is True
    assert first.connect is not None and first.connect >= 0
    assert second.connect is None and second.dns is None and second.tls is None
    assert second.local_address == first.local_address
    assert second.start > first.start


async def test_timings_of_each_redirect_hop_without_tracing(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    async with session.get(httpwire_server.url("/redirect/2")) as r:
        await r.read()
        hops = [h.timings for h in r.history] + [r.timings]
    assert len(hops) == 3
    for earlier, later in itertools.pairwise(hops):
        assert earlier.first_byte is not None and later.first_byte is not None
        assert earlier.first_byte <= later.start
    assert all(t.body_done is not None for t in hops)
    assert hops[0].is_reused is False and hops[2].is_reused is True


async def test_body_done_waits_for_a_streamed_body_without_tracing(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    async with session.get(httpwire_server.url("/stream-bytes/300000?chunk_size=1024")) as r:
        during = r.timings
        body = await r.read()
        after = r.timings
    assert len(body) == 300_000
    assert during.first_byte is not None
    assert during.body_done is None or during.body_done >= during.first_byte
    assert after.body_done is not None and after.first_byte is not None
    assert after.body_done >= after.first_byte
    assert after.total is not None and after.receiving is not None


async def test_timings_with_a_total_timeout(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    """The deadline's path (``send`` under ``asyncio.timeout``) stamps the same phases."""
    async with session.get(httpwire_server.url("/get"), timeout=ClientTimeout(total=30)) as r:
        await r.read()
        t = r.timings
    assert t.acquired is not None and t.request_sent is not None and t.first_byte is not None
    assert t.start <= t.acquired <= t.request_sent <= t.first_byte
    assert t.is_reused is False


async def test_empty_trace_hooks_turn_timings_on(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    async with (
        ClientSession(connector=connector, connector_owner=False) as s,
        s.get(httpwire_server.url("/stream-bytes/100000"), trace=TraceHooks()) as r,
    ):
        during = r.timings
        body = await r.read()
        after = r.timings
    assert len(body) == 100_000
    assert during is not None and after is not None
    assert after.body_done is not None and after.total is not None
    assert after.total >= 0


async def test_debug_line_per_request_sent(
    httpwire_server: LocalServer, session: ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="httpwire.client"):
        async with session.get(httpwire_server.url("/redirect/1")) as r:
            await r.read()
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "httpwire.client"]
    assert len(lines) == 2
    assert lines[0].startswith(f"GET {httpwire_server.url('/redirect/1')} 302 ")
    assert lines[1].startswith(f"GET {httpwire_server.url('/get')} 200 ")


def test_trace_must_be_trace_hooks() -> None:
    with pytest.raises(TypeError, match="trace must be a TraceHooks"):
        ClientSession(trace=print)  # type: ignore[arg-type]  # the mistake the check is for


# -- progress ----------------------------------------------------------------------------


async def test_upload_progress_of_a_multipart_form(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    form = FormData()
    form.add_field("file", io.BytesIO(b"z" * 200_000), filename="z.bin")
    reports: list[Progress] = []
    async with session.post(
        httpwire_server.url("/post"), data=form, on_upload_progress=reports.append
    ) as r:
        assert len((await r.json())["files"]["file"]) == 200_000
    assert reports[0].done == 0 and reports[-1].finished
    assert reports[-1].done > 200_000


async def test_upload_progress_is_sent_again_after_a_307(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    reports: list[Progress] = []
    target = httpwire_server.url("/post")
    async with session.post(
        httpwire_server.url(f"/redirect-to?url={target}&status_code=307"),
        data=b"x" * 1000,
        on_upload_progress=reports.append,
        progress_interval=0,
    ) as r:
        assert (await r.json())["data"] == "x" * 1000
    finals = [p for p in reports if p.finished]
    assert finals == [Progress(1000, 1000, True)] * 2  # once per hop that sent the body


async def test_the_last_download_report_comes_when_the_body_is_read(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    # The reports' timer never fires here (60 s): the last report comes from read()
    # itself, so a program that ends right after it still gets it.
    reports: list[Progress] = []
    async with session.get(
        httpwire_server.url("/bytes/150000"),
        on_download_progress=reports.append,
        progress_interval=60,
    ) as r:
        body = await r.read()
        assert reports[-1] == Progress(len(body), 150_000, True)
    assert reports[0] == Progress(0, 150_000)
    assert [p for p in reports if p.finished] == [Progress(150_000, 150_000, True)]


async def test_the_last_download_report_comes_when_a_streamed_body_is_released(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    reports: list[Progress] = []
    received = 0
    async with session.get(
        httpwire_server.url("/bytes/150000"),
        on_download_progress=reports.append,
        progress_interval=60,
    ) as r:
        async for piece in r.content.iter_chunked(4096):
            received += len(piece)
    assert received == 150_000
    assert reports[-1] == Progress(150_000, 150_000, True)
    assert len([p for p in reports if p.finished]) == 1


async def test_a_body_released_unread_ends_its_reports_too(
    httpwire_server: LocalServer, session: ClientSession
) -> None:
    reports: list[Progress] = []
    r = await session.get(
        httpwire_server.url("/drip?numbytes=5&duration=5"),  # a byte a second
        on_download_progress=reports.append,
        progress_interval=60,
    )
    await r.content.readexactly(1)
    r.close()
    assert reports[-1].finished
    assert reports[-1].done >= 1
    assert len([p for p in reports if p.finished]) == 1


# -- pool insight ------------------------------------------------------------------------


async def test_pool_stats_per_endpoint_and_in_total(
    httpwire_server: LocalServer, session: ClientSession, connector: TCPConnector
) -> None:
    url = httpwire_server.url("/drip?numbytes=2&duration=20")  # a byte, then a long pause
    other = httpwire_server.localhost_url + "/get"
    r = await session.get(url)
    await r.content.readany()  # the body is still arriving: its connection is in use
    endpoint = connector.stats(url)
    assert (endpoint.in_use, endpoint.idle, endpoint.waiting) == (1, 0, 0)
    async with session.get(other) as r2:
        await r2.read()
    assert connector.stats(other).idle == 1  # localhost is another endpoint
    total = connector.stats()
    assert (total.in_use, total.idle, total.open) == (1, 1, 2)
    r.close()  # not waiting for the rest: the connection is dropped
    assert connector.stats(url).open == 0 and connector.stats().open == 1


async def test_a_failing_hook_fails_the_request_without_leaking(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    async def broken(event: TraceEvent) -> None:
        raise RuntimeError(f"hook bug at {event.name}")

    for hooks in (TraceHooks(on_request_end=broken), TraceHooks(on_connection_created=broken)):
        async with ClientSession(connector=connector, connector_owner=False, trace=hooks) as s:
            with pytest.raises(RuntimeError, match="hook bug"):
                await s.get(httpwire_server.url("/stream-bytes/100000"))
    # The connector fixture checks that no connection is left in use.


async def test_digest_answers_the_hop_that_challenged(
    raw_server: StartServer, connector: TCPConnector
) -> None:
    server = DigestServer()
    base = await raw_server(server.handle)

    async with ClientSession(
        connector=connector, connector_owner=False, middlewares=[DigestAuth("user", "passwd")]
    ) as s:
        async with s.get(base + "/a") as r:
            assert r.status == 200
        other = str(URL(base).with_host("localhost") / "b")
        async with s.get(other) as r:  # another origin: its challenge is answered too,
            assert r.status == 200  # since that request chain started there
    assert [a is None for _, a in server.seen] == [True, False, True, False]
