"""SOCKS5 peers on loopback for the tests: the real pproxy, and a scripted server.

* :class:`PproxyPeer` runs pproxy (a SOCKS5 server from PyPI, in the ``test`` dependency
  group) in a subprocess on a free loopback port, open or with a username and password.
* :class:`ScriptedSocks` is an asyncio SOCKS5 server in the test's own loop that records what
  the client sent and answers what its :class:`Script` says: each refusal, cut-short or
  malformed reply, silence, or bytes after the reply. With ``relay=True`` it then connects
  to the requested target and relays bytes both ways, so a real request can go through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ["SUCCESS_V4", "ConnectRequest", "PproxyPeer", "Script", "ScriptedSocks"]

SUCCESS_V4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
"""A success reply with bound address 127.0.0.1:1080."""

# pproxy's own main() calls uvloop.install() when uvloop is importable and then
# asyncio.get_event_loop(), which current uvloop refuses outside a running loop. The
# launcher hides uvloop (pproxy then runs on the default loop) and calls main().
_LAUNCHER = """
import asyncio, sys
sys.modules["uvloop"] = None
asyncio.set_event_loop(asyncio.new_event_loop())
from pproxy.server import main
sys.argv = ["pproxy", *sys.argv[1:]]
main()
"""


class PproxyPeer:
    """pproxy serving SOCKS5 on ``127.0.0.1`` at a free port, in a subprocess.

    Args:
        workdir: A directory for its output (and the credentials file).
        credentials: ``(username, password)`` the proxy requires, or ``None`` for none.
    """

    def __init__(self, workdir: Path, credentials: tuple[str, str] | None = None) -> None:
        self.workdir = workdir
        self.credentials = credentials
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> PproxyPeer:
        """Start the proxy and wait (at most 30 s) until it listens.

        Returns:
            Itself.

        Raises:
            RuntimeError: It did not start.
        """
        listen = "socks5://127.0.0.1:0"
        if self.credentials is not None:
            users = self.workdir / "socks-users"
            users.write_text(":".join(self.credentials) + "\n", encoding="latin-1")
            listen += f"##{users}"  # '#' + a path: pproxy reads "user:password" lines there
        log = self.workdir / f"pproxy-{id(self)}.log"
        with open(log, "wb") as out:
            # --auth 0: never remember an address that authenticated once (pproxy would
            # skip the check for later connections from 127.0.0.1 otherwise).
            self._process = subprocess.Popen(
                [sys.executable, "-u", "-c", _LAUNCHER, "-l", listen, "--auth", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if "Serving on" in text:
                address = text.split("Serving on", 1)[1].split()[1]  # "ipv4 127.0.0.1:PORT"
                self.port = int(address.rsplit(":", 1)[1])
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pproxy did not start: {log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        """Stop the proxy (terminate, then kill after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def url(self, scheme: str = "socks5h", userinfo: str = "") -> str:
        """The proxy's URL with ``scheme`` and optional ``user:password@`` userinfo."""
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}"


@dataclass
class Script:
    """What :class:`ScriptedSocks` answers at each step.

    Attributes:
        method: The answer to the greeting (version and chosen method).
        auth: The answer to the username/password (RFC 1929).
        reply: The answer to CONNECT.
        after: Bytes sent right after the reply, in the same write.
        silent_at: ``"greeting"``, ``"auth"`` or ``"request"``: read that message and
            never answer (the connection stays open until the test ends).
        close_after: Close the connection after the answers (else keep it open).
        relay: After a successful reply, connect to the requested target and relay.
    """

    method: bytes = b"\x05\x00"
    auth: bytes = b"\x01\x00"
    reply: bytes = SUCCESS_V4
    after: bytes = b""
    silent_at: str | None = None
    close_after: bool = True
    relay: bool = False


@dataclass
class ConnectRequest:
    """A CONNECT request as the server received it."""

    atyp: int
    address: bytes
    port: int

    @property
    def host(self) -> str:
        """The address as text: a dotted or colon IP, or the domain."""
        if self.atyp == 0x03:
            return self.address.decode("ascii")
        return str(ipaddress.ip_address(self.address))


@dataclass
class ScriptedSocks:
    """A scripted SOCKS5 server on loopback (``host``, ``127.0.0.1`` by default); use
    ``async with``."""

    script: Script = field(default_factory=Script)
    greetings: list[bytes] = field(default_factory=list)
    auths: list[tuple[bytes, bytes]] = field(default_factory=list)
    requests: list[ConnectRequest] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"
    requested: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a CONNECT request arrived."""
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> ScriptedSocks:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        """Abort every connection with a TCP reset (SO_LINGER of 0 s) instead of a FIN."""
        for writer in self._writers:
            raw = writer.get_extra_info("socket")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    def url(self, scheme: str = "socks5h", userinfo: str = "") -> str:
        """The server's URL with ``scheme`` and optional ``user:password@`` userinfo."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{userinfo}{host}:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Cancelled by __aexit__: end quietly, since asyncio's stream server logs a
            # handler task that ends cancelled as an unhandled error on Python 3.11.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = self.script
        head = await reader.readexactly(2)
        self.greetings.append(head + await reader.readexactly(head[1]))
        if script.silent_at == "greeting":
            await asyncio.Event().wait()
        writer.write(script.method)
        if script.method[1:2] == b"\x02":
            assert await reader.readexactly(1) == b"\x01"
            username = await reader.readexactly((await reader.readexactly(1))[0])
            password = await reader.readexactly((await reader.readexactly(1))[0])
            self.auths.append((username, password))
            if script.silent_at == "auth":
                await asyncio.Event().wait()
            writer.write(script.auth)
            if script.auth != b"\x01\x00":
                return
        elif script.method != b"\x05\x00":
            return
        version, command, _, atyp = await reader.readexactly(4)
        assert (version, command) == (5, 1)
        if atyp == 0x03:
            address = await reader.readexactly((await reader.readexactly(1))[0])
        else:
            address = await reader.readexactly(4 if atyp == 0x01 else 16)
        port = int.from_bytes(await reader.readexactly(2), "big")
        request = ConnectRequest(atyp, address, port)
        self.requests.append(request)
        self.requested.set()
        if script.silent_at == "request":
            await asyncio.Event().wait()
        writer.write(script.reply + script.after)
        await writer.drain()
        if script.relay:
            await self._relay(reader, writer, request)
        elif not script.close_after:
            await reader.read()  # until the client closes

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: ConnectRequest
    ) -> None:
        target_reader, target_writer = await asyncio.open_connection(request.host, request.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
                if sink.can_write_eof():
                    sink.write_eof()

        try:
            await asyncio.gather(pipe(reader, target_writer), pipe(target_reader, writer))
        finally:
            target_writer.close()
