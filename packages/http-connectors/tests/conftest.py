"""Test settings and helpers shared by this package's tests."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

# No deadline (a loaded CI machine is slow at random) and a bounded number of
# examples, so property tests cost the same on every run.
settings.register_profile("ci", deadline=None, max_examples=150, print_blob=True)

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
try:
    import uvloop
except ImportError:  # pragma: no cover - Windows, where uvloop does not exist
    pass
else:
    LOOPS["uvloop"] = uvloop.new_event_loop


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        action="append",
        choices=sorted(LOOPS),
        help="run the async tests on this event loop only (repeatable; default: every "
        "loop installed, the default asyncio loop and uvloop)",
    )


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test runs on each supported loop: the default one and uvloop."""
    chosen: list[str] | None = config.getoption("--loop")
    return {name: LOOPS[name] for name in chosen} if chosen else dict(LOOPS)


def client_sockets(port: int) -> int:
    """How many TCP sockets of this process are connected to ``port`` on loopback (Linux).

    The test servers may run in this process too, so counting all descriptors would count
    their ends as well; this counts only the client ends (remote port ``port``).
    """
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    if remote_port == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            count += 1
    return count


async def client_sockets_after_closing(port: int) -> int:
    """:func:`client_sockets` once the loop has run the closes it scheduled.

    uvloop closes the transport of a failed TLS handshake a few loop turns after the
    failure was raised (the default loop, one turn): count after letting it run them.
    """
    for _ in range(10):
        if not client_sockets(port):
            break
        await asyncio.sleep(0)
    return client_sockets(port)


def open_fds() -> int:
    """How many file descriptors this process has open (Linux), or -1 when unknown."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A loopback port whose accept queue is full, so connecting to it hangs.

    The listening socket never accepts and its backlog is filled first: the kernel then
    drops further SYNs, and a connect() neither succeeds nor fails.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()
