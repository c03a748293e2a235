"""A per-origin token bucket, usable as a middleware: at most *rate* requests a second.

Strategy: each origin (scheme, host, port) has a bucket holding up to ``burst`` tokens,
refilled continuously at ``rate`` tokens a second and computed lazily (no timer runs while
nobody waits). A request takes a token and goes; when none is left it queues. Only the
first in the queue sleeps until its token is due; the others wait on a future of their own
until they reach the front, so waiters are served strictly in arrival order (FIFO) and one
timer at most runs per origin, however many wait.

Cancellation-safe: a waiter cancelled anywhere leaves the queue (the front one hands its
turn to the next), and a token is only taken once nothing can interrupt the taking, so the
bucket never loses or double-counts a token. Buckets that are full and idle are dropped
when many origins were seen, so memory stays bounded.

The clock and the sleep are injectable: the tests drive them, counting tokens rather than
seconds.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from yarl import URL

from ._middleware import ClientRequest, Handler

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ["RateLimiter"]

_MAX_IDLE_BUCKETS = 1024
# A token "almost" there counts as there: the sleep computed for the missing fraction can
# come back a rounding error short (100.1 - 100.0 is 0.0999...), and sleeping again for
# 1e-15 s would spin without the clock moving.
_ROUNDING = 1e-9

Origin = tuple[str, str, int | None]


class _Bucket:
    __slots__ = ("queue", "stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.queue: deque[asyncio.Future[None]] = deque()


class RateLimiter:
    """A middleware that spaces requests to each origin: ``rate`` a second, ``burst`` at once.

    Use it per session (the usual case: the limit is shared by every request of the
    session) or share one instance between sessions::

        limiter = RateLimiter(rate=5, burst=10)  # 5 requests/s per origin, bursts of 10
        async with ClientSession(middlewares=[limiter]) as session:
            ...

    Requests over the limit wait, first come first served; cancelling one (a timeout, a
    cancelled task) gives its place up. Each redirect hop and each retried attempt takes a
    token, since each is a request the server sees.

    Args:
        rate: Tokens added per second, per origin (a float: ``0.5`` is one every 2 s).
        burst: The most tokens an origin's bucket holds: how many requests may go at once
            after a quiet period. Buckets start full.
        clock: A monotonic clock in seconds (the running loop's ``time()`` by default).
        sleep: The sleep to use (``asyncio.sleep`` by default).

    Raises:
        ValueError: ``rate`` is not a positive finite number, or ``burst`` is below 1.
    """

    __slots__ = ("_buckets", "_burst", "_clock", "_rate", "_sleep")

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not (isinstance(rate, (int, float)) and 0 < rate < float("inf")):
            raise ValueError(
                f"rate must be a positive number of requests per second, got {rate!r}"
            )
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be an int >= 1, got {burst!r}")
        self._rate = float(rate)
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[Origin, _Bucket] = {}

    def __repr__(self) -> str:
        return f"<RateLimiter rate={self._rate}/s burst={self._burst}>"

    @property
    def rate(self) -> float:
        """Tokens added per second, per origin."""
        return self._rate

    @property
    def burst(self) -> int:
        """The capacity of each origin's bucket."""
        return self._burst

    def _now(self) -> float:
        clock = self._clock
        return asyncio.get_running_loop().time() if clock is None else clock()

    def _bucket(self, origin: Origin, now: float) -> _Bucket:
        bucket = self._buckets.get(origin)
        if bucket is None:
            if len(self._buckets) >= _MAX_IDLE_BUCKETS:
                self._sweep(now)
            bucket = self._buckets[origin] = _Bucket(float(self._burst), now)
        return bucket

    def _sweep(self, now: float) -> None:
        """Drop the buckets that are full again and have no waiter (they hold no state)."""
        for origin, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if not bucket.queue and bucket.tokens >= self._burst:
                del self._buckets[origin]

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = now - bucket.stamp
        if elapsed > 0:
            bucket.tokens = min(float(self._burst), bucket.tokens + elapsed * self._rate)
            bucket.stamp = now

    def available(self, url: URL) -> float:
        """The tokens an origin has now (a fraction while one refills), for dashboards.

        Args:
            url: Any URL of the origin.

        Returns:
            The tokens available, between 0 and ``burst``.
        """
        bucket = self._buckets.get((url.scheme, url.raw_host or "", url.port))
        if bucket is None:
            return float(self._burst)
        self._refill(bucket, self._now())
        return bucket.tokens

    def waiting(self, url: URL) -> int:
        """How many requests to an origin are waiting for a token.

        Args:
            url: Any URL of the origin.

        Returns:
            The number of waiters.
        """
        bucket = self._buckets.get((url.scheme, url.raw_host or "", url.port))
        return 0 if bucket is None else len(bucket.queue)

    async def acquire(self, url: URL) -> None:
        """Wait for a token of the URL's origin, in arrival order, and take it.

        Args:
            url: The request's URL (its scheme, host and port pick the bucket).

        Raises:
            asyncio.CancelledError: The wait was cancelled; no token was taken.
        """
        now = self._now()
        bucket = self._bucket((url.scheme, url.raw_host or "", url.port), now)
        self._refill(bucket, now)
        queue = bucket.queue
        if not queue and bucket.tokens >= 1 - _ROUNDING:
            bucket.tokens -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(turn)
        if len(queue) == 1:
            turn.set_result(None)  # first in line: its turn has come
        try:
            await turn
            while True:
                self._refill(bucket, self._now())
                if bucket.tokens >= 1 - _ROUNDING:
                    break
                await self._sleep((1 - bucket.tokens) / self._rate)
            bucket.tokens -= 1  # nothing can interrupt between the check and this line
        finally:
            if queue and queue[0] is turn:
                queue.popleft()
                while queue:
                    head = queue[0]
                    if not head.done():
                        head.set_result(None)  # hand the turn to the next in line
                        break
                    queue.popleft()  # cancelled: its own cleanup finds it gone
            else:
                try:
                    queue.remove(turn)
                except ValueError:
                    pass

    async def __call__(self, request: ClientRequest, handler: Handler) -> ClientResponse:
        """Wait for a token of the request's origin, then send it (the middleware)."""
        await self.acquire(request.url)
        return await handler(request)
