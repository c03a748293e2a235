"""What the guide's tests share: leak checks, peer URLs and decoding of echoed bodies.

Every test of ``test_guide_*.py`` runs inside :func:`leak_check` (each module
turns it into an autouse fixture). After the test it lets the event loop run
until the client's sockets are closed, then fails if a socket the test opened
is still open, if a task is still pending, or if collecting garbage raises a
``ResourceWarning`` (an unclosed session, connector, response or transport).

Sockets are counted from ``/proc``: a socket of this process that was not open
before the test is a leak unless it belongs to the local server running in a
thread of this process (its listening ports, the connections it accepted on
them, and the accepted ends of its Unix socket, which carry the socket's path).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import os
import ssl
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpwire.parser import EndOfMessage, RequestHead, RequestParser

__all__ = [
    "Recorded",
    "SocketInfo",
    "client_sockets",
    "der_certificate",
    "fingerprints",
    "leak_check",
    "on_localhost",
    "posted_bytes",
    "recording_server",
]

_PROC = Path("/proc")
_LISTEN = "0A"


@dataclass(frozen=True)
class SocketInfo:
    """One socket of this process, as ``/proc/net`` describes it.

    Attributes:
        inode: The socket's inode number.
        kind: ``"tcp"``, ``"unix"`` or ``"other"``.
        local_port: The local TCP port (0 for other kinds).
        remote_port: The remote TCP port (0 for other kinds).
        listening: Whether it is a listening TCP socket.
        path: The Unix socket's path (``""`` when unnamed).
    """

    inode: int
    kind: str
    local_port: int = 0
    remote_port: int = 0
    listening: bool = False
    path: str = ""


def _tcp_table() -> dict[int, SocketInfo]:
    table: dict[int, SocketInfo] = {}
    for name in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            inode = int(fields[9])
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            table[inode] = SocketInfo(inode, "tcp", local, remote, fields[3] == _LISTEN)
    return table


def _unix_table() -> dict[int, SocketInfo]:
    table: dict[int, SocketInfo] = {}
    try:
        lines = (_PROC / "net" / "unix").read_text().splitlines()[1:]
    except OSError:
        return table
    for line in lines:
        fields = line.split()
        inode = int(fields[6])
        table[inode] = SocketInfo(inode, "unix", path=fields[7] if len(fields) > 7 else "")
    return table


def _open_sockets() -> list[SocketInfo]:
    inodes: set[int] = set()
    fd_dir = _PROC / "self" / "fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue  # closed while listing
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    tcp, unix = _tcp_table(), _unix_table()
    return [tcp.get(i) or unix.get(i) or SocketInfo(i, "other") for i in sorted(inodes)]


def client_sockets() -> set[SocketInfo]:
    """The sockets of this process that a client opened (not the in-process server's).

    Returns:
        Every open socket except listening TCP sockets, TCP connections accepted on
        this process's listening ports, and Unix sockets bound to a path (the
        server's listening and accepted ends).
    """
    sockets = _open_sockets()
    listening_ports = {s.local_port for s in sockets if s.kind == "tcp" and s.listening}
    return {
        s
        for s in sockets
        if not (s.kind == "tcp" and (s.listening or s.local_port in listening_ports))
        and not (s.kind == "unix" and s.path)
    }


def _pending_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


@contextlib.asynccontextmanager
async def leak_check(*, rounds: int = 300) -> AsyncIterator[None]:
    """Fail when the body leaves a client socket open, a task pending or a ResourceWarning.

    Closing a socket takes the event loop a turn (a TLS connection a round trip for its
    close_notify), so after the body the loop runs up to ``rounds`` short turns until
    the new sockets are gone; nothing is measured in time.

    Args:
        rounds: How many turns of the loop (10 ms each at most) the sockets get to close.

    Raises:
        AssertionError: Sockets still open, tasks still pending, or ResourceWarnings.
    """
    check_sockets = (_PROC / "self" / "fd").is_dir()
    before = client_sockets() if check_sockets else set()
    yield
    leaked: set[SocketInfo] = set()
    pending: set[asyncio.Task[Any]] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(rounds):
            gc.collect()
            leaked = client_sockets() - before if check_sockets else set()
            pending = _pending_tasks()
            if not leaked and not pending:
                break
            await asyncio.sleep(0.01)
        gc.collect()
    resource = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not resource, f"ResourceWarning after the test: {resource}"
    assert not pending, f"tasks still pending after the test: {pending}"
    assert not leaked, f"sockets still open after the test: {sorted(leaked, key=str)}"


def on_localhost(url: str) -> str:
    """``url`` with its ``127.0.0.1`` host spelled ``localhost`` (cookies are not kept for IPs)."""
    return url.replace("://127.0.0.1:", "://localhost:", 1)


def posted_bytes(echo: dict[str, Any]) -> bytes:
    """The request body an httpbin-style echo shows under ``data``.

    httpbin shows a body that is not UTF-8 as a ``data:`` URL in base64; text as is.
    """
    data = echo["data"]
    assert isinstance(data, str), data
    prefix = "data:application/octet-stream;base64,"
    if data.startswith(prefix):
        return base64.b64decode(data[len(prefix) :])
    return data.encode("utf-8")


def der_certificate(cert_pem: Path) -> bytes:
    """The DER bytes of the first (the server's own) certificate in a PEM chain file."""
    text = cert_pem.read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----"
    first = text[: text.index(end) + len(end)] + "\n"
    return ssl.PEM_cert_to_DER_cert(first)


def fingerprints(der: bytes) -> dict[str, bytes]:
    """The md5, sha1 and sha256 digests of a DER certificate, by hash name."""
    return {name: hashlib.new(name, der).digest() for name in ("md5", "sha1", "sha256")}


_NO_CONTENT = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"


@dataclass
class Recorded:
    """The requests a :func:`recording_server` received, and its URL.

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        heads: Each request's head, in arrival order.
        bodies: Each request's body.
    """

    url: str = ""
    heads: list[RequestHead] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


@contextlib.asynccontextmanager
async def recording_server(response: bytes = _NO_CONTENT) -> AsyncIterator[Recorded]:
    """A server in the test's own loop that keeps the request as parsed from the wire.

    It answers every request with ``response`` (by default ``204 No Content``) and
    closes the connection, so the request's head and body are exactly what the client
    wrote (our server and httpbin report forms without the parts' own headers), and a
    test can give the client an answer neither peer gives.

    Args:
        response: The bytes of the whole response, head and body.
    """
    recorded = Recorded()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = RequestParser()
        body = bytearray()
        try:
            while True:
                data = await reader.read(65536)
                events = parser.feed(data) if data else parser.feed_eof()
                done = False
                for event in events:
                    if isinstance(event, RequestHead):
                        recorded.heads.append(event)
                    elif isinstance(event, bytes):
                        body += event
                    elif isinstance(event, EndOfMessage):
                        done = True
                if done or not data:
                    break
            recorded.bodies.append(bytes(body))
            writer.write(response)
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    recorded.url = f"http://127.0.0.1:{port}"
    try:
        yield recorded
    finally:
        server.close()
        await server.wait_closed()
