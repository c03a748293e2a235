"""Opt-in retries: which failures and statuses retry, how long to wait, and the retry loop.

Strategy: :class:`RetryPolicy` is a frozen value holding pure decisions
(:meth:`~RetryPolicy.should_retry`, :meth:`~RetryPolicy.delay`), with its random source and
wall clock injectable so tests are deterministic. :func:`run_with_retries` is the only
place that sleeps; it is written against a small :class:`RetryableResponse` protocol and
an attempt function, so it is tested with fakes (no sockets) and a fake sleep, and the
session only supplies one attempt.

Rules, each chosen so that a retry never does harm:

* Only the methods listed retry (RFC 9110 §9.2.2's idempotent ones by default), and never a
  request whose body cannot be sent again (``Body.reusable`` is false): sending nothing
  or half a body the second time would be worse than failing.
* Errors retry when one of the policy's ``errors`` predicates accepts them. The defaults
  name the failures that came before any response, where sending an idempotent request
  again is safe: the connector could not connect (refused, unreachable, DNS; not a TLS or
  certificate failure, which a retry cannot fix), connecting timed out, the pooled
  connection had gone stale, or no response head arrived within ``sock_read``. They are
  the only place this module names the connection layer's errors. Anything else (a
  broken body, a total timeout, cancellation, a ``ValueError``) propagates at once.
* Waits use exponential backoff with full jitter: a uniform draw in
  ``[0, min(backoff_max, backoff_base * 2 ** (attempt - 1))]``, so many clients retrying
  together spread out. A ``Retry-After`` on a retried status (RFC 9110 §10.2.3:
  delta-seconds or an HTTP-date in any of the three formats of §5.6.7) replaces the
  backoff. When the server asks for more than ``retry_after_max`` seconds the policy gives
  up and the response is returned as it is: retrying earlier than asked would only earn
  another refusal.
* The request's ``total`` deadline holds: a wait that would end at or past it is not
  started; the last response (or error) is returned (or raised) instead.
* A stale pooled connection is retried at once, without backoff: the server did nothing
  wrong, an idle connection died.

Each attempt is recorded as an :class:`Attempt`. When the loop gives up on an error it
raises that same error (so ``except ClientConnectorError`` still works) with
``error.attempts`` set to every attempt, and, on Python 3.11+, a note listing them
(shown in tracebacks)::

    ClientConnectorError: cannot connect to example.org:443 for GET https://example.org/: ...
    attempt 1: 503 (waited 0.42 s)
    attempt 2: ClientConnectorError (waited 0.91 s)
    attempt 3: ClientConnectorError

When it returns a response (a success, a status it may not retry, or the last retried
status), the attempts come back with it.

How the session wires it (``retry=`` on ``ClientSession`` and on each request, ``None``
by default meaning no retries; a request's value overrides the session's)::

    if policy is None:
        response = await attempt(1)
    else:
        response, attempts = await run_with_retries(
            policy, method, attempt,            # attempt(n): one request, up to its head
            body_reusable=body is None or isinstance(body, bytes) or body.reusable,
            deadline=total_deadline,            # loop.time() units, or None
            on_retry=trace_retry,               # the "retry" hook, or None
        )

``attempt`` sends one request once and returns as soon as its response head is in: errors
while the caller reads the body are never retried. Wrap each hop of the redirect loop (not
the whole chain), so that a 503 at the second hop resends only that hop and ``history``
holds only the responses that were followed. Keep the session's built-in single retry of a
stale connection inside ``attempt``: it needs no policy, as the client's contract says.
A stale error that does reach the policy is retried at once, so an ``attempt`` without that
built-in retry works too.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar

from httpwire.connectors import (
    ClientConnectionError,
    ClientConnectorError,
    ClientSSLError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Attempt",
    "RetryPolicy",
    "RetryableResponse",
    "is_connect_error",
    "is_read_timeout",
    "is_stale_connection",
    "parse_retry_after",
    "run_with_retries",
]

#: RFC 9110 §9.2.2: the methods whose repetition has the same effect as one request.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Statuses that say "try again later": Too Many Requests, Bad Gateway, Service
#: Unavailable, Gateway Timeout.
RETRY_STATUSES = frozenset({429, 502, 503, 504})

# 2.0 ** 1024 overflows a float: stop doubling at 2 ** 1023 (the min() with backoff_max
# has long taken over by then; an infinite product just loses to it).
_MAX_EXPONENT = 1023


def is_connect_error(error: BaseException) -> bool:
    """Whether no connection could be opened, so the request was never sent.

    True for connection failures (refused, unreachable, name resolution) and connect
    timeouts; false for TLS and certificate failures, which a retry cannot fix.

    Args:
        error: The error an attempt raised.

    Returns:
        Whether it is such a failure.
    """
    if isinstance(error, ConnectTimeoutError):
        return True
    return isinstance(error, ClientConnectorError) and not isinstance(error, ClientSSLError)


def is_stale_connection(error: BaseException) -> bool:
    """Whether a reused pooled connection failed before any byte of the response arrived.

    Args:
        error: The error an attempt raised.

    Returns:
        Whether the connection layer flagged it ``is_stale_connection``.
    """
    return isinstance(error, ClientConnectionError) and error.is_stale_connection


def is_read_timeout(error: BaseException) -> bool:
    """Whether no response head arrived within ``sock_read``.

    The retry loop only sees errors raised before an attempt returns its response head,
    so a read timeout there is one that came before the response.

    Args:
        error: The error an attempt raised.

    Returns:
        Whether it is a read timeout.
    """
    return isinstance(error, ReadTimeoutError)


_DEFAULT_ERRORS: tuple[Callable[[BaseException], bool], ...] = (
    is_connect_error,
    is_stale_connection,
    is_read_timeout,
)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """The seconds a ``Retry-After`` value asks to wait (RFC 9110 §10.2.3).

    Args:
        value: The field value: delta-seconds (``"120"``) or an HTTP-date in IMF-fixdate,
            RFC 850 or asctime form (RFC 9110 §5.6.7; asctime is taken as UTC).
        now: The current time, in seconds since the epoch.

    Returns:
        The seconds to wait (0 for a date in the past), or ``None`` when the value is
        absent or is neither form (an invalid field is ignored, not an error).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if not value.isascii():  # also keeps non-ASCII digits away from float()
        return None
    if value.isdigit():
        return float(value)
    if len(value) > 64:
        return None
    import datetime  # only for an HTTP-date Retry-After: kept off the import path
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now)


class Attempt(NamedTuple):
    """One attempt of a request, as the retry loop saw it.

    Attributes:
        number: 1 for the first attempt.
        status: The response's status, when a response came.
        error: The error raised, when none came.
        delay: The seconds waited before the next attempt, or ``None`` for the last one.
    """

    number: int
    status: int | None = None
    error: BaseException | None = None
    delay: float | None = None

    def describe(self) -> str:
        """One line for the note of the final error, e.g. ``attempt 1: 503 (waited 0.42 s)``.

        Returns:
            The line.
        """
        if self.error is not None:
            what = type(self.error).__name__
        else:
            what = str(self.status)
        waited = f" (waited {self.delay:.2f} s)" if self.delay is not None else ""
        return f"attempt {self.number}: {what}{waited}"


def _methods(value: Collection[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError(f"methods must be a collection of method names, not the str {value!r}")
    return frozenset(m.upper() for m in value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Args:
        attempts: Total tries, the first included (1 means never retry).
        methods: The methods that may be retried (case-insensitive); RFC 9110's idempotent
            methods by default. Add ``"POST"`` only for endpoints that tolerate repeats.
        statuses: Response statuses that are retried.
        errors: Predicates over an attempt's error; it is retried when one accepts it.
            The defaults: :func:`is_connect_error`, :func:`is_stale_connection`,
            :func:`is_read_timeout`.
        backoff_base: The first wait's upper bound, in seconds; each retry doubles it.
        backoff_max: The cap on the bound, in seconds.
        retry_after_max: The longest ``Retry-After`` honoured; a longer one gives up.
        rng: The random source for the jitter, returning floats in ``[0, 1)``.
        clock: The wall clock (seconds since the epoch), for ``Retry-After`` dates.

    Raises:
        ValueError: ``attempts`` is below 1, a duration is negative, or
            ``backoff_base`` exceeds ``backoff_max``.
        TypeError: ``methods`` is a single ``str``.

    Example:
        >>> policy = RetryPolicy(attempts=4, statuses={503})
        >>> policy.should_retry("GET", 1, status=503)
        True
    """

    attempts: int = 3
    methods: Collection[str] = IDEMPOTENT_METHODS
    statuses: Collection[int] = RETRY_STATUSES
    errors: tuple[Callable[[BaseException], bool], ...] = _DEFAULT_ERRORS
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"RetryPolicy attempts must be an int >= 1, got {self.attempts!r}")
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"RetryPolicy {name} must be >= 0 seconds, got {value!r}")
        if self.backoff_base > self.backoff_max:
            raise ValueError(
                f"RetryPolicy backoff_base ({self.backoff_base!r}) exceeds backoff_max "
                f"({self.backoff_max!r})"
            )
        object.__setattr__(self, "methods", _methods(self.methods))
        object.__setattr__(self, "statuses", frozenset(self.statuses))
        object.__setattr__(self, "errors", tuple(self.errors))

    def retries_error(self, error: BaseException) -> bool:
        """Whether one of the ``errors`` predicates accepts an error.

        Args:
            error: The error an attempt raised.

        Returns:
            Whether the error is of a kind that is retried.
        """
        return any(accepts(error) for accepts in self.errors)

    def should_retry(
        self,
        method: str,
        attempt: int,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        body_reusable: bool = True,
    ) -> bool:
        """Whether the request may be sent again after an attempt.

        Args:
            method: The request method.
            attempt: The number of the attempt that just ended (1 for the first).
            status: Its response's status, when a response came.
            error: Its error, when none came.
            body_reusable: Whether the request body can be sent again.

        Returns:
            True when attempts remain, the method may be retried, the body can be sent
            again, and the status or the error is one the policy retries.
        """
        if attempt >= self.attempts or not body_reusable:
            return False
        if method.upper() not in self.methods:
            return False
        if error is not None:
            return self.retries_error(error)
        return status is not None and status in self.statuses

    def backoff(self, attempt: int) -> float:
        """The jittered backoff after an attempt: uniform in ``[0, bound]``.

        Args:
            attempt: The number of the attempt that just ended (1 for the first).

        Returns:
            ``rng() * min(backoff_max, backoff_base * 2 ** (attempt - 1))`` seconds.
        """
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        bound = min(self.backoff_max, self.backoff_base * 2.0**exponent)
        return self.rng() * bound

    def delay(
        self, attempt: int, *, retry_after: str | None = None, remaining: float | None = None
    ) -> float | None:
        """How long to wait before the next attempt, or ``None`` to give up.

        Args:
            attempt: The number of the attempt that just ended (1 for the first).
            retry_after: The response's ``Retry-After`` value, if any; when valid it
                replaces the backoff.
            remaining: Seconds left before the request's total deadline (``None``: no
                deadline).

        Returns:
            The seconds to wait; ``None`` when the server asks for more than
            ``retry_after_max`` or the wait would reach the deadline.
        """
        wait = parse_retry_after(retry_after, self.clock())
        if wait is None:
            wait = self.backoff(attempt)
        elif wait > self.retry_after_max:
            return None
        if remaining is not None and wait >= remaining:
            return None
        return wait


class RetryableResponse(Protocol):
    """What the retry loop needs of a response: its status, its fields, and release."""

    @property
    def status(self) -> int:
        """The response status."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The response fields (``Retry-After`` is looked up here)."""
        ...

    def release(self) -> object:
        """Hand the connection back; may return an awaitable, which is awaited."""
        ...


ResponseT = TypeVar("ResponseT", bound=RetryableResponse)


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


def _record_on(error: BaseException, attempts: list[Attempt]) -> None:
    """Set ``attempts`` on the error that ends the loop, and a note listing them."""
    record = tuple(attempts)
    error.attempts = record  # type: ignore[attr-defined]  # documented extra attribute
    if len(record) > 1:
        error.add_note("\n".join(a.describe() for a in record))


async def run_with_retries(
    policy: RetryPolicy,
    method: str,
    attempt_fn: Callable[[int], Awaitable[ResponseT]],
    *,
    body_reusable: bool = True,
    deadline: float | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_retry: Callable[[Attempt], object] | None = None,
) -> tuple[ResponseT, tuple[Attempt, ...]]:
    """Run attempts of one request until one may not or need not be retried.

    Args:
        policy: The retry policy.
        method: The request method.
        attempt_fn: Sends the request once and returns its response once the head is in;
            called with the attempt's number (1 for the first).
        body_reusable: Whether the request body can be sent again.
        deadline: The request's total deadline, on ``clock``'s scale (``None``: none).
        clock: The monotonic clock of ``deadline`` (the running loop's ``time()`` by
            default).
        sleep: The sleep used between attempts (``asyncio.sleep`` by default).
        on_retry: Called with each attempt that is about to be retried, once its response
            was released and before the wait (its ``delay`` set); may be a coroutine
            function.

    Returns:
        The last response (a success, a status the policy does not retry, or the last
        retried status when the policy gave up) and every attempt made.

    Raises:
        BaseException: The last attempt's error, unchanged in type, with ``attempts`` (a
            tuple of :class:`Attempt`) set on it and, on Python 3.11+, a note listing them.
    """
    if clock is None:
        clock = asyncio.get_running_loop().time
    attempts: list[Attempt] = []
    number = 1
    while True:
        try:
            response = await attempt_fn(number)
        except Exception as error:
            wait: float | None = None
            if policy.should_retry(method, number, error=error, body_reusable=body_reusable):
                remaining = None if deadline is None else deadline - clock()
                if not is_stale_connection(error):
                    wait = policy.delay(number, remaining=remaining)
                elif remaining is None or remaining > 0:
                    wait = 0.0  # an idle connection died: retry at once
            attempts.append(Attempt(number, error=error, delay=wait))
            if wait is None:
                _record_on(error, attempts)
                raise
        else:
            status = response.status
            if policy.should_retry(method, number, status=status, body_reusable=body_reusable):
                remaining = None if deadline is None else deadline - clock()
                wait = policy.delay(
                    number, retry_after=response.headers.get("Retry-After"), remaining=remaining
                )
            else:
                wait = None
            attempts.append(Attempt(number, status=status, delay=wait))
            if wait is None:
                return response, tuple(attempts)
            await _maybe_await(response.release())
        if on_retry is not None:
            await _maybe_await(on_retry(attempts[-1]))
        if wait:
            await sleep(wait)
        number += 1
