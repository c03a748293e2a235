"""Per-phase timings of each response, observability hooks, and the debug log line.

Strategy: timings are always on, and cost a few attribute stores. Each request the
session sends gets a :class:`TimingsRecorder` (one object whose only instance attribute at
first is ``start``; every other field reads as its class default until stamped): the client
stamps the pool wait, the first byte and the end of the body with ``time.monotonic()``;
the connection layer, through the request's ``trace`` (the ``ConnectionTrace`` seam),
reports whether the connection was new or reused, its addresses, the end of sending and,
for a new connection, the DNS, connect and TLS phases. :class:`Timings` is the frozen
snapshot users get (``response.timings``, and with every hook event), built only when asked
for; it and :class:`TraceEvent` live in :mod:`._snapshots`, imported then. Hooks and the
debug line are what costs, and run only when set: a session without hooks, with the
``httpwire.client`` logger above DEBUG, emits nothing.

All stamps are ``time.monotonic()`` seconds (the default event loop's clock; uvloop's
``loop.time()`` is coarser, so the loop's clock is not used); durations are differences of
stamps, ``None`` when a phase did not happen (no DNS or connect on a
reused connection) or was not reported.

Hooks (:class:`TraceHooks`) are plain callables taking one :class:`TraceEvent`; a hook
that returns an awaitable is awaited, so ``def`` and ``async def`` both work. A hook that
raises fails the request with its error: hooks are code of the application.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from inspect import isawaitable
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from yarl import URL

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._snapshots import Timings, TraceEvent

__all__ = [
    "LOGGER",
    "Address",
    "TimingsRecorder",
    "TraceEventName",
    "TraceHook",
    "TraceHooks",
    "emit",
    "emit_connection",
    "format_address",
    "log_request",
]

LOGGER: Final = logging.getLogger("httpwire.client")
"""The client's logger: one DEBUG line per request (method, URL, status, phases)."""

Address: TypeAlias = tuple[str, int] | str
"""A socket address: ``(host, port)`` for TCP (IPv6 scope fields dropped), a path for Unix."""

TraceEventName = Literal[
    "request_start",
    "request_end",
    "request_exception",
    "connection_created",
    "connection_reused",
    "dns_start",
    "dns_end",
    "redirect",
    "retry",
]


def format_address(address: Address | None) -> str | None:
    """A socket address as text: ``host:port``, ``[v6host]:port`` or the Unix path."""
    if address is None or isinstance(address, str):
        return address
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TimingsRecorder:
    """The timings of one request while it runs: mutable stamps, snapshotted on demand.

    Every request the session sends has one. The client and the connection layer set
    attributes on it (each a ``time.monotonic()`` stamp); :meth:`snapshot` gives the frozen
    :class:`Timings`. Built once per request, so it is kept cheap: only ``start`` is set
    on creation, every other field reads as its class default (``None``) until stamped,
    and the socket addresses are normalized only when a snapshot is taken.
    """

    start: float
    dns_start: float | None = None
    dns_end: float | None = None
    connect_start: float | None = None
    connect_end: float | None = None
    tls_start: float | None = None
    tls_end: float | None = None
    acquired: float | None = None
    request_sent: float | None = None
    first_byte: float | None = None
    body_done: float | None = None
    is_reused: bool | None = None
    local_address: object = None
    remote_address: object = None

    def __init__(self, start: float) -> None:
        self.start = start

    def snapshot(self) -> Timings:
        """The timings so far, frozen."""
        from ._snapshots import Timings  # built only when asked for: imported then

        return Timings(
            self.start,
            self.dns_start,
            self.dns_end,
            self.connect_start,
            self.connect_end,
            self.tls_start,
            self.tls_end,
            self.acquired,
            self.request_sent,
            self.first_byte,
            self.body_done,
            self.is_reused,
            _as_address(self.local_address),
            _as_address(self.remote_address),
        )

    # What the connection layer reports (its ``ConnectionTrace`` protocol).

    def on_phase(self, phase: str, start: float, end: float) -> None:
        """Record a phase of opening the connection: ``dns``, ``connect`` or ``tls``."""
        if phase == "dns":
            self.dns_start, self.dns_end = start, end
        elif phase == "connect":
            self.connect_start, self.connect_end = start, end
        elif phase == "tls":
            self.tls_start, self.tls_end = start, end

    def on_connection(self, reused: bool, local: object, remote: object) -> None:
        """Record whether the connection was reused, and its socket's addresses (kept as
        given; :meth:`snapshot` normalizes them)."""
        self.is_reused = reused
        self.local_address = local
        self.remote_address = remote

    def on_request_sent(self, at: float) -> None:
        """Record when the request's last byte was handed to the transport."""
        self.request_sent = at


def _as_address(value: object) -> Address | None:
    """A socket address as ``(host, port)`` (IPv6 flow and scope dropped) or a path."""
    if isinstance(value, str):
        return value
    if (
        isinstance(value, tuple)
        and len(value) >= 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        return (value[0], value[1])
    return None


TraceHook: TypeAlias = "Callable[[TraceEvent], Awaitable[object] | object]"
"""A hook: ``def hook(event)`` or ``async def hook(event)``."""


@dataclass(frozen=True, slots=True)
class TraceHooks:
    """Callbacks for observability, each optional; pass ``trace=TraceHooks(...)``.

    Each hook receives a :class:`TraceEvent` with the timings so far. Hooks run in the
    request's task, in order; an ``async def`` hook is awaited (keep it short: the request
    waits for it).

    Example::

        async def slow(event: TraceEvent) -> None:
            if (event.timings.waiting or 0) > 1:
                log.warning("slow server: %s %s", event.method, event.url)

        session = ClientSession(trace=TraceHooks(on_request_end=slow))

    Attributes:
        on_request_start: The request (each redirect hop) is about to get a connection.
        on_request_end: Its response head arrived.
        on_request_exception: It failed.
        on_connection_created: A new connection was opened for it (reported once it is
            ready, with the DNS, connect and TLS phases in the timings).
        on_connection_reused: An idle pooled connection was reused for it.
        on_dns_start: The host name was resolved for a new connection (reported once the
            connection is ready: ``timings.dns_start`` says when it started).
        on_dns_end: Name resolution ended (``timings.dns_end``).
        on_redirect: A redirect response is about to be followed.
        on_retry: An attempt is about to be retried (with a retry policy).
    """

    on_request_start: TraceHook | None = None
    on_request_end: TraceHook | None = None
    on_request_exception: TraceHook | None = None
    on_connection_created: TraceHook | None = None
    on_connection_reused: TraceHook | None = None
    on_dns_start: TraceHook | None = None
    on_dns_end: TraceHook | None = None
    on_redirect: TraceHook | None = None
    on_retry: TraceHook | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            hook = getattr(self, f.name)
            if hook is not None and not callable(hook):
                raise TypeError(f"TraceHooks.{f.name} must be callable, not {type(hook).__name__}")

    def hook(self, name: TraceEventName) -> TraceHook | None:
        """The hook of an event, or ``None``."""
        hook: TraceHook | None = getattr(self, "on_" + name)
        return hook


async def emit_connection(
    hooks: TraceHooks, method: str, url: URL, recorder: TimingsRecorder
) -> None:
    """Call the DNS and connection hooks once the request's connection is ready.

    Nothing is called when the connection layer reported nothing (``is_reused`` unknown).
    """
    if recorder.dns_start is not None:
        await emit(hooks, "dns_start", method, url, recorder)
        await emit(hooks, "dns_end", method, url, recorder)
    if recorder.is_reused:
        await emit(hooks, "connection_reused", method, url, recorder)
    elif recorder.is_reused is not None:
        await emit(hooks, "connection_created", method, url, recorder)


async def emit(
    hooks: TraceHooks,
    name: TraceEventName,
    method: str,
    url: URL,
    recorder: TimingsRecorder,
    *,
    response: ClientResponse | None = None,
    error: BaseException | None = None,
    attempt: object = None,
) -> None:
    """Call the hook of an event, if set, with the timings so far; await what it returns.

    Args:
        hooks: The hooks.
        name: The event.
        method: The request's method.
        url: Its URL.
        recorder: Its timings.
        response: The response, for the events that have one.
        error: The error, for the events that have one.
        attempt: The attempt, for ``retry``.
    """
    hook = hooks.hook(name)
    if hook is None:
        return
    from ._snapshots import TraceEvent  # only a session with hooks builds events

    result = hook(TraceEvent(name, method, url, recorder.snapshot(), response, error, attempt))
    if isawaitable(result):
        await result


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}ms"


def log_request(
    method: str,
    url: URL,
    timings: Timings,
    *,
    status: int | None = None,
    error: BaseException | None = None,
) -> None:
    """Write the DEBUG line of one request to the ``httpwire.client`` logger.

    The line reads ``GET http://host/path 200 pool=0.1ms dns=- connect=- tls=- sent=0.1ms
    wait=1.2ms reused=True remote=127.0.0.1:8080``; the same facts go in the record's
    ``httpwire`` attribute (a dict) for structured handlers. URLs are shown without
    credentials. Each request sent is one line: a redirect hop, a retried attempt or an
    authentication round each have their own.

    Args:
        method: The request's method.
        url: Its URL.
        timings: Its timings.
        status: The status, when a response came.
        error: The error, when none came.
    """
    shown = url.with_user(None) if url.raw_user is not None else url
    outcome = str(status) if error is None else f"failed ({type(error).__name__})"
    facts: dict[str, object] = {
        "method": method,
        "url": str(shown),
        "status": status,
        "error": None if error is None else type(error).__name__,
        **timings.as_dict(),
    }
    LOGGER.debug(
        "%s %s %s pool=%s dns=%s connect=%s tls=%s sent=%s wait=%s reused=%s remote=%s",
        method,
        shown,
        outcome,
        _ms(timings.pool_wait),
        _ms(timings.dns),
        _ms(timings.connect),
        _ms(timings.tls),
        _ms(timings.sending),
        _ms(timings.waiting),
        timings.is_reused,
        format_address(timings.remote_address) or "-",
        extra={"httpwire": facts},
    )
