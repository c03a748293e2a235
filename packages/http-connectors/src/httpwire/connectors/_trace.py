"""Reporting how a connection was obtained, for requests that ask (``OutgoingRequest.trace``).

Strategy: nothing here runs for a request without a trace. ``acquire()`` reports a reused
connection itself, and for a new one makes the request's trace the *current* one while the
connector opens it, so that the steps deep inside (name resolution, the connect, the TLS
handshake, in every connector) report their phase without a parameter threaded through
each connector's ``_connect`` signature. The context variable is read only while a new
connection is opened, never on the pooled path.
"""

from __future__ import annotations

from contextvars import ContextVar
from time import monotonic
from typing import Any, Literal, Protocol

from ._interfaces import ConnectionTrace

__all__ = ["CURRENT", "report_connection", "report_phase"]

CURRENT: ContextVar[ConnectionTrace | None] = ContextVar("httpwire_connection_trace", default=None)
"""The trace of the request whose connection is being opened in this task, if any."""


def report_phase(phase: Literal["dns", "connect", "tls"], start: float) -> float:
    """Report a phase that started at *start* and ends now, to the current trace if any.

    Returns:
        Now (``time.monotonic()``), the start of the next phase.
    """
    end = monotonic()
    trace = CURRENT.get()
    if trace is not None:
        trace.on_phase(phase, start, end)
    return end


class _Addressed(Protocol):
    @property
    def addresses(self) -> tuple[Any, Any]: ...


def report_connection(trace: ConnectionTrace, reused: bool, conn: _Addressed) -> None:
    """Report the connection a request got, with its socket's addresses when known."""
    local, remote = conn.addresses
    trace.on_connection(reused, local, remote)
