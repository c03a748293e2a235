"""The per-origin token bucket: tokens counted on a driven clock, not seconds waited.

The fake clock only moves when the limiter sleeps, so each test counts tokens and sleeps
exactly; one test sends real requests to the local server through the middleware.
"""

from __future__ import annotations

import asyncio

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpwire.client import ClientResponse, TCPConnector
from httpwire.client._middleware import ClientRequest, Handler, compose
from httpwire.client._ratelimit import RateLimiter
from httpwire.connectors import OutgoingRequest
from httpwire_testserver import LocalServer

A = URL("http://a.example/x")
A2 = URL("http://a.example/other?q=1")
B = URL("http://b.example/")


class FakeTime:
    """A clock that advances only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds
        await asyncio.sleep(0)


def limiter(rate: float, burst: int = 1) -> tuple[RateLimiter, FakeTime]:
    time = FakeTime()
    return RateLimiter(rate, burst=burst, clock=time.clock, sleep=time.sleep), time


async def test_burst_goes_at_once_then_one_per_interval() -> None:
    bucket, time = limiter(rate=2, burst=3)
    for _ in range(3):
        await bucket.acquire(A)
    assert time.sleeps == []  # the burst
    await bucket.acquire(A)
    await bucket.acquire(A)
    assert time.sleeps == [0.5, 0.5]  # then 2 a second
    assert bucket.available(A) == 0


async def test_origins_have_their_own_buckets() -> None:
    bucket, time = limiter(rate=1)
    await bucket.acquire(A)
    await bucket.acquire(B)  # another host: its own token
    await bucket.acquire(A2)  # same origin as A (path and query do not matter): waits
    assert time.sleeps == [1.0]
    await bucket.acquire(A.with_scheme("https"))  # another scheme: another origin
    assert time.sleeps == [1.0]


async def test_refills_while_idle_up_to_the_burst() -> None:
    bucket, time = limiter(rate=1, burst=2)
    await bucket.acquire(A)
    await bucket.acquire(A)
    time.now += 10  # a quiet period: refilled, but only to the burst
    assert bucket.available(A) == 2
    for _ in range(3):
        await bucket.acquire(A)
    assert time.sleeps == [1.0]


async def test_waiters_are_served_in_arrival_order() -> None:
    bucket, time = limiter(rate=1)
    await bucket.acquire(A)
    order: list[int] = []

    async def request(n: int) -> None:
        await bucket.acquire(A)
        order.append(n)

    tasks = [asyncio.create_task(request(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert bucket.waiting(A) == 5
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert time.sleeps == [1.0] * 5  # only the first in line sleeps, one token each
    assert bucket.waiting(A) == 0


async def test_cancelled_waiters_give_their_place_and_take_no_token() -> None:
    bucket, time = limiter(rate=1)
    await bucket.acquire(A)
    gate = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        await gate.wait()
        await time.sleep(seconds)

    bucket._sleep = slow_sleep  # the first in line sleeps until the test opens the gate
    order: list[int] = []

    async def request(n: int) -> None:
        await bucket.acquire(A)
        order.append(n)

    tasks = [asyncio.create_task(request(n)) for n in range(4)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert bucket.waiting(A) == 4
    tasks[0].cancel()  # the first in line, while it sleeps
    tasks[2].cancel()  # one in the middle
    for _ in range(3):
        await asyncio.sleep(0)
    assert bucket.waiting(A) == 2
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r).__name__ for r in results] == [
        "CancelledError",
        "NoneType",
        "CancelledError",
        "NoneType",
    ]
    assert order == [1, 3]
    # Two tokens were taken after the first: exactly two intervals passed.
    assert time.now == pytest.approx(102.0)
    assert bucket.waiting(A) == 0


async def test_wait_for_timeout_leaves_the_queue() -> None:
    bucket, _ = limiter(rate=1)
    await bucket.acquire(A)
    never = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        await never.wait()

    bucket._sleep = blocked_sleep
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bucket.acquire(A), 0)
    assert bucket.waiting(A) == 0


def test_idle_buckets_are_dropped_when_many_origins_were_seen() -> None:
    async def main() -> None:
        bucket, time = limiter(rate=1000)
        for n in range(1100):
            await bucket.acquire(URL(f"http://h{n}.example/"))
        time.now += 1
        await bucket.acquire(URL("http://last.example/"))
        assert len(bucket._buckets) < 1024

    asyncio.run(main())


def test_arguments_are_checked() -> None:
    for rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate must be a positive number"):
            RateLimiter(rate)
    with pytest.raises(ValueError, match="burst must be an int >= 1"):
        RateLimiter(1, burst=0)
    limiter_ = RateLimiter(2.5, burst=4)
    assert (limiter_.rate, limiter_.burst) == (2.5, 4)
    assert repr(limiter_) == "<RateLimiter rate=2.5/s burst=4>"


async def test_as_middleware_against_the_server(
    httpwire_server: LocalServer, connector: TCPConnector
) -> None:
    bucket, time = limiter(rate=10, burst=2)

    async def send(request: ClientRequest) -> ClientResponse:
        outgoing = OutgoingRequest(request.method, request.url, request.headers, request.body)
        conn = await connector.acquire(outgoing)
        raw = await conn.send(outgoing)
        return ClientResponse(raw, request.method, request.url, request.headers)

    handler: Handler = compose([bucket], send)
    url = URL(httpwire_server.url("/get"))
    for _ in range(4):
        request = ClientRequest("GET", url, CIMultiDictProxy(CIMultiDict()), None, url)
        response = await handler(request)
        assert response.status == 200
        await response.read()
    # 100.1 - 100.0 is a hair under 0.1: the token still counts (no spin on rounding).
    assert time.sleeps == pytest.approx([0.1, 0.1])
