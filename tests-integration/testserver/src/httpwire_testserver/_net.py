"""Loopback sockets: binding IPv4 and IPv6 on one port, Unix sockets, and waiting for a listener.

Nothing here binds beyond loopback. A server binds ``127.0.0.1`` and, where the
machine has IPv6, ``::1`` on the same port, so ``localhost`` reaches it whichever
address the resolver returns first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections.abc import Callable

__all__ = ["bind_loopback", "bind_unix", "has_ipv6_loopback", "short_tempdir", "wait_listening"]

_BACKLOG = 512


def has_ipv6_loopback() -> bool:
    """Whether ``::1`` can be bound on this machine."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _listener(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_loopback(port: int = 0, *, ipv6: bool = True, attempts: int = 20) -> list[socket.socket]:
    """Listening sockets on ``127.0.0.1`` and (when possible) ``::1``, on one port.

    With ``port=0`` a free port is chosen for IPv4 and tried on IPv6; when IPv6
    has it taken, another port is tried, up to ``attempts`` times.

    Raises:
        OSError: The port is taken, or no common free port was found.
    """
    want_v6 = ipv6 and has_ipv6_loopback()
    for _ in range(attempts):
        v4 = _listener(socket.AF_INET, "127.0.0.1", port)
        if not want_v6:
            return [v4]
        chosen = v4.getsockname()[1]
        try:
            v6 = _listener(socket.AF_INET6, "::1", chosen)
        except OSError as exc:
            v4.close()
            if exc.errno != errno.EADDRINUSE or port != 0:
                raise
            continue
        return [v4, v6]
    raise OSError(errno.EADDRINUSE, f"no port free on both 127.0.0.1 and ::1 in {attempts} tries")


def bind_unix(path: str) -> socket.socket:
    """A listening Unix socket at ``path`` (a stale socket file there is replaced)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def short_tempdir(prefix: str) -> str:
    """A new private directory with a short path (Unix socket paths are limited to ~100 bytes)."""
    import tempfile

    base = "/tmp" if os.path.isdir("/tmp") else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def wait_listening(
    address: tuple[str, int] | str,
    *,
    timeout: float = 30.0,
    alive: Callable[[], str | None] | None = None,
) -> None:
    """Return once a connection to ``address`` (TCP pair or Unix path) succeeds.

    Args:
        address: ``(host, port)`` or a Unix socket path.
        timeout: Seconds before giving up.
        alive: Called between attempts; a string it returns is a reason to stop
            waiting (the process meant to listen has exited), raised as the error.

    Raises:
        TimeoutError: Nothing accepted connections within ``timeout``.
        RuntimeError: ``alive`` reported that the listener died.
    """
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        family = (
            socket.AF_UNIX
            if isinstance(address, str)
            else (socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        )
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(1.0)
                probe.connect(address)
            return
        except OSError:
            pass
        if alive is not None:
            reason = alive()
            if reason is not None:
                raise RuntimeError(reason)
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens at {address!r} after {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
