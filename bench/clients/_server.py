"""The servers the client benchmark runs against, each in a process of its own.

Strategy: the server must never be the bottleneck. nginx (one worker) serves the GET
workloads from static files when it is installed; otherwise the canned-response server of
this module serves them. Uploads always go to the canned server, because an upload endpoint
must read the whole body before it answers (nginx's ``return 200`` answers after the head
and measures nothing): it counts every body byte (Content-Length or chunked) and answers
with that count, which the client checks. The canned server runs on uvloop when it is
installed. Both serve over TLS too, with a certificate for ``127.0.0.1`` from a throw-away
trustme CA. Every server process is pinned to the server CPU when the OS allows it.

Run as ``python -m clients._server PORT TLS_PORT TMP [--all]``, this module is the canned
server (``--all``: it serves the GET workloads too, not only uploads).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from ._common import BODY, JSON_DOC, pin_to

__all__ = ["Servers", "find_nginx", "start_servers"]

MIB = 1 << 20

_NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ application/json json; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=8192;
        listen 127.0.0.1:{tls_port} ssl backlog=8192;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.key;
        ssl_session_cache off;
        ssl_session_tickets off;
        root {tmp}/www;
        location / {{ }}
    }}
}}
"""


class Servers:
    """The running benchmark servers.

    Attributes:
        name: What serves the GET workloads, e.g. ``"nginx/1.22.1 (1 worker, static files)"``.
        upload_name: What serves the uploads.
        http: Base URL of the GET workloads over plain http.
        https: The same over TLS.
        upload: The URL that reads a whole body and answers with its length (the canned
            server, which also answers ``/delay-<ms>``).
        ca_pem: The CA file that verifies the TLS certificate.
        cpu: The CPU the servers are pinned to (-1: not pinned).
    """

    def __init__(
        self,
        name: str,
        upload_name: str,
        http: str,
        https: str,
        upload: str,
        tmp: str,
        processes: list[subprocess.Popen[bytes]],
        cpu: int,
    ) -> None:
        self.name = name
        self.upload_name = upload_name
        self.http = http
        self.https = https
        self.upload = upload
        self.ca_pem = str(Path(tmp, "ca.pem"))
        self.cpu = cpu
        self._tmp = tmp
        self._processes = processes

    def alive(self) -> bool:
        """Whether every server process still runs."""
        return all(p.poll() is None for p in self._processes)

    def stop(self) -> None:
        """Stop every server process (and its children) and remove the served files."""
        for process in self._processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self._processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self._tmp, ignore_errors=True)


def find_nginx() -> str | None:
    """The nginx executable, if installed."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a benchmark server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"a benchmark server did not listen on port {port} within 15 s")


def _make_certificates(tmp: str) -> None:
    """A CA (ca.pem) and a certificate for 127.0.0.1 and localhost (server.pem, .key)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(Path(tmp, "ca.pem")))
    cert.private_key_pem.write_to_path(str(Path(tmp, "server.key")))
    with open(Path(tmp, "server.pem"), "wb") as chain:
        for blob in cert.cert_chain_pems:
            chain.write(blob.bytes())
    for name in ("ca.pem", "server.pem", "server.key"):
        os.chmod(Path(tmp, name), 0o644)  # nginx's workers may run as another user


def _write_files(www: Path, download_mib: list[int]) -> None:
    www.mkdir(mode=0o755)
    (www / "13").write_bytes(BODY)
    (www / "doc.json").write_bytes(JSON_DOC)
    block = bytes(range(256)) * (MIB // 256)
    for size in download_mib:
        with open(www / f"dl-{size}", "wb") as out:
            for _ in range(size):
                out.write(block)
    for path in www.iterdir():
        os.chmod(path, 0o644)


def _pinned(cpu: int) -> Callable[[], None]:
    def pin() -> None:  # runs in the child between fork and exec
        pin_to(cpu)

    return pin


def start_servers(download_mib: list[int], cpu: int, use_nginx: bool = True) -> Servers:
    """Start the servers on free loopback ports, pinned to ``cpu`` (-1: not pinned).

    Args:
        download_mib: Sizes in MiB of the large files to serve as ``/dl-<size>``.
        cpu: The CPU for the server processes.
        use_nginx: Serve the GET workloads with nginx when it is installed.

    Returns:
        The running servers; ``stop()`` them when done.
    """
    tmp = tempfile.mkdtemp(prefix="httpwire-bench-clients-")
    os.chmod(tmp, 0o755)  # nginx's workers may run as another user
    _make_certificates(tmp)
    _write_files(Path(tmp, "www"), download_mib)
    processes: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    try:
        nginx = find_nginx() if use_nginx else None
        canned = [sys.executable, "-m", "clients._server"]
        up_port, up_tls = _free_port(), _free_port()
        process = subprocess.Popen(
            [*canned, str(up_port), str(up_tls), tmp, *([] if nginx else ["--all"])],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_pinned(cpu),
        )
        processes.append(process)
        _wait_listening(up_port, process)
        _wait_listening(up_tls, process)
        loop_name = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        upload_name = f"canned asyncio server on {loop_name} (reads the whole body first)"
        if nginx:
            port, tls_port = _free_port(), _free_port()
            conf = Path(tmp, "nginx.conf")
            conf.write_text(_NGINX_CONF.format(tmp=tmp, port=port, tls_port=tls_port))
            version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
            process = subprocess.Popen(
                [nginx, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                preexec_fn=_pinned(cpu),
            )
            processes.append(process)
            _wait_listening(port, process)
            _wait_listening(tls_port, process)
            name = f"{version.strip().partition(': ')[2] or 'nginx'} (1 worker, static files)"
        else:
            port, tls_port = up_port, up_tls
            why = "nginx not installed" if use_nginx else "nginx not used: --no-nginx"
            name = f"{upload_name.partition(' (')[0]} ({why})"
        return Servers(
            name,
            upload_name,
            f"http://127.0.0.1:{port}",
            f"https://127.0.0.1:{tls_port}",
            f"http://127.0.0.1:{up_port}/upload",
            tmp,
            processes,
            cpu,
        )
    except BaseException:
        Servers("", "", "", "", "", tmp, processes, cpu).stop()
        raise


# --- the canned server -------------------------------------------------------------------

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER = range(6)


def _response(body: bytes, content_type: str = "application/octet-stream") -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nServer: canned\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


_FIXED = {
    b"/13": _response(BODY),
    b"/doc.json": _response(JSON_DOC, "application/json"),
}
_BLOCK = bytes(range(256)) * (MIB // 256)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class _Canned(asyncio.Protocol):
    """Reads request heads and bodies (Content-Length or chunked) and answers each request.

    ``/upload`` answers with the number of body bytes read, ``/delay-<ms>`` with the 13-byte
    body that many milliseconds later (so that many requests are in flight at once); ``/13``,
    ``/doc.json`` and ``/dl-<MiB>`` (streamed with flow control) serve the GET workloads.
    """

    def __init__(self, serve_all: bool) -> None:
        self._serve_all = serve_all
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._state = _HEAD
        self._left = 0
        self._received = 0
        self._path = b""
        self._close = False
        self._paused = False
        self._download_left = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._pump()

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        pos, end = 0, len(data)
        while pos < end:
            state = self._state
            if state in (_LENGTH, _CHUNK_DATA):
                n = min(end - pos, self._left)
                self._left -= n
                self._received += n
                pos += n
                if self._left == 0:
                    if state == _LENGTH:
                        self._answer()
                    else:
                        self._state = _CHUNK_END
            elif state == _HEAD:
                i = data.find(b"\r\n\r\n", pos)
                if i < 0:
                    self._buffer = data[pos:]
                    return
                self._begin(data[pos:i])
                pos = i + 4
            elif state == _CHUNK_SIZE:
                i = data.find(b"\r\n", pos)
                if i < 0:
                    self._buffer = data[pos:]
                    return
                size = int(data[pos:i].split(b";", 1)[0], 16)
                pos = i + 2
                if size:
                    self._left = size
                    self._state = _CHUNK_DATA
                else:
                    self._state = _TRAILER
            elif state == _CHUNK_END:
                if end - pos < 2:
                    self._buffer = data[pos:]
                    return
                pos += 2
                self._state = _CHUNK_SIZE
            else:  # _TRAILER: fields until an empty line
                i = data.find(b"\r\n", pos)
                if i < 0:
                    self._buffer = data[pos:]
                    return
                empty = i == pos
                pos = i + 2
                if empty:
                    self._answer()

    def _begin(self, head: bytes) -> None:
        line, _, fields = head.partition(b"\r\n")
        parts = line.split(b" ")
        self._path = parts[1] if len(parts) > 1 else b""
        self._received = 0
        lowered = fields.lower()
        self._close = b"connection: close" in lowered
        if b"transfer-encoding: chunked" in lowered:
            self._state = _CHUNK_SIZE
            return
        length = 0
        i = lowered.find(b"content-length:")
        if i >= 0:
            j = lowered.find(b"\r\n", i)
            length = int(lowered[i + 15 : j if j >= 0 else len(lowered)])
        if length:
            self._left = length
            self._state = _LENGTH
        else:
            self._answer()

    def _answer(self) -> None:
        self._state = _HEAD
        transport = self._transport
        assert transport is not None
        path = self._path
        if path == b"/upload":
            transport.write(_response(str(self._received).encode("ascii"), "text/plain"))
        elif path.startswith(b"/delay-"):  # the 13-byte body, some milliseconds later
            delay = int(path[7:]) / 1000
            asyncio.get_running_loop().call_later(delay, self._late, transport, self._close)
            return
        elif not self._serve_all:
            transport.write(_NOT_FOUND)
        elif path in _FIXED:
            transport.write(_FIXED[path])
        elif path.startswith(b"/dl-"):
            self._download_left = int(path[4:]) * MIB
            head = (
                "HTTP/1.1 200 OK\r\nServer: canned\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {self._download_left}\r\n\r\n"
            )
            transport.write(head.encode("ascii"))
            self._pump()
            return
        else:
            transport.write(_NOT_FOUND)
        if self._close:
            transport.close()

    @staticmethod
    def _late(transport: asyncio.Transport, close: bool) -> None:
        if not transport.is_closing():
            transport.write(_FIXED[b"/13"])
            if close:
                transport.close()

    def _pump(self) -> None:
        """Write the rest of a download while the transport takes it."""
        transport = self._transport
        assert transport is not None
        while self._download_left and not self._paused:
            piece = min(self._download_left, MIB)
            self._download_left -= piece
            transport.write(_BLOCK if piece == MIB else _BLOCK[:piece])
        if not self._download_left and self._close:
            transport.close()


async def _serve(port: int, tls_port: int, tmp: str, serve_all: bool) -> None:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(Path(tmp, "server.pem")), str(Path(tmp, "server.key")))
    server = await loop.create_server(lambda: _Canned(serve_all), "127.0.0.1", port, backlog=8192)
    tls_server = await loop.create_server(
        lambda: _Canned(serve_all), "127.0.0.1", tls_port, backlog=8192, ssl=context
    )
    async with server, tls_server:
        await asyncio.gather(server.serve_forever(), tls_server.serve_forever())


def _main() -> None:
    from ._common import raise_fd_limit

    raise_fd_limit()
    port, tls_port, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    serve = _serve(port, tls_port, tmp, "--all" in sys.argv[4:])
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        asyncio.run(serve)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve)


if __name__ == "__main__":
    _main()
