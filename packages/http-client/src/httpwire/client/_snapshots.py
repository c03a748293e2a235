"""The frozen values tracing hands out: :class:`Timings` and :class:`TraceEvent`.

Strategy: a request records its timings in a mutable ``TimingsRecorder`` (see
:mod:`._tracing`); these snapshots are built only when asked for (``response.timings``, a
hook's event, the DEBUG log line). They live apart from the recorder so that ``import
httpwire.client`` does not build two frozen dataclasses most programs never touch: the
recorder and :func:`~._tracing.emit` import this module on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from yarl import URL

from ._tracing import format_address

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._tracing import Address, TraceEventName

__all__ = ["Timings", "TraceEvent"]


def _span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return end - start


@dataclass(frozen=True, slots=True)
class Timings:
    """When each phase of one request ended: monotonic stamps in seconds, and durations.

    Stamps are ``time.monotonic()`` seconds; ``None`` means the phase did not
    happen for this request (no DNS, connect or TLS on a reused connection) or was not
    reported. Each redirect hop has its own: ``r.history[i].timings``.

    Attributes:
        start: The request (this hop) started.
        dns_start: Name resolution started.
        dns_end: Name resolution ended.
        connect_start: The TCP (or Unix) connection was started.
        connect_end: It was established.
        tls_start: The TLS handshake started.
        tls_end: It ended.
        acquired: A connection was ready for the request (the pool wait ended).
        request_sent: The whole request (head and body) was written.
        first_byte: The response head arrived.
        body_done: The whole body arrived (``None`` while it is still arriving).
        is_reused: True when the connection came idle from the pool, False when new,
            ``None`` when unknown.
        local_address: The client's end of the connection.
        remote_address: The server's (or the proxy's) end.
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
    local_address: Address | None = None
    remote_address: Address | None = None

    @property
    def pool_wait(self) -> float | None:
        """Seconds from the start until a connection was ready (opening one included)."""
        return _span(self.start, self.acquired)

    @property
    def dns(self) -> float | None:
        """Seconds resolving the host name."""
        return _span(self.dns_start, self.dns_end)

    @property
    def connect(self) -> float | None:
        """Seconds establishing the TCP connection (TLS excluded)."""
        return _span(self.connect_start, self.connect_end)

    @property
    def tls(self) -> float | None:
        """Seconds of the TLS handshake."""
        return _span(self.tls_start, self.tls_end)

    @property
    def sending(self) -> float | None:
        """Seconds writing the request, from the ready connection to the last body byte."""
        return _span(self.acquired, self.request_sent)

    @property
    def waiting(self) -> float | None:
        """Seconds from the request sent to the response head: the server's time."""
        return _span(self.request_sent, self.first_byte)

    @property
    def receiving(self) -> float | None:
        """Seconds from the response head to the end of the body."""
        return _span(self.first_byte, self.body_done)

    @property
    def total(self) -> float | None:
        """Seconds from the start to the end of the body (``None`` until it arrived)."""
        return _span(self.start, self.body_done)

    def as_dict(self) -> dict[str, float | bool | str | None]:
        """The durations and connection facts, for a log line or a metrics system.

        Returns:
            ``pool_wait``, ``dns``, ``connect``, ``tls``, ``sending``, ``waiting``,
            ``receiving``, ``total`` (seconds or ``None``), ``is_reused``, and the addresses
            as text.
        """
        return {
            "pool_wait": self.pool_wait,
            "dns": self.dns,
            "connect": self.connect,
            "tls": self.tls,
            "sending": self.sending,
            "waiting": self.waiting,
            "receiving": self.receiving,
            "total": self.total,
            "is_reused": self.is_reused,
            "local_address": format_address(self.local_address),
            "remote_address": format_address(self.remote_address),
        }


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """What a hook receives: which event, for which request, the timings so far.

    Attributes:
        name: The event (``"request_start"``, ``"redirect"``, ...).
        method: The request's method.
        url: The request's URL (this hop's).
        timings: The timings of this hop so far.
        response: The response, for ``request_end`` and ``redirect`` (the 3xx).
        error: The error, for ``request_exception`` and a ``retry`` after an error.
        attempt: For ``retry``: the attempt that is about to be retried.
    """

    name: TraceEventName
    method: str
    url: URL
    timings: Timings
    response: ClientResponse | None = None
    error: BaseException | None = None
    attempt: object = None
