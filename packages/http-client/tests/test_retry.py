"""The retry policy's decisions and the retry loop, with fake attempts, clock and sleep.

No socket is opened: the loop is written against an attempt function and a response
protocol, so each case is a script of what the attempts return or raise. Nothing is timed:
waits go to a fake sleep that records them and advances a fake clock.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from httpwire.client._retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    Attempt,
    RetryPolicy,
    is_connect_error,
    is_read_timeout,
    is_stale_connection,
    parse_retry_after,
    run_with_retries,
)
from httpwire.connectors import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientSSLError,
    ConnectTimeoutError,
    FingerprintMismatch,
    OutgoingRequest,
    RawResponse,
    ReadTimeoutError,
    ServerDisconnectedError,
    TCPConnector,
    TotalTimeoutError,
)
from httpwire_testserver import LocalServer

URL_ = URL("http://example.org/")
NOW = 1_700_000_000.0


def refused() -> ClientConnectorError:
    return ClientConnectorError(
        "example.org", 80, ConnectionRefusedError(111, "refused"), method="GET", url=URL_
    )


def stale() -> ServerDisconnectedError:
    return ServerDisconnectedError(
        "response", method="GET", url=URL_, host="example.org", port=80, is_stale_connection=True
    )


# -- the policy value ----------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.attempts == 3
    assert policy.methods == IDEMPOTENT_METHODS
    assert set(IDEMPOTENT_METHODS) == {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}
    assert policy.statuses == RETRY_STATUSES
    assert set(RETRY_STATUSES) == {429, 502, 503, 504}
    assert policy.errors == (is_connect_error, is_stale_connection, is_read_timeout)


def test_methods_are_normalised_to_upper_case_and_collections_frozen() -> None:
    policy = RetryPolicy(methods=["get", "Post"], statuses=[500])
    assert policy.methods == frozenset({"GET", "POST"})
    assert policy.statuses == frozenset({500})
    assert hash(policy) == hash(RetryPolicy(methods={"GET", "POST"}, statuses={500}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "attempts must be an int >= 1, got 0"),
        ({"attempts": 2.5}, "attempts must be an int >= 1, got 2.5"),
        ({"backoff_base": -1}, "backoff_base must be >= 0 seconds, got -1"),
        ({"backoff_max": float("nan")}, "backoff_max must be >= 0 seconds, got nan"),
        ({"retry_after_max": -0.5}, "retry_after_max must be >= 0 seconds, got -0.5"),
        ({"backoff_base": 10, "backoff_max": 1}, r"backoff_base \(10\) exceeds backoff_max \(1\)"),
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]  # floats for attempts on purpose


def test_a_single_method_string_is_refused() -> None:
    with pytest.raises(TypeError, match="not the str 'GET'"):
        RetryPolicy(methods="GET")


# -- should_retry --------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(IDEMPOTENT_METHODS))
def test_idempotent_methods_retry(method: str) -> None:
    """RFC 9110 §9.2.2: repeating an idempotent request has the effect of one."""
    assert RetryPolicy().should_retry(method, 1, status=503)
    assert RetryPolicy().should_retry(method.lower(), 1, error=refused())


@pytest.mark.parametrize("method", ["POST", "PATCH", "CONNECT", "PROPFIND"])
def test_other_methods_do_not_retry_unless_listed(method: str) -> None:
    assert not RetryPolicy().should_retry(method, 1, status=503)
    assert not RetryPolicy().should_retry(method, 1, error=refused())
    listed = RetryPolicy(methods={*IDEMPOTENT_METHODS, method})
    assert listed.should_retry(method, 1, status=503)


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_retry_statuses(status: int) -> None:
    assert RetryPolicy().should_retry("GET", 1, status=status)


@pytest.mark.parametrize("status", [200, 201, 301, 400, 401, 404, 500, 501, 505])
def test_other_statuses_do_not_retry(status: int) -> None:
    assert not RetryPolicy().should_retry("GET", 1, status=status)


def test_attempts_count_the_first_one() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.should_retry("GET", 1, status=503)
    assert policy.should_retry("GET", 2, status=503)
    assert not policy.should_retry("GET", 3, status=503)
    assert not RetryPolicy(attempts=1).should_retry("GET", 1, error=refused())


def test_a_body_that_cannot_be_replayed_is_never_retried() -> None:
    policy = RetryPolicy()
    assert not policy.should_retry("PUT", 1, status=503, body_reusable=False)
    assert not policy.should_retry("PUT", 1, error=refused(), body_reusable=False)


def test_nothing_to_judge_is_not_retried() -> None:
    assert not RetryPolicy().should_retry("GET", 1)


RETRIED_ERRORS: list[BaseException] = [
    refused(),
    ClientConnectorError("example.org", 80, OSError(-2, "Name or service not known")),
    ClientProxyConnectionError("proxy", 3128, ConnectionRefusedError(111, "refused")),
    ConnectTimeoutError(30, method="GET", url=URL_, host="example.org", port=80),
    ConnectTimeoutError(5, phase="connect", method="GET", url=URL_),
    stale(),
    ClientOSError(
        ConnectionResetError(104, "reset"),
        during="sending the request",
        host="example.org",
        port=80,
        is_stale_connection=True,
    ),
    ReadTimeoutError(300, waiting_for="the response head", host="example.org", port=80),
]

NOT_RETRIED_ERRORS: list[BaseException] = [
    ClientSSLError("example.org", 443, reason="handshake failed"),
    ClientConnectorCertificateError("example.org", 443, reason="self-signed certificate"),
    FingerprintMismatch(b"\x00" * 32, b"\x01" * 32, "example.org", 443),
    ServerDisconnectedError("response", host="example.org", port=80),  # new connection
    ServerDisconnectedError("body", received=10, expected=20, host="example.org", port=80),
    ClientOSError(ConnectionResetError(104, "reset"), host="example.org", port=80),
    ClientPayloadError("bad chunk size"),
    TotalTimeoutError("total timeout 10 s"),
    ValueError("not a client error"),
]


@pytest.mark.parametrize("error", RETRIED_ERRORS, ids=lambda e: type(e).__name__)
def test_failures_before_any_response_retry(error: BaseException) -> None:
    assert RetryPolicy().should_retry("GET", 1, error=error)


@pytest.mark.parametrize("error", NOT_RETRIED_ERRORS, ids=lambda e: type(e).__name__)
def test_other_failures_do_not_retry(error: BaseException) -> None:
    assert not RetryPolicy().should_retry("GET", 1, error=error)


def test_error_predicates_can_be_replaced() -> None:
    policy = RetryPolicy(errors=(lambda e: isinstance(e, ServerDisconnectedError),))
    assert policy.should_retry("GET", 1, error=ServerDisconnectedError("response"))
    assert not policy.should_retry("GET", 1, error=refused())


# -- Retry-After ---------------------------------------------------------------------------


def _http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + seconds_from_now, tz=UTC), usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        # RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
        (_http_date(30), 30.0),
        ("Tuesday, 14-Nov-23 22:13:50 GMT", 30.0),
        ("Tue Nov 14 22:13:50 2023", 30.0),
        (_http_date(-3600), 0.0),  # a date in the past: no wait
    ],
)
def test_retry_after_forms(value: str, seconds: float) -> None:
    """RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds."""
    assert parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "-1", "1.5", "soon", "12 s", "٣", "x" * 10_000])
def test_invalid_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


# -- delays --------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_full_jitter() -> None:
    top = RetryPolicy(backoff_base=0.5, backoff_max=3.0, rng=lambda: 1.0)
    assert [top.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert top.backoff(10**6) == 3.0  # no float overflow however many attempts
    bottom = RetryPolicy(rng=lambda: 0.0)
    assert bottom.backoff(4) == 0.0
    half = RetryPolicy(backoff_base=1.0, rng=lambda: 0.5)
    assert half.backoff(3) == 2.0


@given(
    attempt=st.integers(1, 100_000),
    base=st.floats(0, 100, allow_nan=False),
    extra=st.floats(0, 1000, allow_nan=False),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_backoff_stays_within_its_bounds(
    attempt: int, base: float, extra: float, draw: float
) -> None:
    policy = RetryPolicy(backoff_base=base, backoff_max=base + extra, rng=lambda: draw)
    wait = policy.backoff(attempt)
    bound = min(base + extra, base * 2.0 ** min(attempt - 1, 1023))
    assert 0.0 <= wait <= bound
    assert wait == pytest.approx(draw * bound)


def test_delay_uses_the_backoff_without_retry_after() -> None:
    policy = RetryPolicy(rng=lambda: 0.5, clock=lambda: NOW)
    assert policy.delay(2) == 0.5
    assert policy.delay(2, retry_after="not a number") == 0.5


def test_retry_after_replaces_the_backoff() -> None:
    policy = RetryPolicy(rng=lambda: 0.5, clock=lambda: NOW)
    assert policy.delay(1, retry_after="10") == 10.0
    assert policy.delay(1, retry_after=_http_date(42)) == pytest.approx(42.0)


def test_a_retry_after_beyond_the_cap_gives_up() -> None:
    policy = RetryPolicy(retry_after_max=60, clock=lambda: NOW)
    assert policy.delay(1, retry_after="60") == 60.0
    assert policy.delay(1, retry_after="61") is None
    assert policy.delay(1, retry_after=_http_date(3600)) is None


def test_no_wait_reaches_the_deadline() -> None:
    policy = RetryPolicy(rng=lambda: 1.0, backoff_base=2.0)
    assert policy.delay(1, remaining=2.5) == 2.0
    assert policy.delay(1, remaining=2.0) is None  # nothing would be left for the attempt
    assert policy.delay(1, remaining=1.0) is None
    assert policy.delay(1, retry_after="5", remaining=4.0) is None
    assert policy.delay(1, remaining=-1.0) is None


@given(
    attempt=st.integers(1, 50),
    remaining=st.one_of(st.none(), st.floats(-10, 100, allow_nan=False)),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_a_delay_never_passes_the_deadline(
    attempt: int, remaining: float | None, draw: float
) -> None:
    wait = RetryPolicy(rng=lambda: draw).delay(attempt, remaining=remaining)
    if remaining is None:
        assert wait is not None
    if wait is not None:
        assert wait >= 0.0
        assert remaining is None or wait < remaining


# -- the retry loop ------------------------------------------------------------------------


class FakeResponse:
    """A response as the loop sees it; counts releases."""

    def __init__(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers: Mapping[str, str] = headers or {}
        self.released = 0

    def release(self) -> None:
        self.released += 1


class AsyncReleaseResponse(FakeResponse):
    """A response whose release() is a coroutine (the loop awaits it)."""

    def release(self) -> Awaitable[None]:  # type: ignore[override]  # both forms are allowed
        async def release() -> None:
            self.released += 1

        return release()


class Script:
    """An attempt function playing a list of outcomes, and a fake clock and sleep."""

    def __init__(self, outcomes: Sequence[FakeResponse | BaseException]) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[int] = []
        self.slept: list[float] = []
        self.now = 100.0

    async def attempt(self, number: int) -> FakeResponse:
        self.calls.append(number)
        outcome = self.outcomes[len(self.calls) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def run(
    script: Script,
    policy: RetryPolicy | None = None,
    method: str = "GET",
    **kwargs: object,
) -> tuple[FakeResponse, tuple[Attempt, ...]]:
    return await run_with_retries(
        policy or RetryPolicy(rng=lambda: 0.5),
        method,
        script.attempt,
        clock=script.clock,
        sleep=script.sleep,
        **kwargs,  # type: ignore[arg-type]  # each test passes the right types
    )


async def test_a_success_is_returned_at_once() -> None:
    ok = FakeResponse(200)
    script = Script([ok])
    response, attempts = await run(script)
    assert response is ok
    assert attempts == (Attempt(1, status=200),)
    assert script.slept == []
    assert ok.released == 0


async def test_a_retried_status_is_released_and_the_request_sent_again() -> None:
    busy, ok = FakeResponse(503), FakeResponse(200)
    script = Script([busy, ok])
    response, attempts = await run(script)
    assert response is ok
    assert script.calls == [1, 2]
    assert busy.released == 1
    assert ok.released == 0
    assert script.slept == [0.25]  # rng 0.5 x backoff_base 0.5
    assert attempts == (Attempt(1, status=503, delay=0.25), Attempt(2, status=200))


async def test_the_backoff_grows_between_attempts() -> None:
    script = Script([FakeResponse(502), FakeResponse(502), FakeResponse(502), FakeResponse(200)])
    await run(script, RetryPolicy(attempts=4, rng=lambda: 1.0))
    assert script.slept == [0.5, 1.0, 2.0]


async def test_retry_after_sets_the_wait() -> None:
    script = Script([FakeResponse(429, {"Retry-After": "3"}), FakeResponse(200)])
    _, attempts = await run(script)
    assert script.slept == [3.0]
    assert attempts[0].delay == 3.0


async def test_a_retry_after_beyond_the_cap_returns_the_response() -> None:
    busy = FakeResponse(503, {"Retry-After": "3600"})
    script = Script([busy])
    response, attempts = await run(script, RetryPolicy(retry_after_max=60))
    assert response is busy
    assert busy.released == 0
    assert attempts == (Attempt(1, status=503),)
    assert script.slept == []


async def test_when_attempts_run_out_the_last_response_is_returned() -> None:
    responses = [FakeResponse(503), FakeResponse(503), FakeResponse(504)]
    script = Script(responses)
    response, attempts = await run(script)
    assert response is responses[-1]
    assert [r.released for r in responses] == [1, 1, 0]
    assert [(a.number, a.status, a.delay) for a in attempts] == [
        (1, 503, 0.25),
        (2, 503, 0.5),
        (3, 504, None),
    ]


async def test_a_method_not_listed_is_sent_once() -> None:
    busy = FakeResponse(503)
    script = Script([busy])
    response, _ = await run(script, method="POST")
    assert response is busy
    assert script.calls == [1]


async def test_a_body_that_cannot_be_replayed_is_sent_once() -> None:
    script = Script([refused()])
    with pytest.raises(ClientConnectorError):
        await run(script, body_reusable=False)
    assert script.calls == [1]


async def test_retried_errors_are_retried_then_the_response_returned() -> None:
    ok = FakeResponse(200)
    script = Script([refused(), ConnectTimeoutError(1.0), ok])
    response, attempts = await run(script)
    assert response is ok
    assert [type(a.error) for a in attempts] == [
        ClientConnectorError,
        ConnectTimeoutError,
        type(None),
    ]
    assert script.slept == [0.25, 0.5]


async def test_when_attempts_run_out_the_last_error_is_raised_with_the_attempts() -> None:
    first, last = refused(), refused()
    cause = OSError("the original cause")
    try:
        raise last from cause
    except ClientConnectorError:
        pass
    script = Script([FakeResponse(503), first, last])
    with pytest.raises(ClientConnectorError) as info:
        await run(script)
    error = info.value
    assert error is last
    assert error.__cause__ is cause  # the loop keeps the error's own chain
    attempts = error.attempts  # type: ignore[attr-defined]  # the documented extra attribute
    assert [(a.number, a.status, a.error, a.delay) for a in attempts] == [
        (1, 503, None, 0.25),
        (2, None, first, 0.5),
        (3, None, last, None),
    ]
    assert error.__notes__ == [
        "attempt 1: 503 (waited 0.25 s)\n"
        "attempt 2: ClientConnectorError (waited 0.50 s)\n"
        "attempt 3: ClientConnectorError"
    ]


async def test_an_error_with_its_attempts_still_pickles() -> None:
    script = Script([refused(), refused(), refused()])
    with pytest.raises(ClientConnectorError) as info:
        await run(script)
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert [a.number for a in copy.attempts] == [1, 2, 3]
    assert copy.attempts[-1].error is copy


async def test_an_error_not_retried_propagates_at_once() -> None:
    error = ClientPayloadError("bad chunk size")
    script = Script([error])
    with pytest.raises(ClientPayloadError) as info:
        await run(script)
    assert info.value is error
    assert script.calls == [1]
    assert info.value.attempts == (Attempt(1, error=error),)  # type: ignore[attr-defined]
    assert not hasattr(info.value, "__notes__")  # one attempt: nothing to list


async def test_an_error_that_is_not_a_client_error_propagates_untouched_in_type() -> None:
    script = Script([KeyError("bug")])
    with pytest.raises(KeyError):
        await run(script)
    assert script.calls == [1]


async def test_a_stale_connection_is_retried_at_once() -> None:
    ok = FakeResponse(200)
    script = Script([stale(), ok])
    response, attempts = await run(script)
    assert response is ok
    assert script.slept == []
    assert attempts[0].delay == 0.0


async def test_a_wait_that_reaches_the_deadline_gives_up_with_the_response() -> None:
    busy = FakeResponse(503, {"Retry-After": "5"})
    script = Script([busy])
    response, attempts = await run(script, deadline=script.now + 4.0)
    assert response is busy
    assert busy.released == 0
    assert attempts == (Attempt(1, status=503),)
    assert script.slept == []


async def test_the_deadline_counts_the_time_attempts_took() -> None:
    class Slow(Script):
        async def attempt(self, number: int) -> FakeResponse:
            self.now += 3.0  # each attempt takes 3 s of the fake clock
            return await super().attempt(number)

    script = Slow([FakeResponse(503, {"Retry-After": "1"})] * 5)
    _, attempts = await run(script, RetryPolicy(attempts=5), deadline=script.now + 7.5)
    # 3 s, a 1 s wait, 3 s: 0.5 s are left, too few for the next 1 s wait.
    assert [a.delay for a in attempts] == [1.0, None]
    assert script.calls == [1, 2]


async def test_a_deadline_reached_stops_even_stale_retries() -> None:
    script = Script([stale()])
    with pytest.raises(ServerDisconnectedError):
        await run(script, deadline=script.now)
    assert script.calls == [1]


async def test_a_wait_that_reaches_the_deadline_reraises_the_error() -> None:
    script = Script([refused()])
    policy = RetryPolicy(rng=lambda: 1.0, backoff_base=2.0)
    with pytest.raises(ClientConnectorError) as info:
        await run(script, policy, deadline=script.now + 1.0)
    assert info.value.attempts == (Attempt(1, error=info.value),)  # type: ignore[attr-defined]


@pytest.mark.parametrize("is_async", [False, True])
async def test_on_retry_sees_each_retried_attempt_before_the_wait(is_async: bool) -> None:
    seen: list[tuple[Attempt, list[float]]] = []
    script = Script([FakeResponse(503), refused(), FakeResponse(200)])

    def hook(attempt: Attempt) -> None:
        seen.append((attempt, list(script.slept)))

    async def async_hook(attempt: Attempt) -> None:
        hook(attempt)

    on_retry: Callable[[Attempt], object] = async_hook if is_async else hook
    await run(script, on_retry=on_retry)
    assert [(a.number, a.status, type(a.error).__name__, a.delay) for a, _ in seen] == [
        (1, 503, "NoneType", 0.25),
        (2, None, "ClientConnectorError", 0.5),
    ]
    assert [slept for _, slept in seen] == [[], [0.25]]


async def test_an_awaitable_release_is_awaited() -> None:
    busy = AsyncReleaseResponse(503)
    script = Script([busy, FakeResponse(200)])
    await run(script)
    assert busy.released == 1


async def test_cancellation_during_the_wait_leaves_the_response_released() -> None:
    busy = FakeResponse(503)
    script = Script([busy, FakeResponse(200)])

    async def cancelled_sleep(seconds: float) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_with_retries(
            RetryPolicy(), "GET", script.attempt, clock=script.clock, sleep=cancelled_sleep
        )
    assert busy.released == 1
    assert script.calls == [1]


async def test_the_running_loop_clock_and_asyncio_sleep_are_the_defaults() -> None:
    script = Script([FakeResponse(503), FakeResponse(200)])
    loop = asyncio.get_running_loop()
    response, attempts = await run_with_retries(
        RetryPolicy(rng=lambda: 0.0), "GET", script.attempt, deadline=loop.time() + 60
    )
    assert response.status == 200
    assert [a.delay for a in attempts] == [0.0, None]


# -- against the local test server ---------------------------------------------------------
#
# The policy's error predicates judged on errors raised by real sockets through the
# connection layer, and retried statuses on real responses.


class _Answer:
    """A connection-level response seen through the retry loop's protocol."""

    def __init__(self, raw: RawResponse) -> None:
        self.raw = raw
        self.status = raw.status
        self.headers: Mapping[str, str] = raw.head.headers

    def release(self) -> None:
        self.raw.release()


async def _send_once(
    connector: TCPConnector, url: URL, *, sock_read: float | None = None
) -> _Answer:
    """One GET through the connection layer: the only place its API is called here."""
    request = OutgoingRequest("GET", url, sock_connect=5, sock_read=sock_read)
    conn = await connector.acquire(request)
    return _Answer(await conn.send(request))


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer(unix_path="") as server:
        yield server


async def test_a_refused_connection_is_retried_then_raised_with_every_attempt() -> None:
    with LocalServer(unix_path="") as stopped:
        url = URL(stopped.url("/get"))
    connector = TCPConnector()
    try:
        with pytest.raises(ClientConnectorError) as info:
            await run_with_retries(
                RetryPolicy(rng=lambda: 0.0),
                "GET",
                lambda n: _send_once(connector, url),
            )
    finally:
        await connector.close()
    attempts = info.value.attempts  # type: ignore[attr-defined]  # the documented attribute
    assert [a.number for a in attempts] == [1, 2, 3]
    assert all(is_connect_error(a.error) for a in attempts)
    assert attempts[-1].error is info.value


async def test_no_response_head_within_sock_read_is_retried(local_server: LocalServer) -> None:
    url = URL(local_server.url("/fault/stall?after=request"))
    connector = TCPConnector()
    try:
        with pytest.raises(ReadTimeoutError) as info:
            await run_with_retries(
                RetryPolicy(attempts=2, rng=lambda: 0.0),
                "GET",
                lambda n: _send_once(connector, url, sock_read=0.2),
            )
    finally:
        await connector.close()
    attempts = info.value.attempts  # type: ignore[attr-defined]  # the documented attribute
    assert [type(a.error) for a in attempts] == [ReadTimeoutError, ReadTimeoutError]


async def test_a_retried_status_ends_with_the_last_real_response(
    local_server: LocalServer,
) -> None:
    url = URL(local_server.url("/status/503"))
    connector = TCPConnector()
    try:
        answer, attempts = await run_with_retries(
            RetryPolicy(rng=lambda: 0.0),
            "GET",
            lambda n: _send_once(connector, url),
        )
        assert answer.status == 503
        assert [(a.status, a.error) for a in attempts] == [(503, None)] * 3
        await answer.raw.content.read()
        answer.release()
        # The retried responses were released: their connection served the next one.
        ids = URL(local_server.url("/connection-id"))
        again = await _send_once(connector, ids)
        assert b'"requests": 4' in await again.raw.content.read()
        again.release()
    finally:
        await connector.close()


async def test_a_post_on_a_real_503_is_sent_once(local_server: LocalServer) -> None:
    url = URL(local_server.url("/status/503"))
    connector = TCPConnector()
    try:
        answer, attempts = await run_with_retries(
            RetryPolicy(), "POST", lambda n: _send_once(connector, url)
        )
        answer.release()
    finally:
        await connector.close()
    assert [a.status for a in attempts] == [503]
