"""``--timings``: what the response says about its phases, and what the command measured.

Strategy: per-phase timings (pool wait, DNS, connect, TLS, first byte...) are the
library's to measure, on the response's ``timings`` attribute; this module prints
whatever such an attribute holds (a dataclass, a named tuple, a mapping or an object with
attributes), so it keeps working as the attribute grows. When the response carries none,
it says so, and shows the two instants the command can measure itself around the
library's calls: the response head received, and the body done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from httpwire.client import ClientResponse

__all__ = ["response_timings", "timing_lines", "timings_record"]

_NOT_AVAILABLE = (
    "per-phase timings (pool wait, DNS, connect, TLS, first byte) are not reported by this "
    "version of httpwire-client; shown: what the command measured around its calls"
)


def response_timings(response: ClientResponse) -> dict[str, object] | None:
    """The response's own timings as a flat dict, or ``None`` when it carries none."""
    timings = getattr(response, "timings", None)
    if timings is None:
        return None
    if dataclasses.is_dataclass(timings) and not isinstance(timings, type):
        return dataclasses.asdict(timings)
    if isinstance(timings, Mapping):
        return {str(k): v for k, v in timings.items()}
    as_dict = getattr(timings, "_asdict", None)
    if callable(as_dict):
        result = as_dict()
        if isinstance(result, Mapping):
            return {str(k): v for k, v in result.items()}
    names = getattr(type(timings), "__slots__", None) or list(vars(timings))
    return {name: getattr(timings, name, None) for name in names if not name.startswith("_")}


def _measured(started: float, head_at: float | None, body_at: float | None) -> dict[str, float]:
    result: dict[str, float] = {}
    if head_at is not None:
        result["response_head"] = head_at - started
    if body_at is not None:
        result["body_done"] = body_at - started
    return result


def timings_record(
    response: ClientResponse, started: float, head_at: float | None, body_at: float | None
) -> dict[str, object]:
    """The timings for ``--json-output``: the response's own, and the command's measures.

    Args:
        response: The response.
        started: When the request was started (monotonic seconds).
        head_at: When the response head was received.
        body_at: When the body was done.
    """
    return {
        "response": response_timings(response),
        "measured_by_command": _measured(started, head_at, body_at),
    }


def _seconds(value: object) -> str:
    if isinstance(value, float):
        return f"{value * 1000:.1f} ms"
    return str(value)


def timing_lines(
    response: ClientResponse, started: float, head_at: float | None, body_at: float | None
) -> list[str]:
    """The lines ``--timings`` prints.

    Args:
        response: The response.
        started: When the request was started (monotonic seconds).
        head_at: When the response head was received.
        body_at: When the body was done.
    """
    lines = ["timings:"]
    own = response_timings(response)
    if own is None:
        lines.append(f"  ({_NOT_AVAILABLE})")
    else:
        lines.extend(f"  {name:<16} {_seconds(value)}" for name, value in own.items())
    for name, value in _measured(started, head_at, body_at).items():
        label = name.replace("_", " ")
        lines.append(f"  {label:<16} {value * 1000:.1f} ms (measured by the command)")
    return lines
