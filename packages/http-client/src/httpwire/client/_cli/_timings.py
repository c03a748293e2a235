"""``--timings``: the per-phase timings the library measured, for each hop of the request.

Strategy: every response carries its :class:`~httpwire.client.Timings` (pool wait, DNS,
connect, TLS, sending, waiting for the first byte, receiving, and the connection's reuse
and addresses, one set per redirect hop); this module only lays them out. Nothing is
measured here but one instant: when the command itself saw the end of the body it
streamed, used for the last hop's ``receiving`` and ``total`` when the library has not
stamped ``body_done`` (a body read piece by piece and left unreleased).
Both clocks are ``time.monotonic()``, so the differences are meaningful.
"""

from __future__ import annotations

from collections.abc import Sequence

from httpwire.client import ClientResponse, Timings

__all__ = ["PHASES", "hop_record", "timing_lines", "timings_record"]

PHASES: tuple[tuple[str, str], ...] = (
    ("pool_wait", "pool wait"),
    ("dns", "dns"),
    ("connect", "connect"),
    ("tls", "tls"),
    ("sending", "sending"),
    ("waiting", "waiting"),
    ("receiving", "receiving"),
    ("total", "total"),
)
"""The durations shown, as ``(Timings attribute, label)``, in the order they happen."""


def _hops(response: ClientResponse) -> Sequence[ClientResponse]:
    return (*response.history, response)


def _durations(timings: Timings, body_at: float | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {name: getattr(timings, name) for name, _ in PHASES}
    if timings.body_done is None and body_at is not None:
        if timings.first_byte is not None:
            values["receiving"] = body_at - timings.first_byte
        values["total"] = body_at - timings.start
    return values


def hop_record(hop: ClientResponse, body_at: float | None = None) -> dict[str, object]:
    """One hop's timings as a JSON-ready dict (seconds, or ``None`` for a phase not run).

    Args:
        hop: A response (the final one, or one of its ``history``).
        body_at: When the command saw the end of this hop's body (``time.monotonic()``),
            used when the library did not stamp it.

    Returns:
        ``method``, ``url``, ``status``, each phase of :data:`PHASES`, ``is_reused``,
        ``local_address`` and ``remote_address``.
    """
    record: dict[str, object] = {
        "method": hop.method,
        "url": str(hop.url.with_user(None) if hop.url.raw_user is not None else hop.url),
        "status": hop.status,
    }
    timings = hop.timings
    record.update(_durations(timings, body_at))
    facts = timings.as_dict()
    for name in ("is_reused", "local_address", "remote_address"):
        record[name] = facts[name]
    return record


def timings_record(response: ClientResponse, body_at: float | None) -> list[dict[str, object]]:
    """The timings for ``--json-output``: one record per hop, the final response last.

    Args:
        response: The final response.
        body_at: When the command saw the end of the final body.
    """
    hops = _hops(response)
    return [hop_record(hop, body_at if hop is response else None) for hop in hops]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


def timing_lines(response: ClientResponse, body_at: float | None) -> list[str]:
    """The lines ``--timings`` prints: each hop's phases, then its connection.

    Args:
        response: The final response.
        body_at: When the command saw the end of the final body.

    Returns:
        Lines without their end; a phase that did not run (DNS, connect and TLS on a
        reused connection) shows ``-``.
    """
    hops = _hops(response)
    lines = ["timings:"]
    for number, hop in enumerate(hops, 1):
        record = hop_record(hop, body_at if hop is response else None)
        indent = "  "
        if len(hops) > 1:
            lines.append(f"  hop {number}: {record['method']} {record['url']} {record['status']}")
            indent = "    "
        for name, label in PHASES:
            value = record[name]
            assert value is None or isinstance(value, float)
            lines.append(f"{indent}{label:<12} {_ms(value)}")
        reused = record["is_reused"]
        state = "unknown" if reused is None else "reused" if reused else "new"
        local, remote = record["local_address"], record["remote_address"]
        route = f", {local or '?'} -> {remote or '?'}" if local or remote else ""
        lines.append(f"{indent}{'connection':<12} {state}{route}")
    return lines
