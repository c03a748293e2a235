"""ClientTimeout: the four limits of a request, and what a bare number means.

Strategy: the limits split by who can enforce them cheaply. ``sock_connect`` (one connection
attempt, TLS included) and ``sock_read`` (no byte for N seconds) are passed to the connector,
which enforces them with the one timer handle each connection already has. ``total`` (the
whole request, body included) and ``connect`` (getting a connection: waiting for a pool slot
and connecting) are deadlines the client enforces with ``asyncio.timeout`` around the awaits
they cover; when they are unset, which is the default, the request pays nothing for them.

The default, ``ClientTimeout(sock_connect=30, sock_read=300)``, has no ``total``: a slow but
steady download never dies while bytes flow. A number ``n`` given as ``timeout=`` means the
guide's "no bytes received for n seconds": ``ClientTimeout(sock_connect=n, sock_read=n)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_TIMEOUT", "ClientTimeout", "as_timeout"]


def _check(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"ClientTimeout {name} must be a number or None, not {type(value).__name__}"
        )
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"ClientTimeout {name} must be a positive finite number or None, got {value!r}"
        )


@dataclass(frozen=True, slots=True)
class ClientTimeout:
    """The time limits of a request, in seconds; ``None`` means no limit.

    Immutable and hashable; change one field with ``dataclasses.replace(timeout, total=60)``.

    Attributes:
        total: The whole request, redirects and reading the body included: a deadline.
            When it passes, :class:`~httpwire.connectors.TotalTimeoutError` is raised.
        connect: Getting a connection, waiting for a free slot in the pool included: a
            deadline; :class:`~httpwire.connectors.ConnectTimeoutError` (``phase="connect"``).
        sock_connect: One connection attempt, TLS handshake included (enforced by the
            connector); ``ConnectTimeoutError`` (``phase="sock_connect"``).
        sock_read: No byte from the server for this long, while waiting for the response
            and while its body arrives (enforced by the connection);
            :class:`~httpwire.connectors.ReadTimeoutError`.

    Raises:
        TypeError: A value is not a number.
        ValueError: A value is zero, negative, NaN or infinite.
    """

    total: float | None = None
    connect: float | None = None
    sock_connect: float | None = None
    sock_read: float | None = None

    def __post_init__(self) -> None:
        _check("total", self.total)
        _check("connect", self.connect)
        _check("sock_connect", self.sock_connect)
        _check("sock_read", self.sock_read)


DEFAULT_TIMEOUT = ClientTimeout(sock_connect=30, sock_read=300)
"""The session's default: 30 s to connect, 300 s without a byte; no total limit."""


def as_timeout(value: ClientTimeout | float | None, default: ClientTimeout) -> ClientTimeout:
    """The ``ClientTimeout`` a ``timeout=`` argument means.

    Args:
        value: A ``ClientTimeout``; a number ``n`` (``sock_connect=n, sock_read=n``); or
            ``None`` for *default*.
        default: The session's timeout.

    Raises:
        TypeError: *value* is of another type.
        ValueError: A limit is not a positive finite number.
    """
    if value is None:
        return default
    if isinstance(value, ClientTimeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"timeout must be a ClientTimeout, a number of seconds or None, "
            f"not {type(value).__name__}"
        )
    _check("timeout", value)
    return ClientTimeout(sock_connect=value, sock_read=value)
