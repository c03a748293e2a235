"""Connecting to a host's addresses the Happy Eyeballs way (RFC 8305).

Strategy: the addresses are put in the order of RFC 8305 §4, alternating families and
starting with the family of the first answer. The first attempt starts at once; each next
one starts ``happy_eyeballs_delay`` seconds after the previous, or as soon as the previous
failed, without waiting for it to end (§5). The first socket to connect wins; the attempts
still running are cancelled and their sockets closed, as is any that connected too late.
So an unreachable address costs the delay, not a connect timeout. When every attempt
fails, one error names the host, the port and the failure of each address.

A single address (the common case: an IP literal, a host with one record) takes a
straight path with no task at all. The result is a connected non-blocking socket, which
the caller hands to ``loop.create_connection(sock=...)`` with or without TLS.

One attempt is a non-blocking ``connect()`` and a wait for the socket to become writable
(:func:`_connect`), on a future that the deadline's timer fails: no task is cancelled, and
it costs a third of ``loop.sock_connect()`` under ``asyncio.timeout()`` (about 4 µs less per
connection). A loop that cannot watch sockets (Windows' proactor) takes that path instead.
Before any of that, one poll that does not wait asks whether the connect has already
settled, as it has on loopback, where the kernel completes the handshake within the
``connect()`` call: then there is nothing to wait for.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
from collections.abc import Sequence
from typing import Any

from ._errors import ClientConnectorError, ConnectTimeoutError
from ._resolver import AddrInfo
from ._util import host_port

__all__ = ["connect_happy_eyeballs", "interleave"]

_POLL = hasattr(select, "poll")


def interleave(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """Order addresses as RFC 8305 §4 says: alternate families, first family first.

    Args:
        infos: ``getaddrinfo`` entries in the resolver's order.

    Returns:
        The same entries, families interleaved; the order within a family is kept.
    """
    if len(infos) < 2:
        return list(infos)
    by_family: dict[int, list[AddrInfo]] = {}
    for info in infos:
        by_family.setdefault(info[0], []).append(info)
    if len(by_family) == 1:
        return list(infos)
    groups = list(by_family.values())
    ordered: list[AddrInfo] = []
    for index in range(max(len(group) for group in groups)):
        for group in groups:
            if index < len(group):
                ordered.append(group[index])
    return ordered


def _show(address: tuple[object, ...]) -> str:
    return host_port(str(address[0]), int(str(address[1])))


def _is_deadline(exc: BaseException) -> bool:
    """True for our own sock_connect deadline, False for an OS error (even ETIMEDOUT)."""
    return isinstance(exc, asyncio.TimeoutError) and getattr(exc, "errno", None) is None


def _reason(exc: BaseException, timeout: float | None) -> str:
    if _is_deadline(exc):
        return f"timed out after {timeout} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.errno is None else f"{exc.strerror} (errno {exc.errno})"
    return str(exc) or type(exc).__name__


def _deadline(loop: asyncio.AbstractEventLoop, timeout: float | None) -> float | None:
    """The loop time by which an attempt starting now must have connected."""
    return None if timeout is None else loop.time() + timeout


async def _attempt(
    loop: asyncio.AbstractEventLoop,
    info: AddrInfo,
    local: Sequence[AddrInfo] | None,
    deadline: float | None,
) -> socket.socket:
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        if local is not None:
            for local_info in local:
                if local_info[0] == family:
                    sock.bind(local_info[4])
                    break
            else:
                raise OSError(
                    f"local_addr has no address of the family of {_show(address)} to bind to"
                )
        await _connect(loop, sock, address, deadline)
    except OSError as exc:
        sock.close()
        if exc.errno is not None and exc.errno > 0:
            # asyncio words it "Connect call failed (...)": give the OS's own words.
            raise OSError(exc.errno, os.strerror(exc.errno)) from exc
        raise
    except BaseException:
        sock.close()
        raise
    return sock


def _writable(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _expired(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def _connect(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    address: tuple[Any, ...],
    deadline: float | None,
) -> None:
    """Connect a non-blocking socket by ``deadline`` (loop time), or raise ``TimeoutError``."""
    try:
        sock.connect(address)
        return  # at once (a Unix socket, sometimes loopback)
    except (BlockingIOError, InterruptedError):
        pass
    if _settled_now(sock):
        # On loopback the handshake is over by the time connect() returns: one poll that
        # does not wait spares a turn of the loop, a future, a timer and two epoll_ctl.
        _raise_if_failed(sock)
        return
    waiter = loop.create_future()
    fd = sock.fileno()
    try:
        loop.add_writer(fd, _writable, waiter)
    except NotImplementedError:  # a loop that cannot watch sockets (Windows' proactor)
        # Not asyncio.wait_for: on Python 3.11 it returns the connected socket when a
        # cancellation lands just as the connect completes (CPython gh-86296).
        async with asyncio.timeout_at(deadline):
            await loop.sock_connect(sock, address)
        return
    timer = None if deadline is None else loop.call_at(deadline, _expired, waiter)
    try:
        # Cancelled here, the connect is abandoned: the caller closes the socket.
        await waiter
    finally:
        loop.remove_writer(fd)
        if timer is not None:
            timer.cancel()
    _raise_if_failed(sock)


def _settled_now(sock: socket.socket) -> bool:
    """True when a connect in progress has already succeeded or failed (no waiting)."""
    if _POLL:
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        return bool(poller.poll(0))
    _, writable, failed = select.select((), (sock,), (sock,), 0)  # pragma: no cover - Windows
    return bool(writable or failed)  # pragma: no cover - Windows


def _raise_if_failed(sock: socket.socket) -> None:
    """Raise the OS's error of a settled connect, if it failed."""
    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if error:
        raise OSError(error, os.strerror(error))


# The timeout bounds each attempt from its own start (attempts start one after another), which
# no deadline of the caller's can express: the caller bounds the whole with asyncio.timeout.
async def connect_happy_eyeballs(
    infos: Sequence[AddrInfo],
    host: str,
    port: int,
    *,
    delay: float | None = 0.25,
    timeout: float | None = None,  # noqa: ASYNC109 (see above)
    local_addr: tuple[str, int] | None = None,
) -> socket.socket:
    """Connect a TCP socket to the first of ``infos`` that answers.

    Args:
        infos: The resolved addresses (at least one).
        host: The host they belong to (named in errors).
        port: The port (named in errors).
        delay: Seconds between the starts of two attempts (``None``: one at a time,
            each to its end).
        timeout: Seconds each attempt may take (``None``: the OS's limit).
        local_addr: A ``(host, port)`` to bind the local end to.

    Returns:
        A connected, non-blocking socket; the caller owns it.

    Raises:
        ClientConnectorError: Every attempt failed; the message names each address and
            its error, ``os_error`` is the last one.
        ConnectTimeoutError: Every attempt reached ``timeout``.
    """
    loop = asyncio.get_running_loop()
    local: list[AddrInfo] | None = None
    if local_addr is not None:
        try:
            local = await loop.getaddrinfo(  # type: ignore[assignment]  # loosely typed addresses
                local_addr[0], local_addr[1], type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise ClientConnectorError(
                host, port, exc, reason=f"local_addr {local_addr}: {exc}"
            ) from exc
    ordered = interleave(infos)
    errors: list[tuple[str, BaseException]] = []
    if len(ordered) == 1 or delay is None:
        for info in ordered:
            try:
                return await _attempt(loop, info, local, _deadline(loop, timeout))
            except (TimeoutError, OSError) as exc:
                errors.append((_show(info[4]), exc))
        raise _failed(host, port, errors, timeout)
    running: dict[asyncio.Task[socket.socket], str] = {}
    winner: socket.socket | None = None
    started = 0
    try:
        while winner is None:
            if started < len(ordered):
                info = ordered[started]
                started += 1
                task = loop.create_task(_attempt(loop, info, local, _deadline(loop, timeout)))
                running[task] = _show(info[4])
            if not running:
                break
            done, _ = await asyncio.wait(
                running,
                timeout=delay if started < len(ordered) else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in done:
                address = running.pop(task)
                failure = task.exception()
                if failure is None:
                    if winner is None:
                        winner = task.result()
                    else:
                        task.result().close()  # connected at the same moment: not needed
                elif isinstance(failure, (OSError, asyncio.TimeoutError)):
                    errors.append((address, failure))
                else:
                    raise failure
    finally:
        await _cancel(running)
    if winner is not None:
        return winner
    raise _failed(host, port, errors, timeout)


async def _cancel(running: dict[asyncio.Task[socket.socket], str]) -> None:
    """Stop the attempts still running and close any socket that connected meanwhile."""
    if not running:
        return
    for task in running:
        task.cancel()
    await asyncio.wait(running)
    for task in running:
        if not task.cancelled() and task.exception() is None:
            task.result().close()


def _failed(
    host: str,
    port: int,
    errors: list[tuple[str, BaseException]],
    timeout: float | None,
) -> ClientConnectorError | ConnectTimeoutError:
    last = errors[-1][1]
    error: ClientConnectorError | ConnectTimeoutError
    if all(_is_deadline(exc) for _, exc in errors):
        error = ConnectTimeoutError(timeout, host=host, port=port)
    elif len(errors) == 1:
        error = ClientConnectorError(host, port, last)
    else:
        reasons = "; ".join(f"{address}: {_reason(exc, timeout)}" for address, exc in errors)
        error = ClientConnectorError(host, port, last, reason=f"every address failed ({reasons})")
    error.__cause__ = last
    return error
